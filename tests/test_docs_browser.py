"""The built documentation site in a real browser: Debian's chromium driven by Playwright.

``make docs`` builds the site into ``docs/_build/html``; ``make docs-test`` runs this file. The
site is served on loopback (as a reader's browser would load it, search index included), and
every page must load without a console error, an uncaught exception or a failed request. A
screenshot of each page goes to ``docs/_build/browser/``.

Without a built site, Playwright or a chromium the tests skip and say why, except under
``TSFORECAST_DOCS_TEST=required`` (``make docs-test``, hence ``.ci/run``): there they fail.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parent.parent / "docs" / "_build" / "html"
SHOTS = SITE.parent / "browser"
REQUIRED = os.environ.get("TSFORECAST_DOCS_TEST") == "required"
BROWSERS = ("chromium", "chromium-browser")


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (TSFORECAST_DOCS_TEST=required)")
    pytest.skip(reason)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built site at {SITE}: run `make docs` first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[docs]')")
    executable = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if executable is None:
        _unavailable("no chromium on PATH (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


class Visit:
    """A page of the site with everything that went wrong while it loaded and ran."""

    def __init__(self, browser, base_url):
        self.base_url = base_url
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.set_default_timeout(90_000)  # a loaded 2-core machine can take its time
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda message: message.type == "error" and self.errors.append(message.text),
        )
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.on("requestfailed", lambda request: self.errors.append(f"failed: {request.url}"))
        self.page.on(
            "response",
            lambda response: (
                response.status >= 400
                and self.errors.append(f"HTTP {response.status}: {response.url}")
            ),
        )

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base_url}/{path}", wait_until="networkidle")

    def screenshot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)

    def assert_clean(self) -> None:
        assert self.errors == [], f"{self.page.url}: {self.errors}"


@pytest.fixture
def visit(browser, base_url):
    page = Visit(browser, base_url)
    yield page
    page.page.close()


def _only(pattern: str) -> str:
    """The site path of the one built page matching ``pattern``."""
    (path,) = SITE.glob(pattern)
    return path.relative_to(SITE).as_posix()


def test_home_page_links_the_guide_the_gallery_and_the_api(visit):
    visit.open("index.html")
    assert "tsforecast" in visit.page.title()
    navigation = visit.page.locator("nav").first.inner_text()
    for section in ("User guide", "Gallery", "API reference"):
        assert section in navigation
    visit.screenshot("home")
    visit.assert_clean()


def test_api_page_shows_the_parameters_table(visit):
    visit.open(_only("api/**/*.LSTMRegressor.html"))
    heading = visit.page.locator("h1").inner_text()
    assert "LSTMRegressor" in heading
    fields = visit.page.locator("dl.field-list").first
    assert fields.locator("dt", has_text="Parameters").count() == 1
    names = fields.locator("dd").first.locator("dt strong").all_inner_texts()
    for name in ("units", "num_layers", "max_epochs", "learning_rate", "random_state"):
        assert name in names
    visit.screenshot("api_lstmregressor")
    visit.assert_clean()


def test_search_finds_optunasearchcv(visit):
    visit.open("index.html")
    visit.page.keyboard.press("Control+k")  # the theme's search dialog
    field = visit.page.locator("input[name='q']:visible").first
    field.fill("OptunaSearchCV")
    field.press("Enter")
    visit.page.wait_for_url("**/search.html?q=OptunaSearchCV*")
    result = visit.page.locator("#search-results a", has_text="OptunaSearchCV").first
    result.wait_for()
    visit.screenshot("search")
    result.click()
    visit.page.wait_for_load_state("networkidle")
    assert "OptunaSearchCV" in visit.page.locator("h1").inner_text()
    visit.assert_clean()


def test_gallery_page_shows_its_picture(visit):
    visit.open("auto_examples/stock_forecast.html")
    picture = visit.page.locator("img.sphx-glr-single-img").first
    picture.scroll_into_view_if_needed()
    assert "sphx_glr_stock_forecast_001" in picture.get_attribute("src")
    width = picture.evaluate("image => image.complete ? image.naturalWidth : 0")
    assert width > 500
    printed = visit.page.locator("pre").all_inner_texts()
    assert any("naive (last value)" in text for text in printed)
    visit.screenshot("gallery_stock_forecast")
    visit.assert_clean()
