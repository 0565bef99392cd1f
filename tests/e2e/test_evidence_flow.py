"""Browser test: an employee submits evidence with a file, a CX reviewer verifies it, the employee sees "Verified".

Playwright for Python drives Debian's Chromium (/usr/bin/chromium); no browser is downloaded. The test skips with a
reason when Playwright or Chromium is missing, so `make test` passes on a machine without them; .ci/run installs
Chromium.

Why DJANGO_ALLOW_ASYNC_UNSAFE: Playwright's sync API runs an asyncio event loop in the test's thread while the browser
is open, and Django refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation), because in async
code they would block the loop. Here the loop only drives the browser and the server answers from its own thread
(pytest-django's live_server), so a blocking query in the test thread harms nothing. The fixture sets the variable for
this test only (monkeypatch), never for the rest of the suite.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import connections

from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.policies.models import EvidenceCategory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # a dev machine without the dev requirements
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery"  # the factories' password
TITLE = "Rebuilt the accessible-room filter"
NOTES = b"Call with the guest on 3 March: she booked the accessible room online at last.\n"

# Every browser test carries these: the e2e marker, and a skip with the reason when Playwright or Chromium is missing.
BROWSER_TEST_MARKS = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        sync_playwright is None, reason="Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    ),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not at /usr/bin/chromium (apt-get install chromium; .ci/run does it in CI)",
    ),
]
pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def people(transactional_db):
    """Dana (front desk), her manager and a CX reviewer, all with logins."""
    # A transactional test flushes the tables, data migrations' rows included, so the category is made if missing.
    EvidenceCategory.objects.get_or_create(
        code="customer_story", defaults={"name": "Customer story", "kind": "story", "is_outcome": False}
    )
    groups = ensure_role_groups()
    front_desk = OrgUnitFactory(name="Front desk")
    manager = EmployeeFactory(full_name="Maria Head", org_unit=front_desk, user=UserFactory(username="manager"))
    dana = EmployeeFactory(
        full_name="Dana Desk", org_unit=front_desk, manager=manager, user=UserFactory(username="dana")
    )
    reviewer_user = UserFactory(username="reviewer")
    reviewer_user.groups.add(groups[Role.CX_REVIEWER])
    EmployeeFactory(full_name="Rita Viewer", org_unit=OrgUnitFactory(name="Contact centre"), user=reviewer_user)
    return {"dana": dana}


@pytest.fixture
def page(live_server, people, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see the module docstring
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=live_server.url, accept_downloads=True)
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            # Django keeps connections per context, and Playwright's sync API gives the test body a context of its
            # own: the ORM calls made inside this block opened a second connection, which must be closed here or
            # PostgreSQL refuses to drop the test database at the end of the session.
            connections.close_all()


def sign_in(page: Page, username: str) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_employee_submits_evidence_with_a_file_and_a_cx_reviewer_verifies_it(page: Page, people):
    # The employee writes the item, attaches call notes and submits it in one go.
    sign_in(page, "dana")
    expect(page.get_by_role("heading", name="My evidence")).to_be_visible()
    expect(page.get_by_text("You have no evidence yet")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New evidence").click()

    # Required fields' labels end in " *", hence the patterns.
    page.get_by_label(re.compile(r"^Title")).fill(TITLE)
    page.get_by_label(re.compile(r"^Category")).select_option(label="Customer story")
    page.get_by_label("Impact date").fill((dt.date.today() - dt.timedelta(days=7)).isoformat())
    page.get_by_label("Customer's words").fill("I could not book a room for my wheelchair on your site.")
    page.get_by_label("Where you heard it").select_option(label="Support ticket")
    page.get_by_label("Source reference").fill("TCK-4711")
    page.get_by_label("What it meant").fill("Accessible rooms were invisible to online guests.")
    page.get_by_label("What you did").fill("Rebuilt the filter and called the guest back.")
    page.get_by_label("Attach files").set_input_files(
        [{"name": "call-notes.txt", "mimeType": "text/plain", "buffer": NOTES}]
    )
    page.get_by_role("button", name="Save and submit").click()

    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_text("was submitted for review")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("Submitted")
    expect(page.get_by_role("link", name="call-notes.txt")).to_be_visible()
    sign_out(page)

    # A CX reviewer finds it in the queue, downloads the file and verifies the item.
    sign_in(page, "reviewer")
    page.get_by_role("link", name="Review queue").click()
    row = page.get_by_role("row", name=re.compile(TITLE))
    expect(row).to_contain_text("Dana Desk")
    expect(row).to_contain_text("Front desk")
    row.get_by_role("link", name=TITLE).click()

    expect(page.get_by_role("heading", name="Your decision")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="call-notes.txt").click()
    download = download_info.value
    assert download.suggested_filename == "call-notes.txt"
    assert Path(download.path()).read_bytes() == NOTES

    page.get_by_label("Verify", exact=True).check()
    page.get_by_label("Comment").fill("Sourced quote and a clear response.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text(f"Verified: “{TITLE}”.")).to_be_visible()
    expect(page.get_by_text("Nothing to review right now")).to_be_visible()
    sign_out(page)

    # The employee sees the item verified, with the reviewer's comment.
    sign_in(page, "dana")
    row = page.get_by_role("row", name=re.compile(TITLE))
    expect(row).to_contain_text("Verified")
    expect(row).to_contain_text("Sourced quote and a clear response.")

    evidence = Evidence.objects.get(owner=people["dana"])
    assert evidence.status == EvidenceStatus.VERIFIED
    assert evidence.attachments.get().original_name == "call-notes.txt"
