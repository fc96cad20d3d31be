"""Fixtures for the browser tests: the built site served under a sub-path, and Chromium.

The site is not built here: `nox -s browser` builds it first (`mkdocs build --strict` into
site/); point ``SITE_DIR`` at another build to test that one. It is served by the standard
library on 127.0.0.1 under ``/pytorch-fundamentals/``, the path of the deployed site
(``site_url`` in mkdocs.yml), so a page that uses an absolute path fails here as it would
there. Chromium is the system's (``/usr/bin/chromium``, Debian's package) where installed,
else Playwright's own (``playwright install chromium``).

Each page is loaded once per colour scheme (and tutorial pages once more at phone width) by
`Surveyor`, which records what the tests assert on; the tests then read the record.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE_DIR = Path(os.environ.get("SITE_DIR", ROOT / "site")).resolve()
PREFIX = "/pytorch-fundamentals/"
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
MISSING_PAGE = "no-such-page/"  # served with 404.html, as GitHub Pages does
# The reference post: tutorial pages should look like it (the issue measures against it).
REFERENCE_POST = "posts/why-pytorch/"
TUTORIAL_STEMS = sorted(
    p.stem for p in (ROOT / "tutorials").glob("*.py") if not p.name.startswith("_")
)
SURVEY_JS = (Path(__file__).parent / "survey.js").read_text(encoding="utf-8")


def site_pages() -> list[str]:
    """Every page of the built site as a path under the site root ("" is the home page),
    plus the missing page that the 404 page answers."""
    if not (SITE_DIR / "index.html").is_file():
        return []  # test_site_is_built says so; `nox -s tests` deselects these tests anyway
    pages = sorted(
        "" if index.parent == SITE_DIR else f"{index.parent.relative_to(SITE_DIR).as_posix()}/"
        for index in SITE_DIR.rglob("index.html")
        if index.relative_to(SITE_DIR).parts[0] not in {"assets", "search"}
    )
    if (SITE_DIR / "404.html").is_file():
        pages.append(MISSING_PAGE)
    return pages


def is_tutorial(path: str) -> bool:
    return re.fullmatch(r"tutorials/\d\d_\w+/", path) is not None


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves SITE_DIR under PREFIX only; anything else is a 404 (so is an absolute path that
    skips the prefix), and a missing page gets 404.html as on GitHub Pages."""

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        if not path.startswith(PREFIX):
            return str(SITE_DIR / "\0outside-the-site")
        return super().translate_path("/" + path[len(PREFIX) :])

    def send_error(self, code, message=None, explain=None):
        page = SITE_DIR / "404.html"
        if code != 404 or not page.is_file() or not self.path.startswith(PREFIX):
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):  # quiet: pytest shows failures, not every request
        pass


@pytest.fixture(scope="session")
def base_url():
    """The site's root URL on a free port of 127.0.0.1, ending in PREFIX."""
    if not (SITE_DIR / "index.html").is_file():
        pytest.fail(f"no built site in {SITE_DIR}: run `nox -s browser`, or set SITE_DIR")
    handler = functools.partial(SiteHandler, directory=str(SITE_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None
        chromium = playwright.chromium.launch(executable_path=executable)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """What one page load showed: the survey (survey.js) and what happened on the wire."""

    path: str
    url: str
    survey: dict = field(default_factory=dict)
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    outside_prefix: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    axe: list[dict] = field(default_factory=list)


class Surveyor:
    """Loads pages in one browser context (a colour scheme and a width) and keeps, per page,
    the record of its first load."""

    def __init__(self, browser, base_url: str, scheme: str, viewport: dict, axe: bool):
        self.base_url = base_url
        self.axe = axe
        self.context = browser.new_context(
            color_scheme="dark" if scheme == "slate" else "light",
            viewport=viewport,
            reduced_motion="reduce",
        )
        self.context.route("**/*", self._route)
        self.visits: dict[str, Visit] = {}

    def _route(self, route):
        # Nothing leaves this machine; the request is still recorded by the page's listener.
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def open(self, path: str, idle: bool = True):
        """A new tab on the page, with listeners recording into a fresh Visit; with ``idle``,
        returns once the network has been idle for 500 ms (else once MathJax is done)."""
        url = self.base_url + path
        visit = Visit(path=path, url=url)
        page = self.context.new_page()

        def on_console(message):
            if message.type == "error":
                where = message.location.get("url", "")
                if path == MISSING_PAGE and where == url:
                    return  # the 404 status of the missing page itself is the point
                visit.console_errors.append(f"{message.text} ({where})")

        def on_request(request):
            parts = urlsplit(request.url)
            if parts.scheme not in {"http", "https", "ws", "wss"}:
                return
            visit.requested.append(request.url)
            if parts.hostname != "127.0.0.1":
                visit.foreign_requests.append(request.url)
            elif not parts.path.startswith(PREFIX):
                visit.outside_prefix.append(request.url)

        def on_response(response):
            if response.status >= 400 and not (path == MISSING_PAGE and response.url == url):
                visit.failed.append(f"{response.status} {response.url}")

        def on_failed(request):
            if urlsplit(request.url).hostname == "127.0.0.1":  # others are blocked on purpose
                visit.failed.append(f"{request.failure} {request.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: visit.console_errors.append(f"uncaught: {error}"))
        page.on("request", on_request)
        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        page.goto(url, wait_until="load")
        if idle:
            page.wait_for_load_state("networkidle")
        # MathJax typesets after load; wait for it where the page loads it.
        page.evaluate("() => window.MathJax?.startup?.promise")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        return page, visit

    def visit(self, path: str) -> Visit:
        if path not in self.visits:
            page, visit = self.open(path, idle=False)
            try:
                visit.survey = page.evaluate(SURVEY_JS)
                if self.axe:
                    visit.axe = run_axe(page)
                # Whatever the page still fetches (search index, fonts) is recorded too.
                page.wait_for_load_state("networkidle")
            finally:
                page.close()
            self.visits[path] = visit
        return self.visits[path]

    def close(self):
        self.context.close()


def run_axe(page) -> list[dict]:
    """axe-core's serious and critical violations on the page, one entry per rule."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "count": len(violation["nodes"]),
            "first": violation["nodes"][0]["target"] if violation["nodes"] else None,
            "summary": (violation["nodes"][0].get("failureSummary") or "")[:300]
            if violation["nodes"]
            else "",
        }
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


@pytest.fixture(scope="session")
def light(browser, base_url):
    """Pages at 1400 px in the light scheme (the reader's system asks for light)."""
    surveyor = Surveyor(browser, base_url, "default", DESKTOP, axe=True)
    yield surveyor
    surveyor.close()


@pytest.fixture(scope="session")
def dark(browser, base_url):
    """Pages at 1400 px in the dark scheme (the reader's system asks for dark)."""
    surveyor = Surveyor(browser, base_url, "slate", DESKTOP, axe=True)
    yield surveyor
    surveyor.close()


@pytest.fixture(scope="session")
def phone(browser, base_url):
    """Pages at 390 px, light scheme, no axe run."""
    surveyor = Surveyor(browser, base_url, "default", PHONE, axe=False)
    yield surveyor
    surveyor.close()
