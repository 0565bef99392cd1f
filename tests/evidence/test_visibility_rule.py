"""The index-friendly visibility rule shows exactly the rows of the rule as the issue states it, for every role."""

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.evidence.permissions import can_view, evidence_visible_to
from apps.org.models import Employee
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    """Three levels of managers, two teams, a CX reviewer who also manages someone, HR, and a login without a record."""
    groups = ensure_role_groups()
    unit = OrgUnitFactory(name="Rooms")
    director = EmployeeFactory(org_unit=unit, user=UserFactory(username="director"))
    manager = EmployeeFactory(org_unit=unit, manager=director, user=UserFactory(username="manager"))
    other_manager = EmployeeFactory(org_unit=unit, manager=director, user=UserFactory(username="other_manager"))
    clerk = EmployeeFactory(org_unit=unit, manager=manager, user=UserFactory(username="clerk"))
    porter = EmployeeFactory(org_unit=unit, manager=other_manager, user=UserFactory(username="porter"))
    cx_user = UserFactory(username="cx")
    cx_user.groups.add(groups[Role.CX_REVIEWER])
    cx = EmployeeFactory(org_unit=OrgUnitFactory(name="CX"), user=cx_user)
    cx_report = EmployeeFactory(org_unit=unit, manager=cx, user=UserFactory(username="cx_report"))
    cx_without_record = UserFactory(username="cx_outside")
    cx_without_record.groups.add(groups[Role.CX_REVIEWER])
    hr = UserFactory(username="hr")
    hr.groups.add(groups[Role.HR])
    people = [director, manager, other_manager, clerk, porter, cx, cx_report]
    for person in people:
        for status in EvidenceStatus:
            EvidenceFactory(owner=person, status=status, title=f"{person.user.username} {status}")
    logins = [person.user for person in people] + [cx_without_record, hr, UserFactory(username="nobody")]
    return {"logins": logins}


def stated_rule(user) -> set[str]:
    """The rule as issue #25 states it, evaluated in Python: mine, or my subtree's or (CX) anyone's beyond draft."""
    if not user.is_authenticated:
        return set()
    roles = set(user.groups.values_list("name", flat=True))
    employee = getattr(user, "employee", None)
    subtree: set[int] = set()
    frontier = {employee.pk} if employee else set()
    while frontier:
        frontier = set(Employee.objects.filter(manager_id__in=frontier).values_list("pk", flat=True))
        subtree |= frontier
    seen = set()
    for item in Evidence.objects.select_related("owner"):
        mine = employee is not None and item.owner_id == employee.pk
        beyond_draft = item.status != EvidenceStatus.DRAFT
        if Role.HR in roles or mine or (beyond_draft and (item.owner_id in subtree or Role.CX_REVIEWER in roles)):
            seen.add(item.title)
    return seen


def test_list_rule_shows_the_same_items_as_the_stated_rule_for_every_login(org):
    for user in [*org["logins"], AnonymousUser()]:
        listed = set(evidence_visible_to(user).values_list("title", flat=True))
        assert listed == stated_rule(user), getattr(user, "username", "anonymous")


def test_list_rule_agrees_with_the_single_item_rule_for_every_login_and_item(org):
    items = list(Evidence.objects.all())
    for user in org["logins"]:
        listed = set(evidence_visible_to(user).values_list("pk", flat=True))
        assert listed == {item.pk for item in items if can_view(user, item)}, user.username


def test_a_cx_reviewer_sees_their_own_drafts_but_not_their_reports_drafts(org):
    cx = next(user for user in org["logins"] if user.username == "cx")
    titles = set(evidence_visible_to(cx).values_list("title", flat=True))
    assert "cx draft" in titles
    assert "cx_report draft" not in titles
    assert {"cx_report submitted", "clerk submitted"} <= titles
