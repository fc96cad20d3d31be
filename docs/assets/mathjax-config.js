// MathJax 3, served by this site (assets/mathjax/), typesets two kinds of math:
// pymdownx.arithmatex output in the posts (\( \) and \[ \]) and $...$ in the tutorials'
// Markdown cells. Code and outputs are <pre>/<code>, which MathJax always skips.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
};
