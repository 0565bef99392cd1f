"""Writes for evidence: drafting, attachments, submission, review and corrections; each one transaction."""

from __future__ import annotations

import logging
import time
from typing import IO, Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from apps.audit.capture import audit_snapshot
from apps.audit.services import audit_record
from apps.common.errors import InvalidTransition
from apps.org.models import Employee

from .constants import (
    ATTACHMENT_TEXT_TIME_BUDGET_SECONDS,
    EDITABLE_STATUSES,
    MAX_ATTACHMENTS_PER_EVIDENCE,
    EvidenceAuditAction,
    EvidenceStatus,
    MetricKind,
)
from .gaming import gaming_flags
from .gaming_store import active_phrases
from .hooks import evidence_event
from .models import Attachment, Evidence
from .permissions import employee_of, review_refusal
from .text_extract import READABLE_TYPES, extract_text
from .uploads import check_upload

logger = logging.getLogger(__name__)

# Fields the owner fills in; everything else is set by the workflow.
EDITABLE_FIELDS = (
    "category", "title", "customer_quote", "source_type", "source_reference", "interpretation", "response",
    "metric_name", "metric_kind", "baseline", "result", "metric_unit", "direction", "metric_period",
    "customer_type", "internal_customer_unit", "touchpoint", "impact_date",
)  # fmt: skip


def _locked(pk: int, *, for_submit: bool = False) -> Evidence:
    """The item, locked to the end of the transaction; Evidence.DoesNotExist if it is gone.

    A submission also reads the category its completeness rules need, the files its flags scan, and the relations
    its answer shows (the owner submits, so the submitted item is answered as read here). of=("self",): lock the
    item only. Locking the joined category row (shared by every item of that category) serialised all submissions
    and deadlocked with concurrent drafts (tests/security/test_concurrency.py).
    """
    queryset = Evidence.objects.select_for_update(of=("self",))
    if for_submit:
        queryset = queryset.select_related(
            "owner", "category", "internal_customer_unit", "touchpoint", "reviewer"
        ).prefetch_related("attachments")  # read once: for the flags' scan and for the answer
    return queryset.get(pk=pk)


def _apply(evidence: Evidence, data: dict[str, Any]) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    for name, value in data.items():
        setattr(evidence, name, value)


# Foreign keys the owner sets (their objects come from lookups: the API's codes, the portal's choices).
_OWNER_RELATIONS = ("category", "internal_customer_unit", "touchpoint")


def _loaded_relations(evidence: Evidence) -> list[str]:
    """Foreign keys whose object was read from the database: asking whether it exists proves nothing more.

    (Model validation's existence check reads without a lock, so a delete at the same moment passes it too: the
    foreign key constraint is what holds.) An unsaved or unset object is still checked.
    """
    loaded = []
    for name in _OWNER_RELATIONS:
        field = cast("models.ForeignKey[Any, Any]", Evidence._meta.get_field(name))  # every name is a foreign key
        related = field.get_cached_value(evidence, None)
        if related is not None and not related._state.adding and related.pk == getattr(evidence, field.attname):
            loaded.append(name)
    return loaded


def _validate(evidence: Evidence) -> None:
    """Model validation plus the rule that the impact cannot lie in the future.

    Not asked of the database again: `created_by` (the signed-in user making the change), related objects read
    from it (`_loaded_relations`) and the table's check constraint, which is what `Evidence.clean()` checks with a
    message per field.
    """
    evidence.full_clean(
        exclude=["owner", "previous", "created_by", *_loaded_relations(evidence)], validate_constraints=False
    )
    if evidence.impact_date and evidence.impact_date > timezone.localdate():
        raise ValidationError({"impact_date": "The impact date cannot be in the future."})


def _owner_of(by: User) -> Employee:
    employee = employee_of(by)
    if employee is None:
        raise PermissionDenied("Only employees can own evidence; your login has no employee record.")
    return employee


@transaction.atomic
def evidence_create(*, by: User, data: dict[str, Any]) -> Evidence:
    """Save a new draft owned by the signed-in employee."""
    evidence = Evidence(owner=_owner_of(by), created_by=by)
    _apply(evidence, data)
    _validate(evidence)
    evidence.save()
    return evidence


@transaction.atomic
def evidence_update(*, evidence: Evidence, by: User, data: dict[str, Any]) -> Evidence:
    """Change a draft or an item sent back for changes; only its owner may."""
    evidence = _locked(evidence.pk)
    before = audit_snapshot(evidence)
    _require_owner(by, evidence, "edit this item")
    if evidence.status not in EDITABLE_STATUSES:
        raise InvalidTransition(f"This item is {evidence.get_status_display().lower()} and can no longer be edited.")
    _apply(evidence, data)
    _validate(evidence)
    evidence.save(audit_before=before)
    return evidence


def _require_owner(by: User, evidence: Evidence, what: str) -> Employee:
    """Refuse anyone but the owner (checked before the state, so others learn nothing about it); return them."""
    employee = employee_of(by)
    if employee is None or employee.pk != evidence.owner_id:
        raise PermissionDenied(f"Only the owner can {what}.")
    return employee


@transaction.atomic
def evidence_delete(*, evidence: Evidence, by: User) -> None:
    """Delete a draft that was never submitted, a started correction included (its files go after commit)."""
    evidence = _locked(evidence.pk)
    _require_owner(by, evidence, "delete this item")
    if evidence.status != EvidenceStatus.DRAFT or evidence.submitted_at is not None:
        raise InvalidTransition("Only a draft that was never submitted can be deleted.")
    names = [attachment.file.name for attachment in evidence.attachments.all() if attachment.file.name is not None]
    for attachment in evidence.attachments.all():
        attachment.delete()
    try:
        evidence.delete()
    except ProtectedError:
        # Another app's row refers to the draft (a case links it); the transaction undoes the files' rows too.
        raise InvalidTransition("This draft is linked to a case; unlink it there first.") from None
    storage = Attachment._meta.get_field("file").storage

    def remove_unshared() -> None:
        for name in names:
            if not Attachment.objects.filter(file=name).exists():
                storage.delete(name)

    transaction.on_commit(remove_unshared)


def _completeness_errors(evidence: Evidence) -> dict[str, str]:
    """What a submitted item must tell: what it meant and what was done, plus the metric for metric categories."""
    errors: dict[str, str] = {}
    if not evidence.interpretation.strip():
        errors["interpretation"] = "Say what this meant for the customer before submitting."
    if not evidence.response.strip():
        errors["response"] = "Say what you did about it before submitting."
    if not (evidence.customer_quote.strip() or evidence.metric_name):
        errors["customer_quote"] = "Add the customer's words (Listen) or a metric (Monitor) before submitting."
    if evidence.category.kind in {"operational_metric", "outcome_metric"} and evidence.baseline is None:
        errors["baseline"] = f"{evidence.category} needs a metric with a baseline and a result."
    if evidence.category.kind == "operational_metric" and evidence.metric_kind == MetricKind.OUTCOME:
        errors["metric_kind"] = "An operational KPI improvement needs an operational metric, not a survey score."
    return errors


# Every free text of an item, with the label a reviewer sees in a flag ("in Customer quote").
SCANNED_FIELDS = {
    "title": "Title", "customer_quote": "Customer quote", "source_reference": "Source reference",
    "interpretation": "Interpretation", "response": "Response", "metric_name": "Metric name",
    "metric_unit": "Metric unit", "metric_period": "Metric period",
}  # fmt: skip


def _attachment_texts(evidence: Evidence) -> tuple[list[tuple[str, str]], list[str]]:
    """(label, text) of each readable attachment, and the names of those that could not be read (logged)."""
    deadline = time.monotonic() + ATTACHMENT_TEXT_TIME_BUDGET_SECONDS
    texts: list[tuple[str, str]] = []
    unread: list[str] = []
    for attachment in evidence.attachments.all():
        if attachment.content_type not in READABLE_TYPES:
            continue
        try:
            with attachment.file.open("rb") as handle:
                text = extract_text(handle, attachment.content_type, deadline=deadline)
        except Exception as exc:  # any storage or parser failure: the reviewer opens the file instead
            logger.warning("Attachment %s of evidence %s not read for flags: %s", attachment.pk, evidence.pk, exc)
            unread.append(attachment.original_name)
            continue
        if text:
            texts.append((f"Attachment {attachment.original_name}", text))
    return texts, unread


def _flags_for(evidence: Evidence) -> list[dict[str, str]]:
    """Gaming flags from every free text of the item and its attachments; a file that cannot be read never blocks."""
    texts = [(label, getattr(evidence, name)) for name, label in SCANNED_FIELDS.items()]
    attachment_texts, unread = _attachment_texts(evidence)
    flags = gaming_flags(
        texts=texts + attachment_texts,
        is_outcome=evidence.is_outcome,
        has_operational_metric=evidence.metric_kind == MetricKind.OPERATIONAL and evidence.baseline is not None,
        phrases=active_phrases(),
        unread=unread,
    )
    return [flag.as_dict() for flag in flags]


# What a submission and a review write: only these columns are updated (and their old values read for the trail).
SUBMIT_FIELDS = ("status", "submitted_at", "gaming_flags", "flags_acknowledged", "updated_at")
REVIEW_FIELDS = ("status", "reviewer", "review_comment", "reviewed_at", "flags_acknowledged", "updated_at")


@transaction.atomic
def evidence_submit(*, evidence: Evidence, by: User) -> Evidence:
    """Send a draft (or a corrected item) for review; reviewers are told after commit."""
    evidence = _locked(evidence.pk, for_submit=True)
    before = audit_snapshot(evidence)
    _require_owner(by, evidence, "submit this item")
    if evidence.status not in EDITABLE_STATUSES:
        raise InvalidTransition(f"This item is already {evidence.get_status_display().lower()}.")
    errors = _completeness_errors(evidence)
    if errors:
        raise ValidationError(errors)
    evidence.status = EvidenceStatus.SUBMITTED
    evidence.submitted_at = timezone.now()
    evidence.gaming_flags = _flags_for(evidence)
    evidence.flags_acknowledged = False
    evidence.save(update_fields=SUBMIT_FIELDS, audit_before=before)
    audit_record(
        action=EvidenceAuditAction.EVIDENCE_SUBMITTED,
        obj=evidence,
        context={"flags": [flag["code"] for flag in evidence.gaming_flags], "version": evidence.version},
    )
    evidence_event(evidence_id=evidence.pk, event="submitted")
    return evidence


def _lock_for_review(evidence: Evidence, by: User) -> Evidence:
    evidence = _locked(evidence.pk)
    if evidence.status != EvidenceStatus.SUBMITTED:
        raise InvalidTransition(
            f"Only submitted items can be reviewed; this one is {evidence.get_status_display().lower()}."
        )
    refusal = review_refusal(by, evidence)
    if refusal:
        raise PermissionDenied(refusal)
    return evidence


def _record_review(evidence: Evidence, by: User, status: str, comment: str, action: str) -> Evidence:
    evidence.status = status
    evidence.reviewer = by
    evidence.review_comment = comment
    evidence.reviewed_at = timezone.now()
    evidence.save(update_fields=REVIEW_FIELDS)
    audit_record(action=action, obj=evidence, personal_context={"comment": comment[:500]})
    evidence_event(evidence_id=evidence.pk, event=status)
    return evidence


@transaction.atomic
def evidence_verify(*, evidence: Evidence, by: User, comment: str = "", acknowledge_flags: bool = False) -> Evidence:
    """Verify a submitted item; flagged items need the reviewer to acknowledge the flags first."""
    evidence = _lock_for_review(evidence, by)
    if evidence.gaming_flags and not acknowledge_flags:
        reasons = " ".join(flag["reason"] for flag in evidence.gaming_flags)
        raise ValidationError(
            {"acknowledge_flags": f"This item is flagged: {reasons} Acknowledge the flags to verify."}
        )
    evidence.flags_acknowledged = bool(evidence.gaming_flags)
    if evidence.previous_id:
        # The correction replaces the old version from now on; the old one stays for the record.
        old = _locked(evidence.previous_id)
        old.is_current = False
        old.save()
    return _record_review(evidence, by, EvidenceStatus.VERIFIED, comment.strip(), EvidenceAuditAction.EVIDENCE_VERIFIED)


def _required(comment: str, what: str) -> str:
    comment = (comment or "").strip()
    if len(comment) < 5:
        raise ValidationError({"comment": f"Explain to the owner why you {what} (a sentence at least)."})
    return comment


@transaction.atomic
def evidence_request_changes(*, evidence: Evidence, by: User, comment: str) -> Evidence:
    """Send a submitted item back to its owner with what to change."""
    comment = _required(comment, "ask for changes")
    evidence = _lock_for_review(evidence, by)
    return _record_review(
        evidence, by, EvidenceStatus.CHANGES_REQUESTED, comment, EvidenceAuditAction.EVIDENCE_CHANGES_REQUESTED
    )


@transaction.atomic
def evidence_reject(*, evidence: Evidence, by: User, comment: str) -> Evidence:
    """Reject a submitted item for good, saying why."""
    comment = _required(comment, "reject it")
    evidence = _lock_for_review(evidence, by)
    return _record_review(evidence, by, EvidenceStatus.REJECTED, comment, EvidenceAuditAction.EVIDENCE_REJECTED)


@transaction.atomic
def evidence_correct(*, evidence: Evidence, by: User) -> Evidence:
    """Start a correction of a verified item: a new draft version linked to it; the verified one is untouched."""
    evidence = _locked(evidence.pk)
    _require_owner(by, evidence, "correct this item")
    if evidence.status != EvidenceStatus.VERIFIED or not evidence.is_current:
        raise InvalidTransition("Only the current verified version of an item can be corrected.")
    if Evidence.objects.filter(previous_id=evidence.pk).exists():
        raise InvalidTransition("A correction of this item already exists; continue that one.")
    copy = Evidence(
        owner_id=evidence.owner_id,
        created_by=by,
        previous=evidence,
        version=evidence.version + 1,
        # A correction still answers the customer insight the item responded to.
        responds_to_id=evidence.responds_to_id,
    )
    for name in EDITABLE_FIELDS:
        setattr(copy, name, getattr(evidence, name))
    copy.save()
    for attachment in evidence.attachments.all():
        # The new version refers to the same stored bytes; files are never overwritten, only added.
        Attachment.objects.create(
            evidence=copy,
            file=attachment.file.name,
            original_name=attachment.original_name,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            uploaded_by=attachment.uploaded_by,
        )
    return copy


@transaction.atomic
def attachment_add(*, evidence: Evidence, by: User, file: IO[bytes], name: str, size: int) -> Attachment:
    """Check and store a file on an editable item; nothing is stored when a check fails."""
    evidence = _locked(evidence.pk)
    _require_owner(by, evidence, "add files to this item")
    if evidence.status not in EDITABLE_STATUSES:
        raise InvalidTransition("Files can only be added to drafts and items sent back for changes.")
    if evidence.attachments.count() >= MAX_ATTACHMENTS_PER_EVIDENCE:
        raise ValidationError({"file": f"An item can have at most {MAX_ATTACHMENTS_PER_EVIDENCE} files."})
    checked = check_upload(file, name=name, size=size, max_bytes=settings.EVIDENCE_MAX_UPLOAD_BYTES)
    attachment = Attachment(
        evidence=evidence,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=by,
    )
    attachment.file.save(checked.name, File(file), save=False)
    # If the row cannot be written, the stored file must not linger.
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: Attachment, by: User) -> None:
    """Remove a file from an editable item (the bytes stay if an older version still uses them)."""
    evidence = _locked(attachment.evidence_id)
    _require_owner(by, evidence, "remove files from this item")
    if evidence.status not in EDITABLE_STATUSES:
        raise InvalidTransition("Files can only be removed from drafts and items sent back for changes.")
    shared = Attachment.objects.filter(file=attachment.file.name).exclude(pk=attachment.pk).exists()
    name = attachment.file.name
    attachment.delete()
    if not shared and name is not None:
        transaction.on_commit(lambda: attachment.file.storage.delete(name))


@transaction.atomic
def evidence_revoke(*, evidence: Evidence, by: User, comment: str) -> Evidence:
    """HR withdraws the verification of an item found to be wrong (e.g. gaming found later): it becomes rejected.

    Open cases stop counting it at once; decided cases keep the evaluation frozen at their decision.
    """
    from apps.common.roles import is_hr

    comment = _required(comment, "revoke the verification")
    evidence = _locked(evidence.pk)
    if evidence.status != EvidenceStatus.VERIFIED:
        raise InvalidTransition("Only verified items can have their verification revoked.")
    if not is_hr(by):
        raise PermissionDenied("Only HR can revoke a verification.")
    return _record_review(evidence, by, EvidenceStatus.REJECTED, comment, EvidenceAuditAction.EVIDENCE_REJECTED)
