"""Choices and fixed values of retention, legal holds and erasure."""

from django.db import models

from apps.audit.registry import register_actions


class RetentionKind(models.TextChoices):
    """The kinds of personal data a retention rule can cover; each says from when its period counts."""

    REJECTED_CANDIDATES = "rejected_candidates", "Rejected candidates (from the decision)"
    HIRED_CANDIDATES = "hired_candidates", "Hired candidates' hiring-case data (from the decision)"
    LEAVER_ATTACHMENTS = "leaver_attachments", "Evidence attachments of people who left (from leaving)"
    REMINDER_LOGS = "reminder_logs", "Reminder and notification log (from sending)"
    DECIDED_CASES = "decided_cases", "Decided cases (from the decision)"


# The rules the data migration creates (HR edits them in the admin): kind -> (days kept, why).
DEFAULT_RULES: dict[str, tuple[int, str]] = {
    RetentionKind.REJECTED_CANDIDATES: (
        180,
        "Six months after the decision: long enough to answer a discrimination claim about the hiring decision.",
    ),
    RetentionKind.HIRED_CANDIDATES: (
        365,
        "A year after the decision: the hiring file is then kept in the HR system, not here.",
    ),
    RetentionKind.LEAVER_ATTACHMENTS: (
        365,
        "A year after leaving: evidence files are no longer needed once references and disputes are settled.",
    ),
    RetentionKind.REMINDER_LOGS: (
        400,
        "A year and a month after the last send: proves who was reminded for one yearly cycle and its appeals.",
    ),
    RetentionKind.DECIDED_CASES: (
        2190,
        "Six years after the decision: the limitation period for employment claims and pay records.",
    ),
}

# Items removed per transaction by a retention run (a lock held briefly; a failure loses one batch at most).
RETENTION_BATCH_SIZE = 200
# How far ahead the dry run and the rule list look for what becomes due soon.
UPCOMING_DAYS = 30
# Items per page of the dry-run page.
DRY_RUN_PAGE_SIZE = 50


def erased_candidate_label(case_id: int) -> str:
    """What a hiring case shows in place of its candidate's name once the candidate's data is erased."""
    return f"Erased candidate #{case_id}"


def erased_candidate_email(case_id: int) -> str:
    """The address an erased candidate's case keeps: never anyone's, unique per case, and not empty, so the trail
    still knows the case is about a candidate (whose key is destroyed: later events about it store "[erased]")."""
    return f"erased-candidate-{case_id}@erased.invalid"


class ErasureCause(models.TextChoices):
    """Why a candidate's data was erased."""

    REJECTED_CANDIDATES = RetentionKind.REJECTED_CANDIDATES.value, "Retention: rejected candidates"
    HIRED_CANDIDATES = RetentionKind.HIRED_CANDIDATES.value, "Retention: hired candidates"
    BY_HAND = "by_hand", "Erased by HR on request"


class PrivacyAuditAction(models.TextChoices):
    """Retention's domain events on the audit trail: what was removed, never the removed content."""

    RETENTION_REMOVED = "retention_removed", "Removed by retention"
    RETENTION_RUN = "retention_run", "Retention run"
    CANDIDATE_ERASED = "candidate_erased", "Candidate's data erased"


register_actions(PrivacyAuditAction)
