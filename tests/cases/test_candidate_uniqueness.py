"""One live case per candidate (by e-mail, whatever its case) and cycle: in the service, the import and the database."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseAuditAction, CaseStatus
from apps.cases.models import Case
from apps.cases.services import case_open, case_withdraw
from tests.factories.cases import CandidateCaseFactory
from tests.factories.org import EmployeeFactory

pytestmark = pytest.mark.django_db


def open_amara(cycle, nominator, email="amara.nwosu@example.net"):
    return case_open(cycle=cycle, candidate_name="Amara Nwosu", candidate_email=email, nominated_by=nominator)


def test_a_second_live_case_for_the_same_candidate_is_refused_whatever_the_email_case(hiring_cycle, org):
    open_amara(hiring_cycle, org["manager"])
    events_before = AuditEvent.objects.count()

    with pytest.raises(ValidationError, match="Amara Nwosu <Amara.Nwosu@Example.NET> already has a live case"):
        open_amara(hiring_cycle, org["manager"], email="Amara.Nwosu@Example.NET")

    assert Case.objects.filter(cycle=hiring_cycle).count() == 1
    new_events = list(AuditEvent.objects.order_by("pk")[events_before:])
    assert [e.action for e in new_events] == [CaseAuditAction.CASE_OPENING_REFUSED]
    assert "already has a live case" in new_events[0].context["reason"]


def test_a_hiring_case_needs_the_candidates_email(hiring_cycle, org):
    with pytest.raises(ValidationError, match="Give Amara Nwosu's e-mail address"):
        open_amara(hiring_cycle, org["manager"], email="")

    assert not Case.objects.exists()


def test_a_withdrawn_candidate_case_does_not_block_a_new_one(hiring_cycle, org):
    first = open_amara(hiring_cycle, org["manager"])
    case_withdraw(case=first, by=org["hr_a"], note="Opened by mistake before the interview.")

    second = open_amara(hiring_cycle, org["manager"])

    assert second.status == CaseStatus.OPEN


def test_the_database_refuses_a_duplicate_that_slips_past_the_service(hiring_cycle, org):
    CandidateCaseFactory(cycle=hiring_cycle, candidate_email="sam@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        CandidateCaseFactory(cycle=hiring_cycle, candidate_email="SAM@example.com")

    CandidateCaseFactory(cycle=hiring_cycle, candidate_email="")  # a blank e-mail is not a candidate key
    CandidateCaseFactory(cycle=hiring_cycle, candidate_email="")
    assert Case.objects.filter(cycle=hiring_cycle).count() == 3


def test_uploading_the_same_nominations_twice_opens_no_duplicates(admin_client, hiring_cycle, org):
    url = reverse("admin:cases_cycle_nominations", args=[hiring_cycle.pk])
    number = org["manager"].employee_number
    csv = (
        "candidate_name,candidate_email,nominated_by\n"
        f"Amara Nwosu,amara@example.net,{number}\nLuis Fernández,luis@example.net,{number}\n"
    )

    first = admin_client.post(url, {"file": _upload(csv)}, follow=True)
    second = admin_client.post(url, {"file": _upload(csv)})

    assert "Opened 2 cases" in first.content.decode()
    page = second.content.decode()
    assert "Nothing was imported" in page
    assert "Row 2, column candidate_email: Amara Nwosu &lt;amara@example.net&gt; already has a live case" in page
    assert Case.objects.filter(cycle=hiring_cycle).count() == 2


def test_a_nominations_file_without_candidate_emails_names_the_missing_column(admin_client, hiring_cycle, org):
    csv = f"candidate_name,nominated_by\nAmara Nwosu,{org['manager'].employee_number}\n"

    response = admin_client.post(
        reverse("admin:cases_cycle_nominations", args=[hiring_cycle.pk]), {"file": _upload(csv)}
    )

    assert "Missing column(s): candidate_email" in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_uploads_at_the_same_moment_open_one_case_per_candidate(hiring_cycle, org):
    from tests.cases.test_concurrency import run_together

    nominator = EmployeeFactory(org_unit=org["unit"])
    outcomes = run_together(
        lambda: open_amara(hiring_cycle, nominator),
        lambda: open_amara(hiring_cycle, nominator, email="AMARA.nwosu@example.net"),
    )

    assert sum(isinstance(o, Case) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ValidationError) for o in outcomes) == 1, outcomes
    assert Case.objects.filter(cycle=hiring_cycle).count() == 1


def _upload(text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("nominations.csv", text.encode(), content_type="text/csv")
