"""Choices and rules for cycles, cases, approval routes and exceptions."""

from django.db import models


class CycleStatus(models.TextChoices):
    """Whether cases can be opened in a cycle."""

    PLANNED = "planned", "Planned"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class CaseStatus(models.TextChoices):
    """Where a case stands; every status but OPEN is a decision and read-only."""

    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    APPROVED_WITH_EXCEPTION = "approved_with_exception", "Approved with exception"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


DECIDED_STATUSES = frozenset(
    {CaseStatus.APPROVED, CaseStatus.APPROVED_WITH_EXCEPTION, CaseStatus.REJECTED, CaseStatus.WITHDRAWN}
)


class StepRole(models.TextChoices):
    """Who acts on an approval step."""

    MANAGER = "manager", "The subject's manager"
    SKIP_LEVEL_MANAGER = "skip_level_manager", "The manager's manager"
    HR = "hr", "HR"
    LEADERSHIP = "leadership", "Leadership"
    GROUP = "group", "A named group"


class StepDecision(models.TextChoices):
    """What an approver did at a step."""

    APPROVE = "approve", "Approve / recommend"
    REJECT = "reject", "Reject"


class ExceptionStatus(models.TextChoices):
    """A policy exception is requested by one person and granted (or refused) by another, in HR."""

    REQUESTED = "requested", "Requested"
    GRANTED = "granted", "Granted"
    REFUSED = "refused", "Refused"


class AttestationRole(models.TextChoices):
    """Roles whose attestation a policy may require (matches the engine's attestation roles)."""

    MANAGER = "manager", "Manager"
    SKIP_LEVEL_MANAGER = "skip_level_manager", "Skip-level manager"
    HR = "hr", "HR"
    LEADERSHIP = "leadership", "Leadership"


DEFAULT_REMINDER_OFFSETS = [14, 7, 1]
MIN_JUSTIFICATION_WORDS = 6
MIN_NOTE_LENGTH = 5


class CaseAuditAction(models.TextChoices):
    """Decisions on cases and exceptions, on the audit trail (registered in CasesConfig.ready())."""

    CASE_APPROVED = "case_approved", "Case approved"
    CASE_REJECTED = "case_rejected", "Case rejected"
    CASE_WITHDRAWN = "case_withdrawn", "Case withdrawn"
    EXCEPTION_GRANTED = "exception_granted", "Exception granted"
    EXCEPTION_REQUESTED = "exception_requested", "Exception requested"
    EXCEPTION_REFUSED = "exception_refused", "Exception refused by HR"
    ATTESTATION_WITHDRAWN = "attestation_withdrawn", "Attestation withdrawn"
    # Refused attempts: written after the refused service rolled back, so the trail shows who tried what.
    CASE_OPENING_REFUSED = "case_opening_refused", "Case opening refused"
    CASE_DECISION_REFUSED = "case_decision_refused", "Case decision refused"
    EXCEPTION_REQUEST_REFUSED = "exception_request_refused", "Exception request refused"
    EXCEPTION_DECISION_REFUSED = "exception_decision_refused", "Exception decision refused"
    ATTESTATION_REFUSED = "attestation_refused", "Attestation refused"
    ATTESTATION_WITHDRAWAL_REFUSED = "attestation_withdrawal_refused", "Attestation withdrawal refused"


class PreviewStatus(models.TextChoices):
    """Life of a policy preview job: queued, running (progress per chunk of cases), then done or failed."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE_PREVIEW_STATUSES = frozenset({PreviewStatus.QUEUED, PreviewStatus.RUNNING})
# Open cases evaluated per chunk of a preview: memory holds one chunk's cases and evidence facts.
PREVIEW_CHUNK_SIZE = 500
# A queued or running preview older than this is taken as abandoned (its worker died): HR may start another.
PREVIEW_ABANDONED_AFTER_HOURS = 2
# Progress of a running preview is kept in the cache (not on the audited job row).
PREVIEW_PROGRESS_CACHE_KEY = "cases:preview-progress:{job_id}"
