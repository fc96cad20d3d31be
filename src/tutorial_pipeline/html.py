"""Rebuild the HTML that mkdocs-jupyter renders for a notebook as a page that reads like a post.

mkdocs-jupyter (with ``no_prompt: true``) renders each cell inside JupyterLab's layout:
nested wrappers with tab stops, a copy button with a hidden second copy of the code, 600 KB
of inline JupyterLab CSS, MathJax 2 and Mermaid loaders from a CDN, base64 figures. Here
each cell's content is kept and laid out the way Material lays out a post:

* a Markdown cell is its HTML, with heading permalinks as Material's ``headerlink`` and TeX
  (``$...$``, as sphinx-gallery writes ``:math:``) as the posts' arithmatex spans (the reST
  admonitions are already Material's, from `rst`);
* a code cell is a Material code block (``language-python highlight``, every Pygments token
  kept: the posts' colours and copy button), followed by its outputs: text as
  ``<pre><code>`` that scrolls sideways, excluded from search; figures as PNG files next to
  the page, with alt text from the section's heading and the figure's titles;
* a cell tagged ``solution`` (an exercise's reference solution) is a closed ``<details>``;
* everything else (CSS, scripts, prompts, wrappers, cell toolbars) is dropped: the site's
  own stylesheet and Material's JavaScript serve every page.
"""

from __future__ import annotations

import base64
import html as html_lib
import re
from dataclasses import dataclass, field

_DIV = re.compile(r"<div\b[^>]*>|</div>")
_CELL = re.compile(r'<div class="jp-Cell (jp-MarkdownCell|jp-CodeCell)\b([^"]*)">')
_MARKDOWN = re.compile(r'<div class="[^"]*\bjp-RenderedMarkdown\b[^"]*"[^>]*>')
_CODE = re.compile(
    r'<div class="highlight-ipynb[^"]*"><pre>(?:<span></span>)?(.*?)</pre></div>', re.S
)
_OUTPUT = re.compile(r'<div class="([^"]*\bjp-OutputArea-output\b[^"]*)"[^>]*>')
_TEXT_OUTPUT = re.compile(r"^\s*<pre>(.*)</pre>\s*$", re.S)
_IMAGE = re.compile(
    r'<img\b[^>]*\bsrc="data:image/(png|jpeg|gif);base64,([A-Za-z0-9+/=\s]+)"[^>]*>'
)

_ANCHOR = re.compile(r'<a class="anchor-link" href="#([^"]*)">¶</a>')
_HEADING = re.compile(r"<h[1-6]\b[^>]*>(.*?)</h[1-6]>", re.S)
_ID_HEADING = re.compile(r'<h([1-6]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_TAG = re.compile(r"<[^>]+>")

# TeX in a Markdown cell, outside code: \begin{env}...\end{env} (sphinx-gallery's rendering
# of ``.. math::``), $$display$$ and $inline$ (not \$, not $$).
_SKIP_MATH = re.compile(r"(<code\b.*?</code>|<pre\b.*?</pre>)", re.S)
_ENVIRONMENT = re.compile(r"\\begin\{([A-Za-z]+\*?)\}.*?\\end\{\1\}", re.S)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)((?:[^$\n]|\n(?!\n))+?)(?<![\\\s])\$(?!\$)")

# Titles a figure's code gives it: set_title("..."), plt.title("..."), suptitle("...").
_FIGURE_TITLE = re.compile(r"""(?:set_title|\btitle|suptitle)\(\s*(["'])((?:(?!\1).)+)\1""")


@dataclass
class TutorialPage:
    """A notebook page's HTML, with its figures split out as files to write next to it."""

    html: str
    figures: dict[str, bytes] = field(default_factory=dict)  # file name -> image bytes


def toc_tokens(html: str) -> list[dict]:
    """The headings of ``html`` as MkDocs toc tokens (nested by level), named by their full
    text: mkdocs-jupyter's own toc leaves out the code in a heading."""
    root: dict = {"level": 0, "children": []}
    stack = [root]
    for match in _ID_HEADING.finditer(html):
        level = int(match.group(1))
        token = {"level": level, "id": match.group(2), "children": []}
        token["name"] = html_lib.escape(_plain_text(match.group(3)), quote=False)
        while stack[-1]["level"] >= level:
            stack.pop()
        stack[-1]["children"].append(token)
        stack.append(token)
    return root["children"]


def _element_end(html: str, start: int) -> int:
    """The index just past the ``</div>`` that closes the ``<div>`` opening at ``start``."""
    depth = 0
    for match in _DIV.finditer(html, start):
        depth += -1 if match.group(0) == "</div>" else 1
        if depth == 0:
            return match.end()
    raise ValueError(f"unbalanced <div> at {start}")


def _inner(html: str, opening: re.Match) -> str:
    """The content of the ``<div>`` whose opening tag ``opening`` matched."""
    return html[opening.end() : _element_end(html, opening.start()) - len("</div>")]


def _plain_text(fragment: str) -> str:
    fragment = re.sub(r'<a class="headerlink".*?</a>', "", fragment)
    return " ".join(html_lib.unescape(_TAG.sub("", fragment)).split())


def _math(text: str) -> str:
    """``$...$`` and ``$$...$$`` as arithmatex spans, outside code; the posts' markup."""

    def convert(part: str) -> str:
        part = _ENVIRONMENT.sub(r'<span class="arithmatex">\g<0></span>', part)
        part = _DISPLAY_MATH.sub(r'<span class="arithmatex">\\[\1\\]</span>', part)
        return _INLINE_MATH.sub(r'<span class="arithmatex">\\(\1\\)</span>', part)

    return "".join(
        part if index % 2 else convert(part) for index, part in enumerate(_SKIP_MATH.split(text))
    )


def _markdown(fragment: str) -> str:
    fragment = _ANCHOR.sub(
        r'<a class="headerlink" href="#\1" title="Permanent link">&para;</a>', fragment
    )
    return _math(fragment).strip()


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


class _Renderer:
    def __init__(self, page_name: str):
        self.page = TutorialPage("")
        self.page_name = page_name
        self.heading = ""
        self.in_cell = 0  # figures shown so far by the current code cell

    def markdown_cell(self, cell: str) -> str:
        opening = _MARKDOWN.search(cell)
        if opening is None:
            return ""
        fragment = _markdown(_inner(cell, opening))
        headings = _HEADING.findall(fragment)
        if headings:
            self.heading = _plain_text(headings[-1])
        return fragment

    def code_cell(self, cell: str, classes: str) -> str:
        code = _CODE.search(cell)
        source = html_lib.unescape(_TAG.sub("", code.group(1))) if code else ""
        parts = []
        self.in_cell = 0
        if code and source.strip():
            parts.append(
                '<div class="language-python highlight"><pre><span></span>'
                f"<code>{code.group(1).rstrip()}</code></pre></div>"
            )
        outputs = list(_OUTPUT.finditer(cell))
        images = sum("jp-RenderedImage" in output.group(1) for output in outputs)
        alt = self.heading or "Figure"
        titles = [match.group(2) for match in _FIGURE_TITLE.finditer(source)]
        if titles:
            alt += ": " + "; ".join(titles)
        shown = [self.output(cell, output, alt, images) for output in outputs]
        if shown:  # Material's "result" box, right under the code that printed it
            parts.append(
                '<div class="result nb-output no-copy" data-search-exclude>\n'
                + "\n".join(shown)
                + "\n</div>"
            )
        body = "\n".join(part for part in parts if part)
        if "celltag_solution" in classes.split():
            return f'<details class="solution">\n<summary>Solution</summary>\n{body}\n</details>'
        return body

    def output(self, cell: str, output: re.Match, alt: str, images: int) -> str:
        """One output: text (stdout, stderr such as a progress bar, a value's repr) as a
        ``<pre><code>`` that Material makes scrollable, a figure, or rich HTML as it is."""
        classes = output.group(1).split()
        inner = _inner(cell, output)
        if "jp-RenderedImage" in classes:
            return self.figure(inner, alt, images)
        text = _TEXT_OUTPUT.match(inner)
        if "jp-RenderedText" in classes and text:
            return f"<pre><code>{text.group(1).rstrip()}</code></pre>"
        return f'<div class="nb-rich">{inner.strip()}</div>'

    def figure(self, inner: str, alt: str, images: int) -> str:
        image = _IMAGE.search(inner)
        if image is None:
            return f'<div class="nb-rich">{inner.strip()}</div>'
        name = f"{self.page_name}-figure-{len(self.page.figures) + 1}.{image.group(1)}"
        data = base64.b64decode(re.sub(r"\s", "", image.group(2)))
        self.page.figures[name] = data
        if images > 1:  # several figures from one cell: say which one
            self.in_cell += 1
            alt += f" (figure {self.in_cell} of {images})"
        size = _png_size(data)
        dimensions = f' width="{size[0]}" height="{size[1]}"' if size else ""
        return (
            f'<figure class="nb-figure"><img src="{name}" alt="{html_lib.escape(alt)}"'
            f'{dimensions} loading="lazy"></figure>'
        )


def render_notebook_html(html: str, *, page_name: str) -> TutorialPage:
    """Rebuild mkdocs-jupyter's ``html`` for a page whose figures are named ``page_name-...``."""
    renderer = _Renderer(page_name)
    parts = []
    position = 0
    while match := _CELL.search(html, position):
        end = _element_end(html, match.start())
        cell = html[match.start() : end]
        if match.group(1) == "jp-MarkdownCell":
            parts.append(renderer.markdown_cell(cell))
        else:
            parts.append(renderer.code_cell(cell, match.group(2)))
        position = end
    page = renderer.page
    page.html = "\n".join(part for part in parts if part) + "\n"
    return page
