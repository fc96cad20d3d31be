// Site behaviour on top of Material's own JavaScript (document$ emits once per page).
//
// * Copy that runs: the copy button of a `pycon` block (an interactive session: `>>> `
//   prompts, then output) copies only the code, without prompts and outputs, the way
//   sphinx-copybutton does, so that the copied text runs in `python`. Material copies a code
//   element's `data-copy` attribute instead of its text when it has one.
// * Material's search dialog gets a name for screen readers.
// * A table wider than the column scrolls in its wrapper; the wrapper then takes keyboard
//   focus, so that it can be scrolled without a mouse (as Material does for code blocks).

// The code of a pycon block: the lines that start with a prompt (Pygments' `gp` token,
// `>>> ` or `... `), without it.
function pyconSource(code) {
  var lines = [];
  var line = "";
  var isCode = false;
  var atStart = true;
  function endLine() {
    if (isCode) lines.push(line);
    line = "";
    isCode = false;
    atStart = true;
  }
  code.childNodes.forEach(function (node) {
    var prompt = node.nodeType === Node.ELEMENT_NODE && node.classList.contains("gp");
    node.textContent.split("\n").forEach(function (part, index) {
      if (index > 0) endLine();
      if (part === "") return;
      if (atStart && prompt) {
        isCode = true;
      } else {
        line += part;
      }
      atStart = false;
    });
  });
  endLine();
  return lines.join("\n") + "\n";
}

document$.subscribe(function () {
  document.querySelectorAll(".language-pycon code").forEach(function (code) {
    code.setAttribute("data-copy", pyconSource(code));
  });
  var search = document.querySelector('.md-search[role="dialog"]');
  if (search) search.setAttribute("aria-label", "Search");
  focusScrollingTables();
});

function focusScrollingTables() {
  document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap) {
    if (wrap.scrollWidth > wrap.clientWidth) {
      wrap.setAttribute("tabindex", "0");
    } else {
      wrap.removeAttribute("tabindex");
    }
  });
}

window.addEventListener("resize", focusScrollingTables);
