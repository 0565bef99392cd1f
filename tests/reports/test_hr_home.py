"""The HR home (the admin index): lists grouped by task, links to the dashboard and portal, and what needs HR now."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from apps.cases.models import StepRecord
from apps.evidence.constants import EvidenceStatus
from apps.policies.models import RitualType
from apps.reminders.constants import ReminderStatus
from apps.reports.admin_site import FRAMEWORK, OTHER, group_by_task
from tests.factories.cases import (
    CandidateCaseFactory,
    CycleFactory,
    PolicyExceptionFactory,
    StepRecordFactory,
    two_step_route,
)
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import UserFactory
from tests.factories.reminders import ReminderFactory

pytestmark = pytest.mark.django_db

TASK_ORDER = ["Policies", "Cycles and cases", "Evidence", "People", "Audit and settings", FRAMEWORK]


def sections(response) -> dict[str, list[str]]:
    return {app["name"]: [m["model"]._meta.label for m in app["models"]] for app in response.context["app_list"]}


def needs(response) -> dict[str, object]:
    return {item.key: item for item in response.context["needs_you"]}


def test_the_hr_home_groups_the_admin_by_task_with_framework_models_last(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    listed = sections(response)
    assert list(listed) == TASK_ORDER
    assert listed["Policies"][:4] == [
        "policies.RitualType", "policies.EvidenceCategory", "policies.Policy", "policies.PolicyVersion",
    ]  # fmt: skip
    assert listed["Cycles and cases"][:3] == ["cases.Cycle", "cases.Case", "cases.PolicyException"]
    assert {"org.OrgUnit", "org.Employee", "auth.User", "auth.Group"} <= set(listed["People"])
    assert {"audit.AuditEvent", "reminders.Reminder", "reports.ExportJob"} <= set(listed["Audit and settings"])
    assert {"authtoken.TokenProxy", "axes.AccessAttempt"} <= set(listed[FRAMEWORK])
    page = response.content.decode()
    assert page.index(">Policies<") < page.index(">Cycles and cases<") < page.index(f">{FRAMEWORK}<")


def test_models_the_table_does_not_name_go_to_other_or_framework():
    def entry(model):
        return {"model": model, "name": model._meta.verbose_name_plural, "object_name": model.__name__}

    app_list = [
        {"name": "Cases", "models": [entry(StepRecord)]},
        {"name": "Content types", "models": [entry(ContentType)]},
    ]

    grouped = group_by_task(app_list, index_url="/admin/")

    assert [(s["name"], [m["object_name"] for m in s["models"]]) for s in grouped] == [
        (OTHER, ["StepRecord"]),
        (FRAMEWORK, ["ContentType"]),
    ]


def test_an_app_page_still_lists_that_apps_models(admin_client):
    response = admin_client.get(reverse("admin:app_list", args=["cases"]))

    assert [app["app_label"] for app in response.context["app_list"]] == ["cases"]


def test_the_admin_sidebar_shows_the_task_sections(admin_client):
    page = admin_client.get(reverse("admin:org_orgunit_changelist")).content.decode()

    assert "Cycles and cases" in page and "Audit and settings" in page


def test_the_dashboard_and_the_portal_are_linked_at_the_top(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert f'href="{reverse("reports:dashboard")}" class="dashboard-link"' in page
    assert f'href="{reverse("portal:home")}" class="portal-link"' in page
    assert page.index("dashboard-link") < page.index("Needs you") < page.index(">Policies<")


def test_staff_outside_hr_and_leadership_see_no_dashboard_link(client):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_orgunit"))
    client.force_login(clerk)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert "dashboard-link" not in response.content.decode()
    # Nothing of what the panel counts is theirs to see, so there is no panel either.
    assert response.context["needs_you"] == [] and "Needs you" not in response.content.decode()


def test_nothing_needs_you_says_so(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert "Nothing needs you right now" in page


@pytest.fixture
def waiting(admin_user):
    """Two of each thing HR should act on, next to look-alikes it should not count."""
    now = timezone.now()
    # Exceptions: one by someone else (counted), one the viewer asked for (a second HR must grant it), one decided.
    other = PolicyExceptionFactory()
    PolicyExceptionFactory(requested_by=admin_user)
    # Cases: hiring has no route (HR alone); promotion is "manager recommends, then HR approves". A short case
    # with a granted exception is ready too (the gate lets it through).
    excepted = PolicyExceptionFactory(status="granted", case=CandidateCaseFactory(compliant=False)).case
    alone = CandidateCaseFactory(compliant=True)
    CandidateCaseFactory(compliant=False)
    CandidateCaseFactory(compliant=True, status="approved")
    promotion = CycleFactory(ritual_type=RitualType.objects.get(code="promotion"))
    two_step_route(promotion.ritual_type)
    CandidateCaseFactory(cycle=promotion, compliant=True)  # waits for the manager
    recommended = CandidateCaseFactory(cycle=promotion, compliant=True)
    StepRecordFactory(case=recommended, order=1, step_name="Manager recommends")
    # Reviews: one waiting ten days (overdue), one waiting a day, one verified long ago.
    overdue = EvidenceFactory(status=EvidenceStatus.SUBMITTED, submitted_at=now - dt.timedelta(days=10))
    EvidenceFactory(status=EvidenceStatus.SUBMITTED, submitted_at=now - dt.timedelta(days=1))
    EvidenceFactory(status=EvidenceStatus.VERIFIED, submitted_at=now - dt.timedelta(days=30))
    # Reminders: two failed, one sent.
    failed = [ReminderFactory(status=ReminderStatus.FAILED), ReminderFactory(status=ReminderStatus.FAILED)]
    uncertain = ReminderFactory(status=ReminderStatus.UNCERTAIN)
    ReminderFactory(status=ReminderStatus.SENT)
    return {
        "exceptions": {other.pk},
        "cases": {alone.pk, recommended.pk, excepted.pk},
        "reviews": {overdue.pk},
        "reminders": {r.pk for r in failed},
        "uncertain": {uncertain.pk},
    }


def test_needs_you_counts_what_waits_for_hr(admin_client, waiting):
    response = admin_client.get(reverse("admin:index"))

    assert {key: item.count for key, item in needs(response).items()} == {
        "exceptions": 1, "cases": 3, "reviews": 1, "reminders": 2, "uncertain": 1,
    }  # fmt: skip
    page = response.content.decode()
    assert "Exceptions waiting for a second HR" in page and "Nothing needs you" not in page


def test_each_count_links_to_the_admin_list_showing_exactly_those(admin_client, waiting):
    items = needs(admin_client.get(reverse("admin:index")))

    for key, expected in waiting.items():
        response = admin_client.get(items[key].url)
        assert response.status_code == 200, key
        assert {obj.pk for obj in response.context["cl"].result_list} == expected, key


def test_the_hr_home_takes_a_fixed_number_of_queries(admin_client, waiting, django_assert_max_num_queries):
    admin_client.get(reverse("admin:index"))
    for _ in range(3):
        PolicyExceptionFactory()
        CandidateCaseFactory(compliant=True)
        ReminderFactory(status=ReminderStatus.FAILED)

    with django_assert_max_num_queries(9):
        response = admin_client.get(reverse("admin:index"))

    assert needs(response)["cases"].count == 6


def test_hr_in_the_demo_sees_the_panel_without_their_own_exception_requests(client):
    from apps.common.roles import Role, ensure_role_groups, grant_hr_permissions

    groups = ensure_role_groups()
    grant_hr_permissions()
    hr = UserFactory(is_staff=True)
    hr.groups.add(groups[Role.HR])
    PolicyExceptionFactory(requested_by=hr)
    PolicyExceptionFactory()
    client.force_login(hr)

    response = client.get(reverse("admin:index"))

    assert needs(response)["exceptions"].count == 1
    assert 'class="dashboard-link"' in response.content.decode()
