"""HR opens cases from the cycle's admin page: for one person, or for everyone matching a filter after a preview."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseAuditAction
from apps.cases.models import Case
from apps.cases.services import case_open
from apps.org.constants import JobLevel
from tests.factories.org import EmployeeFactory, OrgUnitFactory

pytestmark = pytest.mark.django_db


def url_of(cycle):
    return reverse("admin:cases_cycle_open_cases", args=[cycle.pk])


def test_the_cycle_page_offers_to_open_cases(admin_client, cycle):
    page = admin_client.get(reverse("admin:cases_cycle_change", args=[cycle.pk])).content.decode()

    assert url_of(cycle) in page
    assert reverse("admin:cases_cycle_nominations", args=[cycle.pk]) in page


def test_search_then_pick_opens_one_case(admin_client, cycle, org):
    page = admin_client.get(url_of(cycle), {"q": "okafor"}).content.decode()
    assert "Dana Okafor" in page

    response = admin_client.post(url_of(cycle), {"step": "one", "employee": org["dana"].pk}, follow=True)

    case = Case.objects.get(cycle=cycle)
    assert case.subject_employee == org["dana"]
    assert "Opened a case for Dana Okafor" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:cases_case_change", args=[case.pk])


def test_opening_a_second_case_for_the_same_person_is_refused_with_the_reason(admin_client, cycle, org):
    case_open(cycle=cycle, subject_employee=org["dana"])

    response = admin_client.post(url_of(cycle), {"step": "one", "employee": org["dana"].pk})

    assert "No case was opened: Dana Okafor already has a case" in response.content.decode()
    assert Case.objects.filter(cycle=cycle).count() == 1
    assert AuditEvent.objects.filter(action=CaseAuditAction.CASE_OPENING_REFUSED).count() == 1


def test_a_unit_filter_previews_then_opens_for_the_unit_and_its_sub_units(
    admin_client, cycle, org, django_assert_max_num_queries
):
    desk = org["unit"]
    night = OrgUnitFactory(name="Night desk", parent=desk)
    EmployeeFactory(org_unit=night, full_name="Noor Haddad")
    EmployeeFactory(org_unit=OrgUnitFactory(name="Finance"), full_name="Outside Person")
    case_open(cycle=cycle, subject_employee=org["dana"])  # already live: skipped

    with django_assert_max_num_queries(15):
        preview = admin_client.post(url_of(cycle), {"step": "preview", "unit": desk.pk, "job_level": ""})

    page = preview.content.decode()
    # Front Desk has the director, the manager and Dana; Night desk has Noor. Dana is skipped.
    assert "<strong>3</strong> cases would open" in page
    assert "1 person already has a live case and will be skipped" in page
    assert "Dana Okafor" in page
    assert Case.objects.filter(cycle=cycle).count() == 1  # a preview opens nothing

    done = admin_client.post(url_of(cycle), {"step": "confirm", "unit": desk.pk, "job_level": ""}, follow=True)

    assert "Opened 3 cases" in done.content.decode()
    assert "1 already had a live case and was skipped" in done.content.decode()
    subjects = set(Case.objects.filter(cycle=cycle).values_list("subject_employee__full_name", flat=True))
    assert "Noor Haddad" in subjects and "Outside Person" not in subjects
    assert len(subjects) == 4


def test_a_job_level_filter_opens_only_that_level(admin_client, cycle, org):
    senior = EmployeeFactory(org_unit=org["unit"], job_level=JobLevel.SENIOR)

    admin_client.post(url_of(cycle), {"step": "confirm", "unit": "", "job_level": JobLevel.SENIOR})

    assert list(Case.objects.filter(cycle=cycle).values_list("subject_employee", flat=True)) == [senior.pk]


def test_a_candidate_is_opened_with_name_email_and_hiring_manager(admin_client, hiring_cycle, org):
    data = {
        "step": "one",
        "candidate_name": "Amara Nwosu",
        "candidate_email": "amara@example.net",
        "nominated_by": org["manager"].employee_number,
    }

    admin_client.post(url_of(hiring_cycle), data)
    again = admin_client.post(url_of(hiring_cycle), data | {"candidate_email": "AMARA@example.net"})

    assert Case.objects.filter(cycle=hiring_cycle).count() == 1
    assert "already has a live case" in again.content.decode()


def test_an_unknown_hiring_manager_is_named_next_to_the_field(admin_client, hiring_cycle):
    response = admin_client.post(
        url_of(hiring_cycle),
        {"step": "one", "candidate_name": "Amara", "candidate_email": "a@example.net", "nominated_by": "E-NOPE"},
    )

    assert "No active employee numbered &#x27;E-NOPE&#x27;" in response.content.decode()
    assert not Case.objects.exists()
