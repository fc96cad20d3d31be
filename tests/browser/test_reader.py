"""What a reader sees on the built site, in Chromium (issue 7's browser tests).

Run with `nox -s browser`, which builds the site first. The fixtures (conftest.py) serve
the site under a sub-path and load each page once per colour scheme; most tests assert on
that load's record (survey.js) so that the whole suite loads each page only a few times.
"""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest

from .conftest import (
    MISSING_PAGE,
    REFERENCE_POST,
    ROOT,
    SITE_DIR,
    TUTORIAL_STEMS,
    is_tutorial,
    site_pages,
)

# `docs` too: these need the built site, and the `gpu` session (`-m "not docs"`) skips them.
pytestmark = [pytest.mark.browser, pytest.mark.docs]

PAGES = site_pages()
TUTORIAL_PAGES = [page for page in PAGES if is_tutorial(page)]
POST_PAGES = [page for page in PAGES if page.startswith("posts/")]
SCHEMES = ["light", "dark"]
# WCAG 2 AA for normal text.
AA = 4.5


def page_id(path: str) -> str:
    return path.rstrip("/") or "home"


def static_html(path: str) -> str:
    file = SITE_DIR / ("404.html" if path == MISSING_PAGE else f"{path}index.html")
    return file.read_text(encoding="utf-8")


def has_tex(path: str) -> bool:
    """Whether the page as built holds TeX outside code: `\\(...\\)`, `$$`, `$...$` with a
    TeX command, or pymdownx.arithmatex's markup."""
    source = static_html(path)
    body = source.split('<article class="md-content__inner', 1)[-1].split("</article>", 1)[0]
    if 'class="arithmatex"' in body:
        return True
    body = re.sub(r"<(pre|code|script|style)\b.*?</\1>", " ", body, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", body))
    return re.search(r"\\\(|\\\[|\$\$|\$[^$\n]{0,80}[\\^_{}][^$\n]{0,80}\$", text) is not None


@pytest.fixture(scope="session")
def surveyors(light, dark):
    return {"light": light, "dark": dark}


def test_site_is_built():
    assert (SITE_DIR / "index.html").is_file(), f"no built site in {SITE_DIR}"
    assert TUTORIAL_PAGES, "the site has tutorial pages"
    assert len(PAGES) > len(TUTORIAL_PAGES) + len(POST_PAGES)


# -- Every page: loads cleanly, offline, math typeset, accessible -------------------------


TEX_PAGES = [page for page in PAGES if has_tex(page)]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_page_loads_without_console_errors(surveyors, scheme, path):
    visit = surveyors[scheme].visit(path)
    assert not visit.console_errors, f"console errors: {visit.console_errors}"
    assert not visit.failed, f"failed requests: {visit.failed}"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_page_requests_nothing_from_other_hosts(light, path):
    visit = light.visit(path)
    assert not visit.foreign_requests, f"requests to other hosts: {visit.foreign_requests}"
    # An absolute path (/assets/...) skips the sub-path the site is deployed under.
    assert not visit.outside_prefix, f"requests outside the site's sub-path: {visit.outside_prefix}"


def test_some_pages_have_math():
    assert TEX_PAGES, "the posts and tutorials hold TeX, so the math check has pages to check"


@pytest.mark.parametrize("path", TEX_PAGES, ids=page_id)
def test_math_renders_where_there_is_tex(light, path):
    survey = light.visit(path).survey
    assert survey["mathElements"] > 0, "MathJax typeset the page's TeX (mjx-container)"
    assert not survey["rawTex"], f"TeX left as text: {survey['rawTex']}"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_mathjax_loads_only_where_there_is_math(light, path):
    loads = [url for url in light.visit(path).requested if "mathjax" in url.lower()]
    if has_tex(path):
        assert loads, "a page with TeX loads MathJax"
    else:
        assert not loads, f"a page without TeX loads MathJax: {loads}"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_no_pre_wraps(light, path):
    wrapping = [
        {"start": pre["start"], "white-space": pre["wrapping"]}
        for pre in light.visit(path).survey["pres"]
        if pre["wrapping"]
    ]
    assert not wrapping, f"blocks that wrap instead of scrolling sideways: {wrapping}"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_link_contrast_meets_aa(surveyors, scheme, path):
    survey = surveyors[scheme].visit(path).survey
    assert survey["scheme"] == {"light": "default", "dark": "slate"}[scheme]
    assert survey["links"], "the page has links"
    low = [link for link in survey["links"] if link["ratio"] < AA]
    assert not low, f"{len(low)} links below {AA}:1 contrast, e.g. {low[:5]}"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_axe_finds_no_serious_violation(surveyors, scheme, path):
    violations = surveyors[scheme].visit(path).axe
    assert not violations, f"axe-core: serious or critical violations: {violations}"


# -- Tutorial pages read like posts --------------------------------------------------------


@pytest.mark.parametrize("path", TUTORIAL_PAGES, ids=page_id)
def test_no_prompts_on_tutorial_pages(light, path):
    prompts = light.visit(path).survey["prompts"]
    assert not prompts, f"prompt text on the page: {prompts}"


@pytest.mark.parametrize("path", TUTORIAL_PAGES, ids=page_id)
def test_solutions_are_collapsed(light, path):
    stem = path.split("/")[1]
    script = (ROOT / "tutorials" / f"{stem}.py").read_text(encoding="utf-8")
    expected = len(re.findall(r'^# %% tags=\["solution"\]', script, flags=re.M))
    solutions = light.visit(path).survey["solutions"]
    assert len(solutions) == expected, "each solution cell is a details.solution"
    assert not any(solutions), f"every solution is closed by default (open: {solutions})"


def top_level_blocks(survey: dict, highlighted: bool) -> list[dict]:
    """The code (highlighted) or output blocks in the column itself, not in an admonition, a
    details, a list or a table, which indent their content."""
    return [
        pre for pre in survey["pres"] if not pre["nested"] and pre["highlighted"] == highlighted
    ]


@pytest.mark.parametrize("kind", ["code", "output"])
@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("path", TUTORIAL_PAGES, ids=page_id)
def test_code_column_as_wide_as_posts(light, phone, width, kind, path):
    """Code cells and their outputs give the text as much width as a post's code block does
    (at 1400 and 390 px): the width of the content box that the lines are set in."""
    surveyor = {"desktop": light, "phone": phone}[width]
    reference = top_level_blocks(surveyor.visit(REFERENCE_POST).survey, highlighted=True)
    assert reference, f"{REFERENCE_POST} has a code block"
    post = reference[0]
    blocks = top_level_blocks(surveyor.visit(path).survey, highlighted=kind == "code")
    assert blocks, f"the tutorial has {kind} blocks"
    differ: dict[float, list[str]] = {}
    for block in blocks:
        if abs(block["textWidth"] - post["textWidth"]) > 2:
            differ.setdefault(block["textWidth"], []).append(
                f"{block['start'][:40]!r} (pre {block['width']} px)"
            )
    assert not differ, (
        f"a post's code block sets its text {post['textWidth']} px wide (pre {post['width']} px);"
        f" of the tutorial's {len(blocks)} {kind} blocks, "
        + ", ".join(f"{len(starts)} are {w} px, e.g. {starts[0]}" for w, starts in differ.items())
    )


BAR_LINE = re.compile(r"^(?P<desc>.*?)\s*\d{1,3}%\|", re.M)


@pytest.mark.parametrize("path", TUTORIAL_PAGES, ids=page_id)
def test_progress_bars_are_one_line(light, path):
    """A tqdm bar shows its final state once, not one line per update."""
    bars = [pre["bar"] for pre in light.visit(path).survey["pres"] if pre["bar"]]
    if path == "tutorials/05_training/":
        # One tqdm bar (it may stop short of 100%: the loop stops early), shown once.
        assert bars, "tutorial 05 shows its progress bar"
        for bar in bars:
            assert len(BAR_LINE.findall(bar)) == 1, f"the bar is one line: {bar!r}"
    repeated = []
    for bar in bars:
        counts = Counter(match["desc"] for match in BAR_LINE.finditer(bar))
        repeated += [(desc, n) for desc, n in counts.items() if n > 1]
    assert not repeated, (
        f"a bar printed more than once in one block (description, times): {repeated}"
    )


def reference_tokens(surveyor) -> tuple[dict, dict]:
    """Each token class's style in the posts (first post that has it), and the code font."""
    tokens: dict = {}
    for post in POST_PAGES:
        for cls, style in surveyor.visit(post).survey["tokens"].items():
            tokens.setdefault(cls, style)
    return tokens, surveyor.visit(REFERENCE_POST).survey["codeFont"]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", TUTORIAL_PAGES, ids=page_id)
def test_highlighting_matches_posts(surveyors, scheme, path):
    surveyor = surveyors[scheme]
    posts, post_font = reference_tokens(surveyor)
    survey = surveyor.visit(path).survey
    tutorial = survey["tokens"]
    assert "k" in tutorial and "k" in posts, "keywords are highlighted (.k) in both"
    assert tutorial["k"]["color"] == posts["k"]["color"], "keyword colour"
    missing = sorted({"k", "n", "p", "o"} - tutorial.keys())
    assert not missing, f"full highlighting: no spans of class {missing}"
    differ = {
        cls: {"tutorial": style, "posts": posts[cls]}
        for cls, style in tutorial.items()
        if cls in posts and style != posts[cls]
    }
    assert not differ, f"token styles differ from the posts': {differ}"
    assert survey["codeFont"] == post_font, "code font (size, family) as in the posts"


# -- Site features -------------------------------------------------------------------------


def test_palette_toggle_switches_scheme(light, dark):
    for surveyor, start, other in [(light, "default", "slate"), (dark, "slate", "default")]:
        page, _ = surveyor.open("")
        try:
            body = page.locator("body")
            assert body.get_attribute("data-md-color-scheme") == start, (
                "the scheme follows prefers-color-scheme"
            )
            page.locator("form[data-md-component=palette] label:visible").click()
            assert body.get_attribute("data-md-color-scheme") == other
            page.locator("form[data-md-component=palette] label:visible").click()
            assert body.get_attribute("data-md-color-scheme") == start
        finally:
            page.close()
            # The choice is remembered (localStorage): forget it for the other tests.
            surveyor.context.clear_cookies()
            cleanup, _ = surveyor.open("")
            cleanup.evaluate("() => localStorage.clear()")
            cleanup.close()


def test_gallery_has_a_card_with_an_image_for_every_tutorial(light):
    page, visit = light.open("tutorials/")
    try:
        cards = page.locator(".grid.cards > ul > li, .grid.cards > .card, .grid > .card")
        assert cards.count() == len(TUTORIAL_STEMS), "one card per tutorial"
        linked = set()
        for i in range(cards.count()):
            card = cards.nth(i)
            card.scroll_into_view_if_needed()
            image = card.locator("img").first
            image.wait_for(state="visible")
            loaded = image.evaluate(
                "img => img.decode().then(() => img.naturalWidth, () => img.naturalWidth)"
            )
            assert loaded > 0, f"card {i + 1}'s image loaded"
            hrefs = card.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
            linked |= {m for href in hrefs for m in re.findall(r"tutorials/(\d\d_\w+)/", href)}
        assert linked == set(TUTORIAL_STEMS), "every card links to its tutorial"
        assert visit.console_errors == [] and visit.failed == []
    finally:
        page.close()


# A pycon block as Pygments renders it: its first token is a `>>> ` prompt.
PYCON = '<code><span class="gp">&gt;&gt;&gt; '
COPY_BUTTON = "button.md-clipboard, button.md-code__button[data-md-type=copy]"
IS_PYCON = "block => block.querySelector('code > span.gp')?.textContent.startsWith('>>>')"


def pycon_posts() -> list[str]:
    return [path for path in POST_PAGES if PYCON in static_html(path)]


@pytest.mark.parametrize("path", pycon_posts(), ids=page_id)
def test_copied_pycon_compiles(light, base_url, path):
    """The copy button of a `pycon` block copies the code without prompts and outputs."""
    light.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page, _ = light.open(path)
    try:
        highlighted = page.locator("article div.highlight")
        blocks = [
            highlighted.nth(i)
            for i in range(highlighted.count())
            if highlighted.nth(i).evaluate(IS_PYCON)
        ]
        assert blocks, "the post shows a pycon block"
        for i, block in enumerate(blocks):
            shown = block.locator("code").inner_text()
            expected = "\n".join(
                line[4:]
                for line in shown.splitlines()
                if line.startswith((">>> ", "... ")) or line in {">>>", "..."}
            )
            page.evaluate("() => navigator.clipboard.writeText('nothing copied')")
            block.hover()
            block.locator(COPY_BUTTON).click()
            copied = page.evaluate("() => navigator.clipboard.readText()")
            prompts = [line for line in copied.splitlines() if line.startswith((">>>", "..."))]
            assert prompts == [], f"block {i + 1}: the copied text keeps the prompts"
            assert copied.rstrip("\n") == expected.rstrip("\n"), f"block {i + 1}: {shown[:80]!r}"
            compile(copied, f"<copied from {path} block {i + 1}>", "exec")
    finally:
        page.close()


PILCROW = re.compile("¶")
NOTEBOOK_PROMPT = re.compile(r"\b(?:In|Out)\s?\[\s*\d*\s*\]")
PROMPT = re.compile(r"\b(?:In|Out)\s?\[\s*\d*\s*\]|>>>")
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\$[^$\n]{0,80}[\\^_{}][^$\n]{0,80}\$")
TITLE_DIRT = (PILCROW, PROMPT, RAW_TEX)
TEXT_DIRT = (PILCROW, NOTEBOOK_PROMPT, RAW_TEX)


@pytest.mark.parametrize("term", ["state_dict", "autograd", "transfer"])
def test_search_returns_clean_results(light, term):
    page, visit = light.open("")
    try:
        page.locator("input.md-search__input").click()
        page.keyboard.type(term)  # Material searches on key events, as a reader types
        results = page.locator(".md-search-result__item")
        results.first.wait_for(timeout=20_000)
        items = results.evaluate_all(
            """items => items.map(item => ({
                href: item.querySelector("a").getAttribute("href"),
                titles: [...item.querySelectorAll("h1, h2")].map(h => h.textContent),
                text: item.textContent,
            }))"""
        )
        assert items, f"search for {term!r} finds something"
        # Titles: no pilcrow, prompt or TeX. Text (a post's teaser may quote its doctest, >>>
        # and all): no pilcrow, notebook prompt or TeX.
        dirty = {}
        for item in items:
            found = [pattern.search(title) for title in item["titles"] for pattern in TITLE_DIRT]
            found += [pattern.search(item["text"]) for pattern in TEXT_DIRT]
            found = [repr(m.string[max(0, m.start() - 20) : m.end() + 10]) for m in found if m]
            if found:
                dirty[item["href"]] = found
        assert not dirty, f"results hold pilcrows, prompts or raw TeX: {dirty}"
        top = [item["href"] for item in items[:3]]
        assert not [href for href in top if "tutorials/report" in href], (
            f"the build report is in the top 3: {top}"
        )
        assert visit.console_errors == []
    finally:
        page.close()
