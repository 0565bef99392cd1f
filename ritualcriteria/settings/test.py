"""Test settings: fast hashing, in-memory mail; DATABASE_URL and REDIS_URL still select real services."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .env import env_int, env_str

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", "test-only-secret-key-not-for-production")
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="rc-test-media-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if not REDIS_URL:  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STATIC_ROOT = tempfile.mkdtemp(prefix="rc-test-static-")
# Reports compute live in tests (the cache outlives a test's data); tests of stored figures turn them on.
REPORTS_SNAPSHOT_SECONDS = env_int("REPORTS_SNAPSHOT_SECONDS", 0)

if not REDIS_URL:  # noqa: F405
    # A broker folder per test session: runs in the same checkout (or `make run`) must not take each other's tasks.
    _BROKER = Path(tempfile.mkdtemp(prefix="rc-test-broker-"))
    for _folder in ("queue", "processed", "control", "results"):
        (_BROKER / _folder).mkdir()
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER / "queue"),
        "data_folder_out": str(_BROKER / "queue"),
        "processed_folder": str(_BROKER / "processed"),
        "control_folder": str(_BROKER / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{_BROKER / 'results'}"

# Tests seal the audit trail where they look at the chain (apps.audit.sealer.audit_seal_pending); a worker test
# would otherwise run the seal tasks every earlier test asked for, concurrently with its own writes. The request
# after commit has its own worker test (tests/audit/test_sealer.py), which sets the interval back to 0.
AUDIT_SEAL_KICK_INTERVAL = 3600.0
# One drain per evidence event, at once: the worker tests wait for notices, not for the production batching delay.
REMINDERS_DRAIN_DELAY = 0.0
# A fixed chain key, and checkpoints in a folder per test session unless AUDIT_CHECKPOINT_DIR names one (the command
# tests run several processes that must share it).
AUDIT_CHAIN_KEY = env_str("AUDIT_CHAIN_KEY", "test-only-audit-chain-key-not-for-production-0123456789")
AUDIT_CHECKPOINT_STORAGE = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": env_str("AUDIT_CHECKPOINT_DIR") or tempfile.mkdtemp(prefix="rc-test-checkpoints-")},
}
