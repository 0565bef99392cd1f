"""The evidence workflow: draft, submit, review, correct; guarded transitions, audit events, no half-writes."""

import datetime as dt
import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.common.errors import InvalidTransition
from apps.evidence import hooks
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Attachment, Evidence
from apps.evidence.services import (
    attachment_add,
    evidence_correct,
    evidence_create,
    evidence_delete,
    evidence_reject,
    evidence_request_changes,
    evidence_submit,
    evidence_update,
    evidence_verify,
)
from tests.factories.evidence import AttachmentFactory, EvidenceFactory, category

pytestmark = pytest.mark.django_db


def story(**overrides):
    data = {
        "category": category("customer_story"),
        "title": "Fixed the booking form",
        "customer_quote": "I could not book.",
        "source_type": "support_ticket",
        "source_reference": "TCK-1",
        "interpretation": "Guests were lost online.",
        "response": "Rebuilt the form.",
        "impact_date": timezone.localdate() - dt.timedelta(days=3),
    }
    data.update(overrides)
    return data


def test_employee_creates_a_draft_they_own(people):
    evidence = evidence_create(by=people["owner"].user, data=story())

    assert evidence.status == EvidenceStatus.DRAFT
    assert evidence.owner == people["owner"]


def test_a_login_without_employee_record_cannot_own_evidence(people):
    with pytest.raises(PermissionDenied, match="no employee record"):
        evidence_create(by=people["hr"], data=story())


def test_internal_customer_needs_the_receiving_group(people):
    with pytest.raises(ValidationError) as error:
        evidence_create(by=people["owner"].user, data=story(customer_type="internal"))
    assert "internal_customer_unit" in error.value.message_dict


def test_impact_date_in_the_future_is_refused(people):
    with pytest.raises(ValidationError) as error:
        evidence_create(by=people["owner"].user, data=story(impact_date=timezone.localdate() + dt.timedelta(days=1)))
    assert "impact_date" in error.value.message_dict


def test_a_metric_needs_all_its_parts(people):
    with pytest.raises(ValidationError) as error:
        evidence_create(by=people["owner"].user, data=story(metric_name="FCR", baseline=61))
    assert {"metric_kind", "result", "direction"} <= set(error.value.message_dict)


def test_workflow_fields_cannot_be_set_by_the_owner(people):
    with pytest.raises(ValidationError) as error:
        evidence_create(by=people["owner"].user, data=story(status="verified"))
    assert "status" in error.value.message_dict


def test_submit_requires_interpretation_and_response(people):
    evidence = evidence_create(by=people["owner"].user, data=story(interpretation="", response=""))

    with pytest.raises(ValidationError) as error:
        evidence_submit(evidence=evidence, by=people["owner"].user)

    assert {"interpretation", "response"} <= set(error.value.message_dict)
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.DRAFT


def test_submit_records_an_audit_event_and_announces_after_commit(people, django_capture_on_commit_callbacks):
    seen = []
    hooks.register(lambda evidence_id, event: seen.append((evidence_id, event)))
    evidence = evidence_create(by=people["owner"].user, data=story())

    with django_capture_on_commit_callbacks(execute=True):
        evidence_submit(evidence=evidence, by=people["owner"].user)

    assert (evidence.pk, "submitted") in seen
    event = AuditEvent.objects.filter(action="evidence_submitted").latest("pk")
    assert event.object_id == str(evidence.pk)
    hooks._receivers.pop()


def test_submit_and_review_save_each_field_they_change_and_the_trail_lists_just_those(people):
    evidence = evidence_create(by=people["owner"].user, data=story())

    evidence_submit(evidence=evidence, by=people["owner"].user)
    submitted = AuditEvent.objects.filter(action="update", object_id=str(evidence.pk)).latest("pk")
    evidence_request_changes(evidence=evidence, by=people["manager"].user, comment="Add the ticket number.")
    reviewed = AuditEvent.objects.filter(action="update", object_id=str(evidence.pk)).latest("pk")

    assert set(submitted.changes) == {"status", "submitted_at", "updated_at"}
    assert submitted.changes["status"] == ["draft", "submitted"]
    assert set(reviewed.changes) == {"status", "reviewer", "review_comment", "reviewed_at", "updated_at"}
    evidence.refresh_from_db()
    assert (evidence.status, evidence.review_comment) == ("changes_requested", "Add the ticket number.")
    assert evidence.reviewer == people["manager"].user
    assert evidence.submitted_at is not None and evidence.reviewed_at is not None
    assert evidence.title == "Fixed the booking form"  # the rest of the row untouched


def test_only_the_owner_submits(people):
    evidence = EvidenceFactory(owner=people["owner"])
    with pytest.raises(PermissionDenied):
        evidence_submit(evidence=evidence, by=people["peer"].user)


def test_submitted_items_cannot_be_edited_or_submitted_again(people):
    evidence = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED)

    with pytest.raises(InvalidTransition, match="can no longer be edited"):
        evidence_update(evidence=evidence, by=people["owner"].user, data={"title": "New"})
    with pytest.raises(InvalidTransition):
        evidence_submit(evidence=evidence, by=people["owner"].user)


def test_manager_verifies_a_reports_item(people):
    evidence = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED)

    evidence_verify(evidence=evidence, by=people["manager"].user, comment="Checked ticket")

    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.VERIFIED
    assert evidence.reviewer == people["manager"].user
    assert AuditEvent.objects.filter(action="evidence_verified", object_id=str(evidence.pk)).count() == 1


def test_managers_manager_can_review_too(people):
    evidence = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED)
    evidence_verify(evidence=evidence, by=people["director"].user)
    assert Evidence.objects.get(pk=evidence.pk).status == EvidenceStatus.VERIFIED


def test_nobody_reviews_their_own_evidence_even_a_cx_reviewer(people):
    own = EvidenceFactory(owner=people["reviewer"], status=EvidenceStatus.SUBMITTED)
    with pytest.raises(PermissionDenied, match="your own evidence"):
        evidence_verify(evidence=own, by=people["reviewer"].user)


def test_a_peer_cannot_review(people):
    evidence = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        evidence_verify(evidence=evidence, by=people["peer"].user)


def test_request_changes_and_reject_need_a_comment(people):
    evidence = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED)

    with pytest.raises(ValidationError) as error:
        evidence_request_changes(evidence=evidence, by=people["manager"].user, comment=" ")
    assert "comment" in error.value.message_dict
    with pytest.raises(ValidationError):
        evidence_reject(evidence=evidence, by=people["manager"].user, comment="")
    assert Evidence.objects.get(pk=evidence.pk).status == EvidenceStatus.SUBMITTED


def test_changes_requested_item_goes_back_to_the_owner_and_can_be_resubmitted(people):
    evidence = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED)
    evidence_request_changes(evidence=evidence, by=people["manager"].user, comment="Add the ticket number.")

    evidence_update(evidence=evidence, by=people["owner"].user, data={"source_reference": "TCK-77"})
    evidence_submit(evidence=evidence, by=people["owner"].user)

    assert Evidence.objects.get(pk=evidence.pk).status == EvidenceStatus.SUBMITTED


def test_reviewing_a_draft_or_verified_item_is_an_invalid_transition(people):
    draft = EvidenceFactory(owner=people["owner"])
    with pytest.raises(InvalidTransition, match="Only submitted items"):
        evidence_verify(evidence=draft, by=people["manager"].user)


def test_flagged_item_needs_acknowledgement_to_verify(people):
    evidence = evidence_create(by=people["owner"].user, data=story(response="I asked every guest to give us a 10."))
    evidence_submit(evidence=evidence, by=people["owner"].user)
    evidence.refresh_from_db()
    assert evidence.gaming_flags[0]["code"] == "score_solicitation"

    with pytest.raises(ValidationError) as error:
        evidence_verify(evidence=evidence, by=people["manager"].user)
    assert "acknowledge_flags" in error.value.message_dict

    evidence_verify(evidence=evidence, by=people["manager"].user, acknowledge_flags=True)
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.VERIFIED
    assert evidence.flags_acknowledged


def test_correction_is_a_new_version_and_replaces_the_old_only_once_verified(people):
    original = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.VERIFIED)

    correction = evidence_correct(evidence=original, by=people["owner"].user)
    assert correction.version == 2
    assert correction.previous == original
    assert correction.status == EvidenceStatus.DRAFT
    original.refresh_from_db()
    assert original.is_current
    with pytest.raises(InvalidTransition, match="already exists"):
        evidence_correct(evidence=original, by=people["owner"].user)

    evidence_update(evidence=correction, by=people["owner"].user, data={"title": "Corrected title"})
    evidence_submit(evidence=correction, by=people["owner"].user)
    evidence_verify(evidence=correction, by=people["manager"].user)

    original.refresh_from_db()
    assert original.is_current is False
    assert original.status == EvidenceStatus.VERIFIED
    assert original.title != "Corrected title"
    with pytest.raises(InvalidTransition, match="Only the current verified version"):
        evidence_correct(evidence=original, by=people["owner"].user)


def test_verified_evidence_is_read_only(people):
    evidence = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.VERIFIED)
    with pytest.raises(InvalidTransition):
        evidence_update(evidence=evidence, by=people["owner"].user, data={"title": "x"})


def test_only_never_submitted_drafts_can_be_deleted(people):
    draft = EvidenceFactory(owner=people["owner"])
    evidence_delete(evidence=draft, by=people["owner"].user)
    assert not Evidence.objects.filter(pk=draft.pk).exists()

    sent_back = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.CHANGES_REQUESTED)
    with pytest.raises(InvalidTransition):
        evidence_delete(evidence=sent_back, by=people["owner"].user)


def test_a_draft_linked_to_a_case_is_not_deleted_and_keeps_its_files(people):
    from tests.factories.cases import CaseEvidenceFactory

    draft = EvidenceFactory(owner=people["owner"])
    AttachmentFactory(evidence=draft)
    CaseEvidenceFactory(evidence=draft)

    with pytest.raises(InvalidTransition, match="linked to a case"):
        evidence_delete(evidence=draft, by=people["owner"].user)

    assert Evidence.objects.filter(pk=draft.pk).exists()
    assert Attachment.objects.filter(evidence=draft).count() == 1


def test_refused_upload_stores_nothing(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    evidence = EvidenceFactory(owner=people["owner"])
    data = b"MZ\x90\x00" + b"\x00" * 64

    with pytest.raises(ValidationError):
        attachment_add(evidence=evidence, by=people["owner"].user, file=io.BytesIO(data), name="x.pdf", size=len(data))

    assert Attachment.objects.count() == 0
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_accepted_upload_is_stored_under_a_random_name_with_its_hash(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    evidence = EvidenceFactory(owner=people["owner"])
    data = b"%PDF-1.4\n%%EOF\n"

    attachment = attachment_add(
        evidence=evidence, by=people["owner"].user, file=io.BytesIO(data), name="../../secret.pdf", size=len(data)
    )

    assert attachment.original_name == "secret.pdf"
    assert "secret" not in attachment.file.name
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    stored = tmp_path / attachment.file.name
    assert stored.read_bytes() == data
    assert stored.resolve().is_relative_to(tmp_path.resolve())


def test_a_started_correction_can_be_abandoned(people):
    original = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.VERIFIED)
    correction = evidence_correct(evidence=original, by=people["owner"].user)

    evidence_delete(evidence=correction, by=people["owner"].user)

    assert not Evidence.objects.filter(pk=correction.pk).exists()
    assert Evidence.objects.get(pk=original.pk).is_current


def test_only_the_owner_is_told_about_state(people):
    submitted = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        evidence_update(evidence=submitted, by=people["manager"].user, data={"title": "x"})


def test_hr_revokes_a_verification_with_a_reason(people):
    from apps.evidence.services import evidence_revoke

    item = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.VERIFIED)
    with pytest.raises(PermissionDenied):
        evidence_revoke(evidence=item, by=people["manager"].user, comment="Gaming found later on.")
    with pytest.raises(ValidationError):
        evidence_revoke(evidence=item, by=people["hr"], comment="")

    evidence_revoke(evidence=item, by=people["hr"], comment="The survey was solicited; see ticket 88.")
    assert Evidence.objects.get(pk=item.pk).status == EvidenceStatus.REJECTED
