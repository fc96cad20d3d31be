// What a reader sees on the loaded page, measured in the browser (conftest.Surveyor runs it
// once per page and scheme; the tests assert on the returned record).
() => {
  const article =
    document.querySelector("article.md-content__inner") ||
    document.querySelector(".md-content") ||
    document.body;

  // Colours as [r, g, b, a] with r, g, b in 0..255 and a in 0..1.
  const probe = document.createElement("canvas").getContext("2d");
  function parseColor(value) {
    let match = value.match(/^rgba?\(([\d.]+),?\s*([\d.]+),?\s*([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\)$/);
    if (match) {
      let alpha = match[4] === undefined ? 1 : parseFloat(match[4]);
      if (match[4] && match[4].endsWith("%")) alpha /= 100;
      return [+match[1], +match[2], +match[3], alpha];
    }
    match = value.match(/^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.]+))?\)$/);
    if (match) {
      return [match[1] * 255, match[2] * 255, match[3] * 255, match[4] === undefined ? 1 : +match[4]];
    }
    // Anything else (oklch, color-mix, ...): let a canvas convert it.
    probe.clearRect(0, 0, 1, 1);
    probe.fillStyle = value;
    probe.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = probe.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  }
  function over(top, bottom) {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  }
  function luminance(color) {
    const [r, g, b] = color.slice(0, 3).map((c) => {
      c /= 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function contrast(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  // The colour behind an element: its and its ancestors' backgrounds composited, over white.
  function background(element) {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const color = parseColor(getComputedStyle(e).backgroundColor);
      if (color[3] > 0) layers.push(color);
      if (color[3] >= 1) break;
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  }
  function visible(element) {
    const rect = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    return rect.width > 0 && rect.height > 0 && style.visibility === "visible" && style.opacity !== "0";
  }
  const css = (c) => `rgb(${c.slice(0, 3).map(Math.round).join(", ")})`;

  // Text colour against background for links (and the active nav item and the header title).
  const links = [];
  const textual = [
    ...document.querySelectorAll("a[href]"),
    ...document.querySelectorAll(".md-nav__link--active, .md-header__title"),
  ];
  for (const element of new Set(textual)) {
    const text = element.innerText.trim();
    if (!text || !visible(element)) continue;
    const bg = background(element);
    const fg = over(parseColor(getComputedStyle(element).color), bg);
    links.push({
      text: text.slice(0, 40),
      where: element.closest(".md-header")
        ? "header"
        : element.closest(".md-sidebar")
          ? "sidebar"
          : element.closest(".md-footer")
            ? "footer"
            : "content",
      color: css(fg),
      background: css(bg),
      ratio: Math.round(contrast(fg, bg) * 100) / 100,
    });
  }

  // Every code/output block of the content.
  const pres = [...article.querySelectorAll("pre")].map((pre) => {
    const elements = [pre, ...pre.querySelectorAll("code")];
    const wrapping = elements
      .map((e) => getComputedStyle(e))
      .filter((s) => (s.textWrapMode ? s.textWrapMode !== "nowrap" : !["pre", "nowrap"].includes(s.whiteSpace)))
      .map((s) => s.whiteSpace);
    const text = pre.innerText;
    // Where the characters go: the content box of the code element (pre's, if code is inline).
    const code = pre.querySelector(":scope > code");
    const inner = code && getComputedStyle(code).display !== "inline" ? code : pre;
    const box = getComputedStyle(inner);
    const textWidth =
      inner.getBoundingClientRect().width -
      ["paddingLeft", "paddingRight", "borderLeftWidth", "borderRightWidth"]
        .map((side) => parseFloat(box[side]))
        .reduce((a, b) => a + b);
    return {
      width: Math.round(pre.getBoundingClientRect().width * 10) / 10,
      textWidth: Math.round(textWidth * 10) / 10,
      nested: !!pre.parentElement.closest("details, .admonition, table, li, blockquote, .tabbed-set"),
      highlighted: !!pre.querySelector("span[class]:not(:empty)"),
      wrapping,
      start: text.trim().slice(0, 60),
      bar: text.includes("%|") ? text : null,
    };
  });

  // Highlighting: the style of the first token of each class in a code block.
  const tokens = {};
  for (const cls of ["k", "kn", "kc", "n", "nn", "nb", "nf", "o", "ow", "p", "mi", "mf", "s1", "s2", "c1"]) {
    const span = article.querySelector(`pre span.${cls}`);
    if (!span) continue;
    const style = getComputedStyle(span);
    tokens[cls] = { color: style.color, weight: style.fontWeight, style: style.fontStyle };
  }
  const code = article.querySelector("pre code") || article.querySelector("pre");
  const codeFont = code
    ? { size: getComputedStyle(code).fontSize, family: getComputedStyle(code).fontFamily }
    : null;

  // Text a reader reads (not code, not typeset math) and what is left of TeX in it.
  const prose = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      node.parentElement.closest("pre, code, mjx-container, script, style, .MathJax")
        ? NodeFilter.FILTER_REJECT
        : NodeFilter.FILTER_ACCEPT,
  });
  while (walker.nextNode()) prose.push(walker.currentNode.textContent);
  const proseText = prose.join("");
  const rawTex = proseText.match(/\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\n]{0,80}[\\^_{}][^$\n]{0,80}\$/g) || [];
  const prompts = article.innerText.match(/\b(?:In|Out)\s?\[\s*\d*\s*\]:?/g) || [];

  return {
    scheme: document.body.getAttribute("data-md-color-scheme"),
    title: document.title,
    links,
    pres,
    tokens,
    codeFont,
    mathElements: article.querySelectorAll("mjx-container").length,
    rawTex: rawTex.slice(0, 5),
    prompts: prompts.slice(0, 5),
    solutions: [...article.querySelectorAll("details.solution")].map((d) => d.open),
  };
}
