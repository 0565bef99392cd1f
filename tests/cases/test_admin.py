"""HR works on cases in the admin: bulk compliance column, decisions, nominations, preview."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.cases.services import case_open
from apps.evidence.constants import EvidenceStatus
from apps.policies.services import policy_version_draft_from, requirement_add
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_case_changelist_computes_compliance_for_the_page_in_bulk(
    admin_client, cycle, org, django_assert_max_num_queries
):
    people = [EmployeeFactory(org_unit=org["unit"], manager=org["manager"]) for _ in range(30)]
    for person in people[:10]:
        EvidenceFactory(owner=person, status=EvidenceStatus.VERIFIED)
    for person in people:
        case_open(cycle=cycle, subject_employee=person)

    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse("admin:cases_case_changelist"))

    page = response.content.decode()
    assert page.count("meets policy (1/1 met)") == 10
    assert page.count("short (0/1 met)") == 20


def test_case_page_shows_the_live_checklist_with_counted_evidence(admin_client, cycle, org):
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED, title="Rebuilt the booking form")
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    page = admin_client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()

    assert "Checklist" in page and "(live)" in page
    assert "One customer story" in page
    assert "Rebuilt the booking form" in page
    assert f"/admin/evidence/evidence/{story.pk}/change/" in page


def test_admin_approve_action_refuses_a_short_case_with_the_reason(admin_client, cycle, org):
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    response = admin_client.post(
        reverse("admin:cases_case_changelist"),
        {"action": "approve_selected", "_selected_action": [case.pk]},
        follow=True,
    )

    assert "does not meet its policy" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN


def test_admin_reject_action_asks_for_a_note_then_rejects(admin_client, cycle, org):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    url = reverse("admin:cases_case_changelist")

    first = admin_client.post(url, {"action": "reject_selected", "_selected_action": [case.pk]})
    assert "Reject these cases?" in first.content.decode()

    admin_client.post(url, {"action": "reject_selected", "_selected_action": [case.pk], "comment": "Not ready yet."})
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED
    assert case.decision_note == "Not ready yet."


def test_nominations_csv_opens_all_cases(admin_client, cycle, org):
    others = [EmployeeFactory(org_unit=org["unit"]) for _ in range(3)]
    csv = "employee_number,nominated_by\n" + "".join(
        f"{p.employee_number},{org['manager'].employee_number}\n" for p in others
    )

    response = admin_client.post(
        reverse("admin:cases_cycle_nominations", args=[cycle.pk]),
        {"file": _upload(csv)},
        follow=True,
    )

    assert "Opened 3 cases" in response.content.decode()
    assert Case.objects.filter(cycle=cycle).count() == 3


def test_nominations_with_one_bad_row_open_nothing_and_name_the_row(admin_client, cycle, org):
    good = EmployeeFactory(org_unit=org["unit"])
    csv = f"employee_number\n{good.employee_number}\nE-NOPE\n{good.employee_number}\n"

    response = admin_client.post(reverse("admin:cases_cycle_nominations", args=[cycle.pk]), {"file": _upload(csv)})

    page = response.content.decode()
    assert "Row 3, column employee_number: no employee numbered" in page
    assert "Row 4: the same subject is already nominated on row 2" in page
    assert Case.objects.count() == 0


def test_preview_lists_cases_that_would_fall_short(admin_client, cycle, org, baseline):
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case_open(cycle=cycle, subject_employee=org["dana"])
    draft = policy_version_draft_from(version=baseline, effective_from=timezone.localdate())
    requirement_add(version=draft, kind="customer_voice", params={"count": 3}, label="Three sourced quotes")

    page = admin_client.get(reverse("admin:cases_case_preview", args=[draft.pk])).content.decode()

    assert "1</strong> would change" in page
    assert "Dana Okafor" in page
    assert "Three sourced quotes" in page


def test_preview_command_prints_the_flips(cycle, org, baseline, capsys):
    from django.core.management import call_command

    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case_open(cycle=cycle, subject_employee=org["dana"])
    draft = policy_version_draft_from(version=baseline, effective_from=timezone.localdate())
    requirement_add(version=draft, kind="customer_voice", params={"count": 3}, label="Three sourced quotes")

    call_command("preview_policy", str(draft.pk))

    out = capsys.readouterr().out
    assert "1 open cases examined, 1 would change" in out
    assert "Dana Okafor" in out and "compliant -> NOT compliant" in out


def test_preview_command_with_unknown_version_fails_clearly():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="No policy version with id 999999"):
        call_command("preview_policy", "999999")


def _upload(text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("nominations.csv", text.encode(), content_type="text/csv")
