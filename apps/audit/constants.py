"""Choices and fixed values of the audit trail."""

from django.db import models


class AuditAction(models.TextChoices):
    """What an audit event records: a model change or a domain event."""

    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
    EVIDENCE_VERIFIED = "evidence_verified", "Evidence verified"
    EVIDENCE_REJECTED = "evidence_rejected", "Evidence rejected"
    EVIDENCE_CHANGES_REQUESTED = "evidence_changes_requested", "Evidence changes requested"
    POLICY_DRAFTED = "policy_drafted", "Policy drafted"
    POLICY_PUBLISHED = "policy_published", "Policy published"
    POLICY_RETIRED = "policy_retired", "Policy retired"
    CASE_APPROVED = "case_approved", "Case approved"
    CASE_REJECTED = "case_rejected", "Case rejected"
    CASE_WITHDRAWN = "case_withdrawn", "Case withdrawn"
    EXCEPTION_GRANTED = "exception_granted", "Exception granted"
    EXPORT_MADE = "export_made", "Export made"
    IMPORT_MADE = "import_made", "Import made"
    LOGIN = "login", "Logged in"
    LOGOUT = "logout", "Logged out"
    LOGIN_FAILED = "login_failed", "Login failed"
    DEMO_SEEDED = "demo_seeded", "Demo data seeded"


# Every concrete model of these apps is audited, including models added later (found at start-up).
TRACKED_APP_LABELS = frozenset({"org", "policies", "evidence", "cases", "reminders", "reports", "portal", "common"})
# Models of other apps that are audited too, as "app_label.model_name".
TRACKED_EXTRA_MODELS = frozenset({"auth.user", "auth.group"})
# Models of those apps that are not audited, each a queue of work whose every row repeats an audited event and lives
# for seconds: reminders.pendingevidenceevent (an evidence event whose notifications the worker has yet to write; the
# event itself is on the trail, as are the reminders written from it).
UNTRACKED_MODELS = frozenset({"reminders.pendingevidenceevent"})
# Fields whose values never reach the trail; a change shows as MASK_CHANGED.
MASKED_FIELDS: dict[str, frozenset[str]] = {"auth.user": frozenset({"password"})}
MASK_OLD = "***"
MASK_CHANGED = "***changed***"

# The previous hash of the first event.
GENESIS_HASH = "0" * 64
# Key of the PostgreSQL transaction-level advisory lock that serialises appenders ("rc-audit" in ASCII).
CHAIN_LOCK_KEY = 0x72632D6175646974
# How many events verify_audit and the CSV export read per round trip.
DEFAULT_BATCH_SIZE = 2000
# Longest object text kept on an event.
OBJECT_REPR_MAX_LENGTH = 200
