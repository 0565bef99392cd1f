"""Choices and fixed values of the audit trail."""

from django.db import models


class AuditAction(models.TextChoices):
    """The trail's own actions: model changes, sign-ins, exports and imports.

    Domain events (evidence submitted, case approved, ...) belong to their apps, which register them with
    apps.audit.registry.register_actions().
    """

    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    EXPORT_MADE = "export_made", "Export made"
    IMPORT_MADE = "import_made", "Import made"
    LOGIN = "login", "Logged in"
    LOGOUT = "logout", "Logged out"
    LOGIN_FAILED = "login_failed", "Login failed"
    CHECKPOINT_DOWNLOADED = "checkpoint_downloaded", "Audit checkpoint downloaded"


class HashScheme(models.TextChoices):
    """How a seal's hash was computed (stored per seal, so seals written before the chain was keyed still verify).

    SHA256 is the unkeyed hash of installs before the key existed; every new seal is HMAC_SHA256, keyed with
    AUDIT_CHAIN_KEY, which is not in the database. A plain seal after a keyed one is a forgery.
    """

    SHA256 = "sha256", "SHA-256 (unkeyed, before the chain key)"
    HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256 keyed with AUDIT_CHAIN_KEY"


# Models of Django's own apps that are audited too, as "app_label.model_name"; the product's apps register theirs
# (apps.audit.registry.register_tracked_app).
TRACKED_EXTRA_MODELS = frozenset({"auth.user", "auth.group"})
# Fields whose values never reach the trail; a change shows as MASK_CHANGED.
MASKED_FIELDS: dict[str, frozenset[str]] = {"auth.user": frozenset({"password"})}
MASK_OLD = "***"
MASK_CHANGED = "***changed***"

# The previous hash of the first event.
GENESIS_HASH = "0" * 64
# Checkpoints of the chain's head written outside the database (apps.audit.checkpoints).
CHECKPOINT_FORMAT = "ritual-criteria-audit-checkpoint/1"
# The cache key where the last checkpoint's time is kept for /healthz (no storage access on a health check).
CHECKPOINT_CACHE_KEY = "audit-last-checkpoint"
# Key of the PostgreSQL transaction-level advisory lock that serialises appenders ("rc-audit" in ASCII).
CHAIN_LOCK_KEY = 0x72632D6175646974
# How many events verify_audit and the CSV export read per round trip.
DEFAULT_BATCH_SIZE = 2000
# Longest object text kept on an event.
OBJECT_REPR_MAX_LENGTH = 200
