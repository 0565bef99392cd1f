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
