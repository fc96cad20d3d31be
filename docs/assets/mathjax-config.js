// MathJax 3, served by this site (assets/mathjax/) and loaded only on pages with math
// (docs/overrides/main.html). It typesets the arithmatex spans, \( \) and \[ \], that
// pymdownx.arithmatex writes in the posts and the build writes for the tutorials' TeX;
// everything else on the page is left alone.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
