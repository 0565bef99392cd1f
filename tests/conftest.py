"""Shared fixtures."""

import pytest
from django.db import connection


@pytest.fixture
def on_postgres() -> bool:
    """True when the suite runs on PostgreSQL (CI), False on the embedded SQLite."""
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Skip @pytest.mark.postgres tests when the database is not PostgreSQL."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL, as .ci/run does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def ensure_builtin_catalogue() -> None:
    """Re-create the rows the data migrations insert (transactional tests flush them)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("apps.policies.migrations.0002_builtin_rituals_and_categories")
    migration.create(apps, None)
    templates = importlib.import_module("apps.policies.migrations.0003_requirement_templates")
    templates.create_templates(apps, None)
    phrases = importlib.import_module("apps.evidence.migrations.0002_solicitation_phrases")
    phrases.seed_builtin_phrases(apps, None)


@pytest.fixture(autouse=True)
def _builtin_catalogue_in_transactional_tests(request):
    """Transactional tests truncate every table afterwards; give each one the built-in rituals and categories."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        ensure_builtin_catalogue()
    yield


@pytest.fixture(autouse=True)
def _restore_celery_queue_selection():
    """A worker started with `queues=[...]` narrows the app's queue selection for good; undo it after each test.

    Otherwise a later test's worker would consume only that queue and never see tasks on the default one.
    """
    from ritualcriteria.celery import app

    queues = app.amqp.queues
    saved = queues._consume_from
    yield
    queues._consume_from = saved


@pytest.fixture(autouse=True)
def _own_checkpoint_storage(settings, tmp_path):
    """Each test gets its own audit checkpoint folder: the database starts empty per test, so must the checkpoints
    (a checkpoint left by an earlier test would describe a chain this test's database never had)."""
    from django.core.cache import cache

    from apps.audit.constants import CHECKPOINT_CACHE_KEY

    settings.AUDIT_CHECKPOINT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "audit-checkpoints")},
    }
    # Forgotten before each test (not after: a test may point the cache at a server that is gone by then).
    cache.delete(CHECKPOINT_CACHE_KEY)
