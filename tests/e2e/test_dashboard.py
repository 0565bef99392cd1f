"""Browser test: Leadership opens the dashboard in Debian's Chromium with every outside request blocked; the charts
render (drawn, coloured by the app's own stylesheet), a chart's link opens its table with the filters, the table
sorts and downloads, and screenshots are kept.

See tests/e2e/test_evidence_flow.py for why Playwright drives /usr/bin/chromium, why the test skips without it, and
why DJANGO_ALLOW_ASYNC_UNSAFE is set for this test only.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connections

from tests.e2e.test_evidence_flow import BROWSER_TEST_MARKS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, sync_playwright
from tests.reports.conftest import build_company

try:
    from playwright.sync_api import Page, expect
except ImportError:  # a dev machine without the dev requirements
    Page = expect = None

# Where the screenshot goes: RC_SCREENSHOT_DIR (CI can keep it as an artefact), else the test's temporary folder.
SCREENSHOT_DIR = os.environ.get("RC_SCREENSHOT_DIR")

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def company(transactional_db):
    return build_company()


@pytest.fixture
def browser_page(live_server, company, monkeypatch):
    """A page whose every request outside the live server is refused and remembered."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    own = urlparse(live_server.url).netloc
    outside: list[str] = []

    def guard(route):  # type: ignore[no-untyped-def]
        url = route.request.url
        if urlparse(url).netloc == own or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(
            base_url=live_server.url, accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        context.route("**/*", guard)
        try:
            page = context.new_page()
            page.outside_requests = outside  # type: ignore[attr-defined]
            yield page
        finally:
            context.close()
            browser.close()
            connections.close_all()


def sign_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_dashboard_charts_lead_to_their_tables_without_network(browser_page: Page, tmp_path: Path):
    page = browser_page
    sign_in(page, "leader")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()

    expect(page.get_by_role("heading", name="Compliance dashboard")).to_be_visible()
    for name in ("Compliance at decision by ritual", "Compliance at decision by customer layer",
                 "Compliance at decision by unit", "Trend across cycles", "Evidence mix",
                 "Units taking part by customer layer"):  # fmt: skip
        expect(page.get_by_role("img", name=name)).to_be_visible()
    # The bars are drawn with a width and filled by reports.css (served by the app): #1f4e8c for the first series.
    bar = page.locator('[data-chart="chart-units"] rect.bar').first
    box = bar.bounding_box()
    assert box is not None and box["width"] > 20
    assert bar.evaluate("el => getComputedStyle(el).fill") == "rgb(31, 78, 140)"
    assert page.locator('[data-chart="chart-trend"] rect.bar').count() == 2  # H1 decided, H2 open
    assert page.locator('[data-chart="chart-mix"] rect.bar').count() >= 3
    expect(page.locator('[data-figure="compliant"]')).to_have_text("50%")
    assert page.locator("table").count() == 0  # the first screen has figures and charts, no table

    folder = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    for chart in ("chart-units", "chart-trend", "chart-mix"):
        figure = page.locator("figure", has=page.locator(f'[data-chart="{chart}"]'))
        figure.screenshot(path=str(folder / f"{chart}.png"))
    assert shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # From the unit chart to its table, filtered to Finance on the first screen: the filter follows.
    page.get_by_label("Unit", exact=True).select_option("finance")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("link", name="See the table: compliance by unit").click()
    expect(page.get_by_role("heading", name="Compliance by unit", level=1)).to_be_visible()
    assert "unit=finance" in page.url
    expect(page.get_by_role("row", name="Payroll")).to_contain_text("3")
    expect(page.get_by_role("row", name="Front desk")).to_have_count(0)
    page.get_by_role("link", name="Unit", exact=True).click()
    page.get_by_role("link", name="Unit ▲").click()  # a second click reverses the order
    assert "sort=-unit" in page.url and "unit=finance" in page.url
    expect(page.locator("tbody tr").first).to_contain_text("Payroll")
    page.screenshot(path=str(folder / "dashboard-table.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download Compliance by unit as CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("ritual-criteria-compliance-")
    assert "Compliance by unit" in Path(download.path()).read_text(encoding="utf-8-sig")

    assert page.outside_requests == []  # type: ignore[attr-defined]


def test_an_employee_is_refused(browser_page: Page):
    page = browser_page
    sign_in(page, "ann")

    response = page.goto("/reports/")

    assert response is not None and response.status == 403
    expect(page.get_by_text("for the Leadership and HR groups")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")).to_have_count(0)
