"""Legal holds and the retention pages in the admin: placing, releasing, the rule list, the dry run, "Run now",
"Erase candidate data now"; each irreversible step behind a confirmation, with bounded queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.common.roles import Role, ensure_role_groups, grant_hr_permissions
from apps.privacy.constants import RetentionKind
from apps.privacy.holds import hold_place, hold_release, person_on_hold
from apps.privacy.models import CandidateErasure, LegalHold, RetentionRule
from tests.factories.cases import CandidateCaseFactory
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db

CANDIDATE = "Ottoline Brackenridge"


@pytest.fixture
def hr_user():
    """A staff user in the HR group, without superuser powers."""
    user = UserFactory(username="hilde", is_staff=True)
    grant_hr_permissions()
    user.groups.add(ensure_role_groups()[Role.HR])
    return user


@pytest.fixture
def hr_client(client, hr_user):
    client.force_login(hr_user)
    return client


def old_rejected_case(days: int | None = None, **extra) -> Case:
    days = days if days is not None else RetentionRule.objects.get(kind=RetentionKind.REJECTED_CANDIDATES).keep_days + 1
    return CandidateCaseFactory(
        candidate_name=extra.pop("candidate_name", CANDIDATE),
        status=CaseStatus.REJECTED,
        decided_at=timezone.now() - dt.timedelta(days=days),
        **extra,
    )


# ---------------------------------------------------------------------------------------------------- services


def test_placing_a_hold_needs_a_reason_and_one_target(hr_user):
    from django.core.exceptions import ValidationError

    person = EmployeeFactory()
    with pytest.raises(ValidationError) as refused:
        hold_place(employee=person, reason="  ", by=hr_user)
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError):
        hold_place(reason="Claim 12", by=hr_user)
    hold = hold_place(employee=person, reason="Claim 12", by=hr_user)
    assert person_on_hold(person) and hold.placed_by == hr_user


def test_releasing_records_who_and_when_and_cannot_happen_twice(hr_user):
    from django.core.exceptions import ValidationError

    hold = hold_place(case=old_rejected_case(), reason="Claim 12", by=hr_user)
    released = hold_release(hold=hold, by=hr_user)
    assert released.released_by == hr_user and released.released_at is not None
    with pytest.raises(ValidationError, match="released already"):
        hold_release(hold=hold, by=hr_user)


def test_someone_without_the_permission_cannot_place_a_hold():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        hold_place(employee=EmployeeFactory(), reason="Claim", by=UserFactory())


# ---------------------------------------------------------------------------------------------------- admin pages


def test_rule_list_shows_what_is_due_now_and_soon(hr_client, django_assert_max_num_queries):
    old_rejected_case()
    CandidateCaseFactory(status=CaseStatus.REJECTED, decided_at=timezone.now() - dt.timedelta(days=170))
    with django_assert_max_num_queries(25):
        response = hr_client.get(reverse("admin:privacy_retentionrule_changelist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Due now" in page and "Due within 30 days" in page
    assert reverse("admin:privacy_retentionrule_dry_run") in page
    row = page[page.index("Rejected candidates") :]
    assert '<td class="field-due_now">1</td>' in row
    assert '<td class="field-due_soon">1</td>' in row


def test_hr_edits_a_rules_period_and_the_change_is_audited(hr_client):
    from apps.audit.models import AuditEvent

    rule = RetentionRule.objects.get(kind=RetentionKind.REMINDER_LOGS)
    url = reverse("admin:privacy_retentionrule_change", args=[rule.pk])
    response = hr_client.post(url, {"keep_days": 500, "enabled": "on", "note": "Two cycles."})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.keep_days == 500
    assert AuditEvent.objects.filter(object_type="privacy.retentionrule", object_id=str(rule.pk)).exists()
    bad = hr_client.post(url, {"keep_days": 0, "enabled": "on", "note": ""})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()


def test_dry_run_lists_due_and_held_items_and_changes_nothing(hr_client, hr_user, django_assert_max_num_queries):
    due = old_rejected_case()
    held = old_rejected_case(candidate_email="held@example.org")
    hold = hold_place(case=held, reason="Claim 12", by=hr_user)
    with django_assert_max_num_queries(20):
        response = hr_client.get(reverse("admin:privacy_retentionrule_dry_run"))
    page = response.content.decode()
    assert f"Case #{due.pk} (hiring, rejected" in page
    assert f"kept by legal hold #{hold.pk}" in page
    assert CANDIDATE not in page  # labels carry no personal content
    assert Case.objects.get(pk=due.pk).candidate_name == CANDIDATE


def test_run_now_asks_for_confirmation_then_removes_and_says_how_much(hr_client):
    case = old_rejected_case()
    url = reverse("admin:privacy_retentionrule_run")
    confirm = hr_client.get(url).content.decode()
    assert "Yes, remove 1 item" in confirm and "cannot be undone" in confirm
    assert not CandidateErasure.objects.exists()
    response = hr_client.post(url, follow=True)
    assert "Removed 1 item" in response.content.decode()
    assert CandidateErasure.objects.filter(case=case).exists()


def test_a_viewer_cannot_run_retention(client):
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_retentionrule"))
    client.force_login(viewer)
    assert client.post(reverse("admin:privacy_retentionrule_run")).status_code == 403


def test_place_a_hold_in_the_admin_then_release_it_after_a_confirmation(hr_client, hr_user):
    person = EmployeeFactory()
    add = reverse("admin:privacy_legalhold_add")
    refused = hr_client.post(add, {"employee": person.pk, "case": "", "reason": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    response = hr_client.post(add, {"employee": person.pk, "case": "", "reason": "Tribunal 2026/44"}, follow=True)
    hold = LegalHold.objects.get()
    assert f"Placed legal hold #{hold.pk}" in response.content.decode()
    assert hold.placed_by == hr_user
    change = hr_client.get(reverse("admin:privacy_legalhold_change", args=[hold.pk])).content.decode()
    assert 'name="_save"' not in change and "Release hold" in change
    release = reverse("admin:privacy_legalhold_release", args=[hold.pk])
    assert "Yes, release the hold" in hr_client.get(release).content.decode()
    done = hr_client.post(release, follow=True).content.decode()
    assert f"Released legal hold #{hold.pk}" in done
    hold.refresh_from_db()
    assert hold.released_by == hr_user


def test_both_targets_at_once_is_a_form_error(hr_client):
    case = old_rejected_case()
    response = hr_client.post(
        reverse("admin:privacy_legalhold_add"), {"employee": EmployeeFactory().pk, "case": case.pk, "reason": "x"}
    )
    assert response.status_code == 200 and not LegalHold.objects.exists()


def test_holds_cannot_be_deleted_and_the_list_filters_and_searches(hr_client, hr_user, django_assert_max_num_queries):
    person = EmployeeFactory(full_name="Perpetua Vance", employee_number="E77777")
    active = hold_place(employee=person, reason="Claim", by=hr_user)
    released = hold_release(hold=hold_place(case=old_rejected_case(), reason="Old", by=hr_user), by=hr_user)
    url = reverse("admin:privacy_legalhold_changelist")
    with django_assert_max_num_queries(20):
        page = hr_client.get(url, {"state": "active"}).content.decode()
    assert f"Legal hold #{active.pk}" in page and f"Legal hold #{released.pk}" not in page
    assert f"Legal hold #{active.pk}" in hr_client.get(url, {"q": "E77777"}).content.decode()
    assert f"Legal hold #{released.pk}" in hr_client.get(url, {"q": str(released.case_id)}).content.decode()
    delete = reverse("admin:privacy_legalhold_delete", args=[active.pk])
    assert hr_client.post(delete, {"post": "yes"}).status_code == 403


# ---------------------------------------------------------------------------------------------------- candidate


def test_erase_candidate_now_from_the_case_page(admin_client):
    case = old_rejected_case(days=3)
    page = admin_client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    url = reverse("admin:privacy_erase_candidate", args=[case.pk])
    assert url in page
    assert "cannot be undone" in admin_client.get(url).content.decode()
    done = admin_client.post(url, follow=True).content.decode()
    assert "Erased the candidate&#x27;s data" in done or "Erased the candidate's data" in done
    case.refresh_from_db()
    assert case.candidate_name == f"Erased candidate #{case.pk}"
    assert case.status == CaseStatus.REJECTED


def test_erase_candidate_now_refuses_an_open_or_held_case(admin_client, hr_user):
    open_case = CandidateCaseFactory()
    url = reverse("admin:privacy_erase_candidate", args=[open_case.pk])
    assert "still open" in admin_client.get(url).content.decode()
    assert "still open" in admin_client.post(url, follow=True).content.decode()
    held = old_rejected_case(days=3, candidate_email="held@example.org")
    hold_place(case=held, reason="Claim", by=hr_user)
    url = reverse("admin:privacy_erase_candidate", args=[held.pk])
    assert "legal hold" in admin_client.post(url, follow=True).content.decode()
    held.refresh_from_db()
    assert held.candidate_name == CANDIDATE


def test_demo_seed_shows_a_due_candidate_a_held_one_and_one_due_soon(hr_user):
    from apps.privacy.demo import seed_privacy
    from apps.privacy.retention import plan_retention, upcoming

    today = timezone.localdate()
    seed_privacy(hr=hr_user, hiring_manager=EmployeeFactory(), today=today)
    plan = [item for item in plan_retention(today) if item.kind == RetentionKind.REJECTED_CANDIDATES]
    assert sorted(item.held_by is not None for item in plan) == [False, True]
    assert any(item.kind == RetentionKind.REJECTED_CANDIDATES for item in upcoming(today, 30))
