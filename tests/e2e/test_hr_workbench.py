"""Browser test: the HR workbench from a fresh company to a decided case, clicking only.

HR drafts the promotion baseline in the requirement editor, previews and publishes it, opens Dana's case from the
cycle's page; Dana submits a customer story, a CX reviewer verifies it, her manager attests and asks for an exception
to the story still missing, a second HR grants it, the manager recommends and HR approves. The case's timeline names
everyone who acted, the approvers and Dana were notified, and Dana's notification page shows the decision.

Every person works in a browser context of their own (their own cookies), as on their own machine. The data set up
with factories is only what a company has before HR starts: units, people with logins, the role groups, the ritual's
baseline policy without any version, a cycle and the ritual's two-step route (manager recommends, HR approves).
The route is there because the manager's step is what tells HR their step waits: on the default route (HR alone) a
case approved with an exception never meets its policy, and "step waiting" is announced only when a case starts to
meet it or after an earlier step.

With RC_SCREENSHOTS set to a folder, the test also writes the documentation's screenshots there
(requirement-editor.png, hr-home.png, case-timeline.png); normal runs write no file. See test_evidence_flow.py for
why Chromium is Debian's, why the test skips without it and why DJANGO_ALLOW_ASYNC_UNSAFE is set for this test only.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone
from django.utils.formats import date_format

from apps.cases.constants import CaseStatus, ExceptionStatus
from apps.cases.models import Case
from apps.common.roles import Role, ensure_role_groups, grant_hr_permissions
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.policies.constants import VersionStatus
from apps.policies.models import PolicyVersion, RitualType
from apps.reminders.constants import ReminderKind
from apps.reminders.models import Reminder
from tests.e2e.test_evidence_flow import BROWSER_TEST_MARKS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, sync_playwright
from tests.factories.cases import CycleFactory, two_step_route
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory
from tests.factories.policies import PolicyFactory

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # a dev machine without the dev requirements
    Browser = Page = expect = None

SCREENSHOTS = os.environ.get("RC_SCREENSHOTS", "")
VIEWPORT = {"width": 1280, "height": 900}

CYCLE = "Promotions 2026-H2"
BASELINE = "Promotion baseline"
STORY_LABEL = "Two customer stories"
ATTEST_LABEL = "Manager's attestation"
STORY_TITLE = "Rebuilt the accessible-room filter"
ATTEST_NOTE = "Dana turned a guest's complaint into a fix for every wheelchair user; I saw the calls."
JUSTIFICATION = (
    "Dana spent the half-year rebuilding the booking flow with our guests; one story is written up, "
    "the second fix ships next month and its customer evidence cannot exist before the cycle closes."
)
GRANT_NOTE = "Checked the release plan with the product lead; the second story follows the release."

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def company(transactional_db):
    """A company on its first day with the product: people, logins, roles, the baseline policy without a version."""
    groups = ensure_role_groups()
    grant_hr_permissions()
    acme = OrgUnitFactory(name="Acme Hotels", code="acme")
    front_desk = OrgUnitFactory(name="Front desk", code="front-desk", parent=acme)
    people_team = OrgUnitFactory(name="People team", code="people", parent=acme, customer_layer=1)
    contact = OrgUnitFactory(name="Contact centre", code="contact", parent=acme)

    def login(username: str, first: str, last: str, *, staff: bool = False, role: str | None = None):
        user = UserFactory(username=username, first_name=first, last_name=last, is_staff=staff)
        if role:
            user.groups.add(groups[role])
        return user

    hr = login("hr", "Hana", "Ruiz", staff=True, role=Role.HR)
    hr2 = login("hr2", "Hugo", "Berg", staff=True, role=Role.HR)
    reviewer = login("reviewer", "Rita", "Viewer", role=Role.CX_REVIEWER)
    EmployeeFactory(full_name="Hana Ruiz", org_unit=people_team, user=hr)
    EmployeeFactory(full_name="Hugo Berg", org_unit=people_team, user=hr2)
    EmployeeFactory(full_name="Rita Viewer", org_unit=contact, user=reviewer)
    manager = EmployeeFactory(
        full_name="Maria Head", org_unit=front_desk, user=login("manager", "Maria", "Head"), employee_number="E-0100"
    )
    dana = EmployeeFactory(
        full_name="Dana Desk",
        org_unit=front_desk,
        manager=manager,
        user=login("dana", "Dana", "Desk"),
        employee_number="E-0101",
    )
    EmployeeFactory(full_name="Dario Danes", org_unit=front_desk, manager=manager)  # a second match for "Da"

    promotion = RitualType.objects.get(code="promotion")
    PolicyFactory(ritual_type=promotion, scope=None, name=BASELINE)
    two_step_route(promotion)
    cycle = CycleFactory(ritual_type=promotion, name=CYCLE)
    return {"dana": dana, "manager": manager, "hr": hr, "hr2": hr2, "reviewer": reviewer, "cycle": cycle}


@pytest.fixture
def browser(live_server, company, monkeypatch) -> Iterator[Browser]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see test_evidence_flow.py
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
            connections.close_all()  # see test_evidence_flow.py: the test body's second connection


@pytest.fixture
def person(browser, live_server) -> Callable[..., Page]:
    """`person("dana")`: a page signed in as that user, in a browser context of their own (kept for the test)."""
    pages: dict[str, Page] = {}

    def open_as(username: str, *, admin: bool = False) -> Page:
        if username in pages:
            return pages[username]
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        page = context.new_page()
        if admin:
            page.goto("/admin/login/?next=/admin/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="HR home")).to_be_visible()
        else:
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="My evidence")).to_be_visible()
        pages[username] = page
        return page

    return open_as


def screenshot(page: Page, name: str, *, part: str = "") -> None:
    """Write `name`.png into RC_SCREENSHOTS (the whole page, or the element `part` selects); nothing when unset."""
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    options = {"path": str(target), "animations": "disabled", "caret": "hide"}
    if part:
        page.locator(part).screenshot(**options)
    else:
        page.screenshot(full_page=True, **options)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size < 400_000, f"{target} is too large for the docs"


def message(page: Page, text: str | re.Pattern[str]):
    """The admin's message list item with this text."""
    return page.locator("ul.messagelist li").filter(has_text=text)


def _assert_side_by_side(left, right) -> None:
    """The HR home's panels do not run under the admin's "Recent actions" column."""
    left_box, right_box = left.bounding_box(), right.bounding_box()
    assert left_box is not None and right_box is not None
    assert left_box["x"] + left_box["width"] <= right_box["x"]


def test_hr_drafts_publishes_opens_and_approves_a_case_with_an_exception(person, company):
    today = timezone.localdate()
    dana = company["dana"]

    # 1. HR signs in to the HR home: sections by task and the "needs you" panel, nothing waiting yet.
    hr = person("hr", admin=True)
    for section in ("Policies", "Cycles and cases", "Evidence", "People"):
        expect(hr.locator("caption .section", has_text=re.compile(f"^{section}$"))).to_be_visible()
    needs_you = hr.locator("#needs-you")
    expect(needs_you.get_by_text("Needs you", exact=True)).to_be_visible()
    expect(needs_you).to_contain_text("Nothing needs you right now")
    _assert_side_by_side(needs_you.locator("table"), hr.locator("#content-related"))

    # HR drafts version 1 of the baseline in the editor: one field per parameter, no JSON.
    hr.get_by_role("link", name="Policy versions", exact=True).click()
    hr.get_by_role("link", name="Add policy version").click()
    expect(hr.get_by_role("heading", name="Add policy version")).to_be_visible()
    hr.locator(".field-policy .select2-selection").click()
    hr.locator(".select2-search__field").fill("Promotion")
    hr.get_by_role("option", name=BASELINE).click()
    hr.get_by_label("Effective from").fill(today.isoformat())
    hr.get_by_label("Notes").fill("First baseline: customer stories count, and the manager vouches for them.")

    add_requirement = hr.get_by_role("button", name=re.compile("Add another requirement", re.IGNORECASE))
    add_requirement.click()
    story = hr.locator("#requirements-0")
    story.get_by_label("Kind").select_option("min_evidence")
    expect(story.get_by_label("Role to attest")).to_be_hidden()  # only the kind's own fields show
    story.get_by_label("How many").fill("2")
    story.get_by_label("Customer story", exact=True).check()
    story.get_by_label("Within (days)").fill("365")
    story.get_by_label("Label").fill(STORY_LABEL)
    story.get_by_label("Order").fill("1")

    add_requirement.click()
    attestation = hr.locator("#requirements-1")
    attestation.get_by_label("Kind").select_option("attestation")
    expect(attestation.get_by_label("How many")).to_be_hidden()
    attestation.get_by_label("Role to attest").select_option("manager")
    attestation.get_by_label("Label").fill(ATTEST_LABEL)
    attestation.get_by_label("Order").fill("2")

    # Preview saves the draft first, then shows the requirements in plain words and the (empty) effect.
    hr.get_by_role("button", name="Save and preview effect on open cases").click()
    expect(hr.locator("#preview-requirements li")).to_have_count(2)
    expect(hr.locator("#preview-requirements")).to_contain_text("Customer story")
    expect(hr.get_by_text("No open case would change.")).to_be_visible()
    version = PolicyVersion.objects.get(policy__name=BASELINE)
    assert version.status == VersionStatus.DRAFT
    assert sorted(version.requirements.values_list("kind", flat=True)) == ["attestation", "min_evidence"]

    hr.get_by_role("link", name="Back to the version").click()
    expect(hr.locator(".field-sentence").first).to_contain_text("Customer story")
    screenshot(hr, "requirement-editor", part="#requirements-group")

    # Publish goes through a confirmation page that lists what will be frozen.
    hr.get_by_role("button", name="Save and publish…").click()
    expect(hr.get_by_role("heading", name=re.compile("^Publish"))).to_be_visible()
    expect(hr.locator("#publish-requirements tbody tr")).to_have_count(2)
    hr.get_by_role("button", name="Yes, publish").click()
    expect(message(hr, f"it applies to cases opened from {date_format(today, 'j M Y')}")).to_be_visible()
    expect(hr.locator(".errornote")).to_contain_text("immutable")
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED

    # 2. HR opens a case for Dana alone from the cycle's page.
    hr.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Home").click()
    hr.get_by_role("link", name="Cycles", exact=True).click()
    hr.get_by_role("link", name=CYCLE).click()
    hr.get_by_role("link", name="Open cases", exact=True).click()
    hr.get_by_label("Find a person").fill("Da")
    hr.get_by_role("button", name="Search").click()
    hr.get_by_label("Employee").select_option(label="Dana Desk (E-0101)")
    hr.get_by_role("button", name="Open the case").click()
    expect(message(hr, f"Opened a case for Dana Desk in {CYCLE}")).to_be_visible()
    expect(hr.locator("#waiting")).to_contain_text("Manager recommends (step 1 of 2)")
    expect(hr.locator("#checklist tbody tr")).to_have_count(2)
    expect(hr.locator("#checklist img[alt='not met']")).to_have_count(2)
    case = Case.objects.get(subject_employee=dana)
    assert list(case.pinned_versions.all()) == [version]

    # 3. Dana sees her case and adds the customer story it asks for.
    dana_page = person("dana")
    dana_page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    dana_page.get_by_role("link", name="Dana Desk").click()
    expect(dana_page.get_by_text("0 of 2", exact=True)).to_be_visible()
    dana_page.get_by_role("link", name="Add evidence for what is missing").click()
    dana_page.get_by_label(re.compile(r"^Title")).fill(STORY_TITLE)
    dana_page.get_by_label(re.compile(r"^Category")).select_option(label="Customer story")
    dana_page.get_by_label("Impact date").fill((today - dt.timedelta(days=7)).isoformat())
    dana_page.get_by_label("Customer's words").fill("I could not book a room for my wheelchair on your site.")
    dana_page.get_by_label("Where you heard it").select_option(label="Support ticket")
    dana_page.get_by_label("Source reference").fill("TCK-4711")
    dana_page.get_by_label("What it meant").fill("Accessible rooms were invisible to online guests.")
    dana_page.get_by_label("What you did").fill("Rebuilt the filter and called the guest back.")
    dana_page.get_by_role("button", name="Save and submit").click()
    expect(dana_page.get_by_text("was submitted for review")).to_be_visible()
    expect(dana_page.locator(".page-head .badge")).to_have_text("Submitted")

    # 4. The CX reviewer verifies it from the review queue.
    reviewer = person("reviewer")
    reviewer.get_by_role("link", name="Review queue").click()
    reviewer.get_by_role("row", name=re.compile(STORY_TITLE)).get_by_role("link", name=STORY_TITLE).click()
    reviewer.get_by_label("Verify", exact=True).check()
    reviewer.get_by_label("Comment").fill("Sourced quote and a clear response.")
    reviewer.get_by_role("button", name="Record decision").click()
    expect(reviewer.get_by_text(f"Verified: “{STORY_TITLE}”.")).to_be_visible()
    assert Evidence.objects.get(owner=dana).status == EvidenceStatus.VERIFIED

    # 5. The manager finds the case among the team's and attests as manager, with a comment.
    manager = person("manager")
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    manager.get_by_role("row", name=re.compile("Dana Desk")).get_by_role("link", name="Dana Desk").click()
    story_row = manager.locator("#checklist tbody tr", has_text=STORY_LABEL)
    expect(story_row).to_contain_text("1 / 2")
    expect(story_row).to_contain_text(STORY_TITLE)
    manager.locator("#attestations").get_by_label(re.compile("^Comment")).fill(ATTEST_NOTE)
    manager.get_by_role("button", name="Attest as manager").click()
    expect(manager.get_by_text("You attested as manager: the manager attestation is now met.")).to_be_visible()
    attested_row = manager.locator("#checklist tbody tr", has_text=ATTEST_LABEL)
    expect(attested_row).to_contain_text("Met")
    expect(attested_row).to_contain_text("None needed")  # no evidence counts toward an attestation
    expect(manager.get_by_text("1 of 2", exact=True)).to_be_visible()

    # 6. The second story cannot exist in time: the manager asks for an exception with a written justification.
    manager.get_by_text("Request an exception…").click()
    manager.get_by_label("Justification").fill(JUSTIFICATION)
    expect(manager.get_by_label(STORY_LABEL)).to_be_checked()  # the unmet requirement, ticked for her
    manager.get_by_label("I ask for this exception in my name").check()
    manager.get_by_role("button", name="Send the exception request").click()
    expect(manager.get_by_text("Exception requested; a second HR person decides it.")).to_be_visible()
    expect(manager.locator(".exception-list")).to_contain_text("Requested — waiting for HR")

    # 7. A second HR finds it on the HR home and grants it on the decision page, seeing the checklist.
    hr2 = person("hr2", admin=True)
    waiting = hr2.locator("#needs-you tr.needs-you-exceptions")
    expect(waiting.locator("td.count")).to_have_text("1")
    _assert_side_by_side(hr2.locator("#needs-you table"), hr2.locator("#content-related"))
    screenshot(hr2, "hr-home")
    waiting.get_by_role("link", name="Exceptions waiting for a second HR").click()
    hr2.locator("#result_list tbody tr").first.locator("a").first.click()
    hr2.get_by_role("link", name="Decide: grant or refuse").click()
    expect(hr2.locator("#checklist tbody tr")).to_have_count(2)
    expect(hr2.locator("#waived")).to_contain_text(STORY_LABEL)
    expect(hr2.get_by_text("Dana spent the half-year")).to_be_visible()
    hr2.get_by_label("Note").fill(GRANT_NOTE)
    hr2.get_by_role("button", name="Grant the exception").click()
    # The admin's exception state names users by username, the timeline by full name: accept either until they agree.
    expect(message(hr2, re.compile(r"^Granted by (hr2|Hugo Berg) on .*: the exception for Dana Desk"))).to_be_visible()
    assert case.exceptions.get().status == ExceptionStatus.GRANTED

    # The manager recommends (step 1 of the route), through the portal's confirmation page.
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    manager.get_by_role("row", name=re.compile("Dana Desk")).get_by_role("link", name="Dana Desk").click()
    expect(manager.locator(".exception-list")).to_contain_text("Granted")
    manager.get_by_label("Approve / recommend").check()
    manager.locator("#comment").fill("Recommended: she changed how the desk listens to guests.")
    manager.get_by_role("button", name="Record decision…").click()
    expect(manager.get_by_role("heading", name=re.compile("^Confirm: approve step 1 of 2"))).to_be_visible()
    manager.get_by_role("button", name=re.compile("^Yes, approve step 1 of 2")).click()
    expect(manager.get_by_text("the case now waits for HR approves")).to_be_visible()

    # 8. HR approves on the admin case page: Approve, a confirmation with the checklist, then the message.
    hr.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Home").click()
    hr.get_by_role("link", name="Cases", exact=True).click()
    hr.get_by_role("link", name=re.compile("Dana Desk")).first.click()
    expect(hr.locator("#waiting")).to_contain_text("HR approves (step 2 of 2)")
    hr.locator("#approve").click()
    expect(hr.locator("#checklist")).to_contain_text("not met")
    hr.get_by_label("Comment").fill("Approved with the granted exception for the second story.")
    hr.get_by_role("button", name="Yes, approve").click()
    expect(message(hr, "Recorded your approval: the case is approved with exception.")).to_be_visible()
    expect(hr.locator("#waiting")).to_contain_text("Approved with exception by")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED_WITH_EXCEPTION

    # 9. The case's timeline (portal, as HR sees it) names who did each step.
    hr.get_by_role("link", name="See it in the portal").click()
    expect(hr.locator(".page-head .badge")).to_have_text("Approved with exception")
    timeline = hr.locator("#timeline")
    expected = [
        ("Case opened", ("hr", "Hana Ruiz")),  # the opener is the audit trail's actor name, today the username
        (f"Submitted evidence “{STORY_TITLE}”", ("Dana Desk",)),
        (f"Verified evidence “{STORY_TITLE}”", ("Rita Viewer",)),
        ("Attested as manager", ("Maria Head",)),
        ("Exception requested", ("Maria Head",)),
        ("Exception granted", ("Hugo Berg",)),
        ("Approved step 1, Manager recommends", ("Maria Head",)),
        ("Approved step 2, HR approves", ("Hana Ruiz",)),
        ("Case approved with exception", ("Hana Ruiz",)),
    ]
    for text, actors in expected:
        entry = timeline.locator(".timeline-entry", has_text=text)
        expect(entry).to_have_count(1)
        actor = entry.locator(".timeline-actor")
        expect(actor).to_have_text(re.compile("^(" + "|".join(re.escape(a) for a in actors) + ")$"))
    screenshot(hr, "case-timeline", part="#main")

    # 10. The approvers were told their step waited, Dana of the decision; Dana's bell leads to it.
    notified = Reminder.objects.filter(case=case)
    waiting = notified.filter(kind=ReminderKind.STEP_WAITING).values_list("recipient_user__username", "occasion")
    # Step 1 once the granted exception cleared the way (the manager), step 2 after the recommendation (both HR;
    # nobody who decided step 1).
    assert {user for user, occasion in waiting if occasion.endswith("1")} == {"manager"}
    assert {user for user, occasion in waiting if occasion.endswith("2")} == {"hr", "hr2"}
    decided_for = set(
        notified.filter(kind=ReminderKind.CASE_DECIDED).values_list("recipient_employee__full_name", flat=True)
    )
    assert decided_for == {"Dana Desk"}  # the subject; nobody nominated her, and HR who decided knows

    dana_page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    expect(dana_page.get_by_role("row", name=re.compile("Dana Desk"))).to_contain_text("Approved with exception")
    bell = dana_page.get_by_role("navigation", name="Main").locator("a.bell")
    expect(bell.locator("[data-unread]")).to_be_visible()
    bell.click()
    expect(dana_page.get_by_role("heading", name="Notifications")).to_be_visible()
    decision = dana_page.get_by_role("row", name=re.compile(f"Your case in {CYCLE} was approved with exception"))
    expect(decision).to_contain_text("Case decided")
    expect(decision.get_by_text("New")).to_be_visible()
