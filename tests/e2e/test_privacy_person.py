"""Browser test: HR answers an access request and then an erasure request from the Employee page, clicking only.

HR downloads Dana's archive ("Export personal data"), then opens "Erase personal data…", reads what will be erased
and what stays, mistypes the employee number (told so next to the field), types it right with a reason, and sees the
success message; the employee list then shows "Erased person #N". See test_evidence_flow.py for why Chromium is
Debian's, why the test skips without it and why DJANGO_ALLOW_ASYNC_UNSAFE is set for this test only.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from django.db import connections

from apps.evidence.models import Evidence
from tests.e2e.test_evidence_flow import BROWSER_TEST_MARKS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, sync_playwright
from tests.privacy.person_history import person_with_history, staff

try:
    from playwright.sync_api import Page, expect
except ImportError:  # a dev machine without the dev requirements
    Page = expect = None

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def company(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    people = staff()
    dana = person_with_history(people, prefix="dana", number="E-7012")
    return {"people": people, "dana": dana}


@pytest.fixture
def hr_page(live_server, company, monkeypatch) -> Iterator[Page]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see test_evidence_flow.py
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=live_server.url, accept_downloads=True)
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            page.goto("/admin/login/?next=/admin/")
            page.get_by_label("Username").fill(company["people"].hr.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="HR home")).to_be_visible()
            yield page
        finally:
            context.close()
            browser.close()
            connections.close_all()  # see test_evidence_flow.py: the test body's second connection


def test_hr_exports_then_erases_an_employee_from_the_admin(hr_page, company):
    dana = company["dana"]
    page = hr_page
    page.goto(f"/admin/org/employee/{dana.employee.pk}/change/")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export personal data").click()
    download = download_info.value
    assert download.suggested_filename.startswith("personal-data-E-7012-")
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))  # noqa: SIM115 - read at once
    assert json.loads(archive.read("manifest.json"))["person"]["employee_number"] == "E-7012"

    page.get_by_role("link", name="Erase personal data…").click()
    expect(page.locator("#what-is-erased")).to_contain_text("Evidence")
    expect(page.locator("#what-stays")).to_contain_text("1 decided case")
    page.get_by_label("Reason").fill("Erasure request by e-mail of 3 March, identity checked.")
    page.get_by_label("Type to confirm").fill("E-7013")
    page.get_by_role("button", name="Erase personal data").click()
    expect(page.get_by_text("This is not E-7012")).to_be_visible()
    assert Evidence.objects.get(pk=dana.evidence.pk).title == dana.markers["title"]

    page.get_by_label("Reason").fill("Erasure request by e-mail of 3 March, identity checked.")
    page.get_by_label("Type to confirm").fill("E-7012")
    page.get_by_role("button", name="Erase personal data").click()
    expect(page.locator("ul.messagelist li.success")).to_contain_text("Erased the personal data of Erased person #")

    page.goto("/admin/org/employee/")
    expect(page.get_by_text(f"Erased person #{dana.employee.pk}")).to_be_visible()
    expect(page.get_by_text(dana.markers["name"])).to_have_count(0)
