"""Slim down the HTML that mkdocs-jupyter renders for a notebook page.

mkdocs-jupyter inlines about 600 KB of notebook CSS, a copy-button script and a MathJax 2
loader (from a CDN) into every page, and embeds every figure as base64. Here:

* inline ``<style>`` blocks move to one shared file named by its content hash, so the
  browser fetches them once for the whole site;
* the MathJax 2 and Mermaid loaders (both from a CDN) are dropped: the site serves MathJax 3
  itself, for every page, and no tutorial draws Mermaid diagrams;
* the per-cell copy button (an SVG, a custom element, a script and a hidden second copy of
  the code) is dropped: code becomes ``<pre><code>``, which Material's own copy button serves;
* empty layout wrappers (the cells' collapsers) are dropped, and so are the highlighting
  spans of plain names, punctuation and whitespace, which make up half of a code cell's
  markup (names have no colour of their own; punctuation takes the text colour);
* figures become PNG files next to the page;
* sphinx-gallery's ``<div class="alert ...">`` callouts become Material admonitions.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

_STYLE = re.compile(r"<style[^>]*>(.*?)</style>\s*", re.S)
_SCRIPT = re.compile(r"<script[^>]*>.*?</script>\s*", re.S)
_LOADERS = re.compile(
    r"<!-- Load (?:mathjax|mermaid JS) -->.*?<!-- End of (?:mathjax|mermaid) configuration -->\s*",
    re.S,
)
_COPY_BUTTON = re.compile(
    r'<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>\s*', re.S
)
_COPY_TEXT = re.compile(r'<div class="clipboard-copy-txt"[^>]*>.*?</div>\s*', re.S)
_CODE = re.compile(
    r'(<div class="highlight-ipynb[^"]*"><pre>)(?:<span></span>)?(.*?)(</pre>)', re.S
)
_PLAIN_TOKEN = re.compile(r'<span class="(?:n|p|w)">([^<]*)</span>')
_EMPTY_COLLAPSER = re.compile(r'<div class="jp-Collapser[^"]*">\s*</div>\s*')
_DATA_IMAGE = re.compile(r'src="data:image/(png|jpeg|gif);base64,([A-Za-z0-9+/=\s]+)"')
_ALERT = re.compile(r'<div class="alert alert-(\w+)">\s*<h4>(.*?)</h4>', re.S)
_NO_ALT = 'alt="No description has been provided for this image"'

# sphinx-gallery writes note -> alert-info and warning -> alert-danger.
_ADMONITION = {"info": "note", "danger": "warning", "warning": "warning", "success": "success"}


@dataclass
class SlimPage:
    """A notebook page's HTML with its bulky parts split out as separate files."""

    html: str
    shared: dict[str, str] = field(default_factory=dict)  # site path -> CSS text
    figures: dict[str, bytes] = field(default_factory=dict)  # file name -> PNG bytes


def _shared_name(kind: str, text: str) -> str:
    return f"assets/notebook-{hashlib.sha256(text.encode()).hexdigest()[:12]}.{kind}"


def slim_notebook_html(html: str, *, page_name: str) -> SlimPage:
    """Split CSS, scripts and figures out of ``html``; links are left as site paths.

    Shared files are referenced with the placeholder ``{{root}}``, which the caller replaces
    with the page's relative path to the site root.
    """
    page = SlimPage(html)
    css = "\n".join(match.group(1).strip() for match in _STYLE.finditer(html))
    html = _STYLE.sub("", html)
    links = []
    if css:
        name = _shared_name("css", css)
        page.shared[name] = css + "\n"
        links.append(f'<link rel="stylesheet" href="{{{{root}}}}{name}">')

    html = _LOADERS.sub("", html)
    html = _COPY_BUTTON.sub("", html)
    html = _COPY_TEXT.sub("", html)
    html = _SCRIPT.sub("", html)  # what is left: the copy button's script

    def plain_code(match: re.Match) -> str:
        code = _PLAIN_TOKEN.sub(lambda token: token.group(1), match.group(2))
        return f"{match.group(1)}<code>{code}</code>{match.group(3)}"

    html = _CODE.sub(plain_code, html)
    html = _EMPTY_COLLAPSER.sub("", html)

    def move_figure(match: re.Match) -> str:
        name = f"{page_name}-figure-{len(page.figures) + 1}.{match.group(1)}"
        page.figures[name] = base64.b64decode(re.sub(r"\s", "", match.group(2)))
        return f'src="{name}"'

    html = _DATA_IMAGE.sub(move_figure, html)
    html = html.replace(_NO_ALT, 'alt="Figure produced by the code above"')

    def admonition(match: re.Match) -> str:
        kind = _ADMONITION.get(match.group(1), "note")
        return f'<div class="admonition {kind}"><p class="admonition-title">{match.group(2)}</p>'

    html = _ALERT.sub(admonition, html)
    page.html = "\n".join(links) + "\n" + html
    return page
