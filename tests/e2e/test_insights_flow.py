"""Browser test: a survey tool sends an insight through the API, it appears in Billing's inbox, a member responds with
evidence and submits it, her manager verifies it, the insight shows "Responded" and a leader's report counts it.

Same set-up as tests/e2e/test_evidence_flow.py (Debian's Chromium, DJANGO_ALLOW_ASYNC_UNSAFE for this test only; see
that module's docstring for why).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connections
from rest_framework.authtoken.models import Token

from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.insights.constants import InboxStatus
from apps.insights.models import InsightRoute
from apps.policies.models import EvidenceCategory
from tests.e2e.test_evidence_flow import BROWSER_TEST_MARKS, CHROMIUM, CHROMIUM_ARGS, sign_in, sign_out, sync_playwright
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

try:
    from playwright.sync_api import Page, expect
except ImportError:  # a dev machine without the dev requirements (the marks skip the test)
    pass

pytestmark = BROWSER_TEST_MARKS

WORDS = "The invoice listed a room I never booked, and nobody answered my e-mail for a week."


@pytest.fixture
def people(transactional_db: Any) -> dict[str, Any]:
    """Billing (Bea, a member) and her manager Lena, plus a survey tool's account with an API token."""
    EvidenceCategory.objects.get_or_create(
        code="customer_story", defaults={"name": "Customer story", "kind": "story", "is_outcome": False}
    )
    billing = OrgUnitFactory(name="Billing", code="billing")
    lead = EmployeeFactory(
        full_name="Lena Lead", org_unit=OrgUnitFactory(name="Finance"), user=UserFactory(username="lead")
    )
    bea = EmployeeFactory(full_name="Bea Biller", org_unit=billing, manager=lead, user=UserFactory(username="bea"))
    UserFactory(username="leader").groups.add(ensure_role_groups()[Role.LEADERSHIP])
    tool = UserFactory(username="survey-tool")
    tool.user_permissions.add(Permission.objects.get(codename="add_insight", content_type__app_label="insights"))
    return {"bea": bea, "token": Token.objects.create(user=tool).key}


@pytest.fixture
def page(live_server: Any, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see tests/e2e/test_evidence_flow.py
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            connections.close_all()


def test_an_insight_sent_by_api_is_answered_with_evidence_and_shows_responded(page: Page, people: dict[str, Any]):
    # A survey tool sends one answer, naming Billing.
    sent = page.request.post(
        "/api/insights/ingest/",
        headers={"Authorization": f"Token {people['token']}"},
        data={
            "source_system": "qualtrics",
            "insights": [
                {
                    "source_id": "R-1001",
                    "text": WORDS,
                    "score": 3,
                    "score_max": 10,
                    "channel": "survey",
                    "said_on": (dt.date.today() - dt.timedelta(days=2)).isoformat(),
                    "units": ["billing"],
                }
            ],
        },
    )
    assert sent.status == 200, sent.text()
    assert sent.json()["created"] == 1

    # Bea finds it in her unit's inbox and responds with evidence.
    sign_in(page, "bea")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox of Billing")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("The invoice listed a room"))
    expect(row).to_contain_text("New")
    expect(row).to_contain_text("Survey")
    row.get_by_role("link").click()
    expect(page.locator("blockquote.quote")).to_have_text(WORDS)
    page.get_by_role("button", name="Respond with evidence").click()

    # The draft carries the customer's words; she says what it meant and what she did, and submits it.
    expect(page.get_by_text("A draft response was started")).to_be_visible()
    expect(page.get_by_label("Customer's words")).to_have_value(WORDS)
    page.get_by_label("What it meant").fill("Guests could not trust our invoices.")
    page.get_by_label("What you did").fill("Fixed the invoice template and answered the guest the same day.")
    page.get_by_role("button", name="Save and submit").click()
    expect(page.get_by_text("was submitted for review")).to_be_visible()
    expect(page.get_by_text("Responds to:")).to_be_visible()
    sign_out(page)

    # Her manager verifies it from the review queue.
    sign_in(page, "lead")
    page.get_by_role("link", name="Review queue").click()
    page.get_by_role("row", name=re.compile("Response to: The invoice")).get_by_role("link").first.click()
    page.get_by_label("Verify", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Verified:")).to_be_visible()

    # The insight shows responded in Billing's inbox, linked to the verified evidence.
    page.goto("/me/inbox/")
    page.get_by_label("Inbox of").select_option(label="Billing")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row", name=re.compile("The invoice listed a room"))
    expect(row).to_contain_text("Responded")
    row.get_by_role("link").click()
    expect(page.locator(".page-head .badge")).to_have_text("Responded")
    expect(page.get_by_role("link", name=re.compile("Response to: The invoice"))).to_be_visible()

    route = InsightRoute.objects.get(insight__source_id="R-1001")
    assert route.status == InboxStatus.RESPONDED
    assert Evidence.objects.get(responds_to=route).status == EvidenceStatus.VERIFIED

    # A leader follows the dashboard's insights chart to its table: Billing received one and answered it in time.
    sign_out(page)
    sign_in(page, "leader")
    page.goto("/reports/")
    page.get_by_role("link", name="See the table: customer insights by unit").click()
    expect(page.get_by_role("heading", name="Customer insights: responses by unit")).to_be_visible()
    billing = page.get_by_role("row", name=re.compile("^Billing"))
    expect(billing.locator("td").nth(1)).to_have_text("1")  # received
    expect(billing.locator("td").nth(2)).to_have_text("1")  # responded
    expect(billing.locator("td").nth(3)).to_have_text("1")  # in time
    expect(billing.locator("td").nth(4)).to_have_text("100%")
