"""Each audit test gets its own checkpoint folder: the database starts empty per test, so must the checkpoints."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.audit.constants import CHECKPOINT_CACHE_KEY


@pytest.fixture(autouse=True)
def _own_checkpoint_storage(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "audit-checkpoints")},
    }
    cache.delete(CHECKPOINT_CACHE_KEY)
    yield
    cache.delete(CHECKPOINT_CACHE_KEY)
