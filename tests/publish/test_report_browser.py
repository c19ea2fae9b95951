"""The report in a real headless browser: no console errors, no request beyond
the file itself, every table and figure present and visible, no page-wide
horizontal scrolling, and screenshots to look at (under the test's tmp_path).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from registry.marts.paper import compare
from registry.publish import SiteFeedback, publish
from registry.publish.report import FIGURE_IDS, TABLE_IDS

pytestmark = pytest.mark.ui

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser_pages(tmp_path_factory):
    """A function opening a file in a fresh headless Chromium profile."""
    if not (CHROMIUM.is_file() or shutil.which("chromium")):
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = str(CHROMIUM if CHROMIUM.is_file() else shutil.which("chromium"))
    with sync_api.sync_playwright() as playwright:
        def open_page(path: Path, width: int = 1280):
            profile = tmp_path_factory.mktemp("chromium-profile")
            context = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=executable, headless=True, args=FLAGS,
                viewport={"width": width, "height": 900})
            page = context.pages[0] if context.pages else context.new_page()
            events = {"console": [], "errors": [], "requests": []}
            page.on("console", lambda m: events["console"].append((m.type, m.text)))
            page.on("pageerror", lambda e: events["errors"].append(str(e)))
            page.on("request", lambda r: events["requests"].append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            return context, page, events

        yield open_page


@pytest.fixture(scope="module")
def published_report(tmp_path_factory, fixture_marts, fixture_follow_up):
    quality = fixture_marts["site_data_quality"]
    provenance = {"data_cut": "2017-07-31", "load_id": "load-1",
                  "generated_at": "2017-08-02T10:00:00", "git_revision": "abc123",
                  "deliveries": quality[["site_id", "file_name", "data_cut", "status"]]
                  .to_dict("records")}
    import pandas as pd
    feedback = [SiteFeedback("US-001", "en", unmapped_terms=pd.DataFrame(
        {"concept": ["cancer_type"], "term": ["lung ca"], "n_rows": [2], "suggestion": ["lung"]}))]
    out = tmp_path_factory.mktemp("publish")
    result = publish(fixture_marts, out, provenance, small_cell_max=4,
                     comparison=compare(fixture_marts),
                     follow_up=fixture_follow_up, site_feedback=feedback)
    return result.report


def test_report_renders_cleanly_in_chromium(browser_pages, published_report):
    context, page, events = browser_pages(published_report)
    try:
        errors = [text for kind, text in events["console"] if kind in ("error", "warning")]
        assert errors == [] and events["errors"] == []
        assert events["requests"] == [published_report.resolve().as_uri()]
        for element_id in (*TABLE_IDS, *FIGURE_IDS):
            element = page.locator(f"#{element_id}")
            assert element.count() == 1, element_id
            assert element.is_visible(), element_id
            box = element.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, element_id
        for figure_id in FIGURE_IDS:
            svg = page.locator(f"#{figure_id} svg").bounding_box()
            assert svg and svg["width"] > 300 and svg["height"] > 100, figure_id
        # The at-risk row sits under the axis ticks: same x, inside the figure.
        assert page.locator("#figure-km svg text", has_text="Number at risk").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        shots = published_report.parent / "screenshots"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / "report.png"), full_page=True)
        for figure_id in FIGURE_IDS:
            page.locator(f"#{figure_id}").screenshot(path=str(shots / f"{figure_id}.png"))
        assert (shots / "report.png").stat().st_size > 10_000
    finally:
        context.close()


def test_report_fits_a_narrow_window(browser_pages, published_report):
    """Wide tables scroll inside their own box; the page itself does not."""
    context, page, events = browser_pages(published_report, width=760)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 760
        shots = published_report.parent / "screenshots"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / "report-narrow.png"),
                        full_page=False)
    finally:
        context.close()
