"""Found by bench/load.py: concurrent submissions and new drafts deadlocked on PostgreSQL (503s under load)."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.db import connection, transaction

from apps.evidence.services import evidence_submit

from .conftest import build_cast


def other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.connect(autocommit=True, **params)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_submission_in_progress_does_not_lock_the_shared_category_row():
    """A submit locked its item *and* the item's category (select_related + FOR UPDATE). A new draft's deferred
    foreign-key check needs a share lock on that category at COMMIT, while it holds the audit-chain lock the submit
    waits for: a deadlock, seen as 503s by bench/load.py. The submit must lock its own row only."""
    cast = build_cast()
    submitted = threading.Event()
    release = threading.Event()

    def submit_and_hold() -> None:
        try:
            with transaction.atomic():
                evidence_submit(evidence=cast.draft, by=cast.users["employee"])
                submitted.set()
                release.wait(20)
        finally:
            connection.close()

    worker = threading.Thread(target=submit_and_hold)
    worker.start()
    try:
        assert submitted.wait(20)
        with other_connection() as other:
            other.execute("SET lock_timeout = '2s'")
            # What a new draft's FK check takes at COMMIT: it must not wait for the submit.
            other.execute(
                "SELECT id FROM policies_evidencecategory WHERE id = %s FOR KEY SHARE", [cast.draft.category_id]
            )
            # The item itself stays locked until the submit commits.
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT id FROM evidence_evidence WHERE id = %s FOR UPDATE NOWAIT", [cast.draft.pk])
    finally:
        release.set()
        worker.join(30)
