"""Choices and fixed values of reminders and notifications."""

from django.db import models


class ReminderKind(models.TextChoices):
    """What a reminder is about; each kind has its own e-mail templates."""

    EVIDENCE_DUE = "evidence_due", "Evidence due"
    REVIEW_REQUESTED = "review_requested", "Review requested"
    REVIEW_WAITING = "review_waiting", "Review waiting"
    ESCALATION = "escalation", "Escalation to HR"
    DIGEST = "digest", "Weekly manager digest"
    EVIDENCE_REVIEWED = "evidence_reviewed", "Evidence reviewed"
    EVIDENCE_RESUBMITTED = "evidence_resubmitted", "Evidence resubmitted"
    STEP_WAITING = "step_waiting", "Approval step waiting"
    CASE_DECIDED = "case_decided", "Case decided"
    EXCEPTION_WAITING = "exception_waiting", "Exception waiting"
    INSIGHTS_DIGEST = "insights_digest", "Weekly customer-insight digest of a unit"


class ReminderStatus(models.TextChoices):
    """Where a reminder stands: pending rows are the outbox; only a claimed row is ever sent.

    Failed means the mail server definitely refused the e-mail (it did not go out); possibly sent means the attempts
    ran out without a definite answer (a worker that died mid-send, a server that timed out): it may have gone out.
    """

    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (refused)"
    UNCERTAIN = "uncertain", "Possibly sent"
    CANCELLED = "cancelled", "Cancelled"


# What HR reads about the two end states that need a person (admin column, confirmation page, docs).
STATUS_EXPLANATIONS: dict[str, str] = {
    ReminderStatus.FAILED: (
        "The mail server refused it: it did not go out. Fix the address or the server, then send it again."
    ),
    ReminderStatus.UNCERTAIN: (
        "No definite answer after every attempt (a worker stopped mid-send, the server timed out): it may have "
        "gone out. Ask the recipient before sending it again; a second copy carries the same Message-ID."
    ),
}


# Kinds a recipient can never turn off (only the weekly digest can be).
MANDATORY_KINDS = frozenset(
    {
        ReminderKind.EVIDENCE_DUE,
        ReminderKind.REVIEW_REQUESTED,
        ReminderKind.REVIEW_WAITING,
        ReminderKind.ESCALATION,
        ReminderKind.EVIDENCE_REVIEWED,
        ReminderKind.EVIDENCE_RESUBMITTED,
        ReminderKind.STEP_WAITING,
        ReminderKind.CASE_DECIDED,
        ReminderKind.EXCEPTION_WAITING,
    }
)

# Occasions of an escalation about a cycle: the deadline that passed with cases still short.
OCCASION_EVIDENCE_DEADLINE = "evidence-deadline-passed"
OCCASION_DECISION_DEADLINE = "decision-deadline-passed"

# How many short cases an escalation or digest lists by name; the rest are counted.
MAX_LISTED_CASES = 25
# Longest error text kept on a reminder row.
MAX_ERROR_LENGTH = 2000
