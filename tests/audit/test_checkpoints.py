"""Signed checkpoints outside the database, hash schemes per seal, and the chain key's settings (SQLite is enough)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from apps.audit.chain import EVENT_HASHED_FIELDS, check_chain, compute_hash
from apps.audit.checkpoints import (
    ChainDoesNotExtendCheckpoint,
    CheckpointError,
    CheckpointKeyMismatch,
    checkpoint_age_seconds,
    checkpoint_names,
    latest_checkpoint,
    parse_checkpoint,
    write_checkpoint,
)
from apps.audit.constants import GENESIS_HASH, AuditAction
from apps.audit.models import AuditEvent, AuditSeal
from apps.audit.personal import reveal
from apps.audit.sealer import audit_seal_pending
from ritualcriteria.settings.env import audit_checkpoint_storage, local_secret, require_audit_chain_key
from tests.audit.helpers import tamper
from tests.factories.audit import AuditEventFactory
from tests.factories.org import UserFactory


def _sealed(n: int) -> None:
    AuditEventFactory.create_batch(n)
    audit_seal_pending()


def _storage_dir(settings) -> Path:
    return Path(settings.AUDIT_CHECKPOINT_STORAGE["OPTIONS"]["location"])


@pytest.mark.django_db
def test_a_checkpoint_is_a_new_signed_file_per_day_folder_and_the_latest_is_found(settings):
    _sealed(3)
    first = write_checkpoint(reason="test")
    _sealed(2)
    second = write_checkpoint(reason="test")

    names = list(checkpoint_names())
    assert len(names) == 2 and names[0].endswith("-000000000005.json") and names[1].endswith("-000000000003.json")
    assert names[0].startswith(timezone.now().strftime("%Y/%m/%d/"))
    latest = latest_checkpoint()
    assert latest == second
    assert (latest.head_sequence, latest.count) == (5, 5)
    assert latest.head_hash == AuditSeal.objects.get(sequence=5).hash
    assert first.head_sequence == 3
    assert (_storage_dir(settings) / names[1]).read_bytes() == first.to_bytes()  # never overwritten


@pytest.mark.django_db
def test_an_unmoved_head_gets_no_new_periodic_checkpoint_but_a_forced_one_is_a_new_file():
    _sealed(2)
    write_checkpoint(reason="periodic")

    assert write_checkpoint(reason="periodic") is None
    assert write_checkpoint(reason="export", force=True) is not None
    assert len(list(checkpoint_names())) == 2


@pytest.mark.django_db
def test_an_altered_checkpoint_does_not_verify_and_one_of_another_key_is_a_key_mismatch(settings):
    _sealed(2)
    checkpoint = write_checkpoint(reason="test")
    altered = json.loads(checkpoint.to_bytes())
    altered["head_sequence"] = 1

    with pytest.raises(CheckpointError, match="signature does not verify"):
        parse_checkpoint(json.dumps(altered).encode())
    with pytest.raises(CheckpointKeyMismatch, match="key mismatch"):
        parse_checkpoint(checkpoint.to_bytes(), key=b"another key")
    with pytest.raises(CheckpointError, match="not a readable audit checkpoint|not an audit checkpoint"):
        parse_checkpoint(b"{not json")


@pytest.mark.django_db
def test_verify_audit_names_a_key_mismatch_when_the_servers_key_changed(settings):
    _sealed(3)
    write_checkpoint(reason="test")
    settings.AUDIT_CHAIN_KEY = "a-different-key-than-the-one-that-sealed-0123456789"

    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit")

    assert "key mismatch" in str(excinfo.value)


@pytest.mark.django_db
def test_verify_audit_says_no_checkpoint_yet_and_fails_when_events_are_sealed_but_none_was_written():
    _sealed(2)

    with pytest.raises(CommandError, match="no checkpoint yet"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_compares_with_a_checkpoint_file_given_by_hand(tmp_path, capsys):
    _sealed(3)
    kept = tmp_path / "kept.json"
    kept.write_bytes(write_checkpoint(reason="test").to_bytes())
    call_command("verify_audit", "--checkpoint", str(kept))
    assert "matches the checkpoint" in capsys.readouterr().out

    tamper("DELETE FROM audit_seal WHERE sequence = 3")
    with pytest.raises(CommandError, match=r"truncated after 2 \(the checkpoint says the head was 3\)"):
        call_command("verify_audit", "--checkpoint", str(kept))
    with pytest.raises(CommandError, match="Cannot read the checkpoint"):
        call_command("verify_audit", "--checkpoint", str(tmp_path / "missing.json"))


@pytest.mark.django_db
def test_no_checkpoint_is_written_over_a_truncated_chain():
    _sealed(3)
    write_checkpoint(reason="test")
    newest = AuditSeal.objects.get(sequence=3).event_id
    tamper("DELETE FROM audit_seal WHERE sequence = 3")
    tamper("DELETE FROM audit_event WHERE id = %s", [newest])

    with pytest.raises(ChainDoesNotExtendCheckpoint, match="is gone"):
        write_checkpoint(reason="test", force=True)
    with pytest.raises(CommandError, match="No checkpoint written"):
        call_command("seal_audit")


@pytest.mark.django_db
def test_seals_written_before_the_key_verify_as_plain_sha256_and_new_seals_are_keyed(capsys):
    # Two seals of an install from before the chain key, as migration 0010 leaves them (scheme sha256).
    previous = GENESIS_HASH
    for sequence, event in enumerate(AuditEventFactory.create_batch(2), start=1):
        row = AuditEvent.objects.filter(pk=event.pk).values(*EVENT_HASHED_FIELDS).get()
        row.update(sequence=sequence, prev_hash=previous)
        seal_hash = compute_hash(row, scheme="sha256")
        AuditSeal.objects.bulk_create(
            [AuditSeal(sequence=sequence, event=event, prev_hash=previous, hash=seal_hash, scheme="sha256",
                       sealed_at=timezone.now())]
        )  # fmt: skip
        previous = seal_hash

    _sealed(2)
    checkpoint = write_checkpoint(reason="test")

    assert list(AuditSeal.objects.order_by("sequence").values_list("scheme", flat=True)) == [
        "sha256", "sha256", "hmac-sha256", "hmac-sha256",
    ]  # fmt: skip
    assert (checkpoint.head_sequence, checkpoint.unkeyed_until) == (4, 2)
    call_command("verify_audit")
    assert "OK: 4 events sealed" in capsys.readouterr().out


def test_a_plain_seal_after_a_keyed_one_or_beyond_the_checkpoints_unkeyed_range_is_forged():
    def row(sequence: int, prev: str, scheme: str) -> dict:
        base = {name: "" for name in EVENT_HASHED_FIELDS} | {"occurred_at": "2026-01-01T00:00:00+00:00"}
        base.update(sequence=sequence, prev_hash=prev, scheme=scheme, changes={}, context={}, actor_user_id=None)
        base["hash"] = compute_hash(base, scheme=scheme, key=b"k")
        return base

    keyed = row(1, GENESIS_HASH, "hmac-sha256")
    plain_after = row(2, keyed["hash"], "sha256")
    report = check_chain([keyed, plain_after], key=b"k")
    assert report.broken.sequence == 2 and "unkeyed seal after keyed" in report.broken.reason

    plain = row(1, GENESIS_HASH, "sha256")
    assert check_chain([plain], key=b"k").intact
    assert check_chain([plain], key=b"k", unkeyed_until=0).broken.sequence == 1


@pytest.mark.django_db
def test_export_audit_writes_a_checkpoint_that_covers_the_exports_own_event(tmp_path):
    _sealed(2)

    call_command("export_audit", "--out", str(tmp_path / "audit.csv"))

    latest = latest_checkpoint()
    export_event = AuditEvent.objects.get(action=AuditAction.EXPORT_MADE)
    assert latest.reason == "export"
    assert latest.head_sequence == export_event.seal.sequence


@pytest.mark.django_db
def test_hr_downloads_the_latest_checkpoint_from_the_audit_list_and_the_download_is_audited(client):
    hr = UserFactory(username="hr", is_staff=True, is_superuser=True)
    client.force_login(hr)
    page = client.get(reverse("admin:audit_auditevent_changelist"))
    assert "Download latest checkpoint" in page.content.decode()

    empty = client.get(reverse("admin:audit_auditevent_checkpoint"), follow=True)
    assert "No checkpoint has been written yet" in empty.content.decode()

    _sealed(2)
    checkpoint = write_checkpoint(reason="test")
    response = client.get(reverse("admin:audit_auditevent_checkpoint"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-checkpoint-')
    assert parse_checkpoint(response.content) == checkpoint
    event = AuditEvent.objects.get(action=AuditAction.CHECKPOINT_DOWNLOADED)
    assert reveal(event.actor_name) == "hr" and event.context["checkpoint"].endswith(".json")


@pytest.mark.django_db
def test_staff_who_may_not_see_the_trail_cannot_download_a_checkpoint(client):
    client.force_login(UserFactory(username="editor", is_staff=True))

    assert client.get(reverse("admin:audit_auditevent_checkpoint")).status_code == 403


@pytest.mark.django_db
def test_the_last_checkpoints_age_is_known_without_reading_the_storage():
    assert checkpoint_age_seconds() is None
    _sealed(1)
    write_checkpoint(reason="test")

    assert 0 <= checkpoint_age_seconds() < 60


def test_production_refuses_to_start_without_a_long_chain_key():
    with pytest.raises(ImproperlyConfigured, match="AUDIT_CHAIN_KEY is not set"):
        require_audit_chain_key("")
    with pytest.raises(ImproperlyConfigured, match="shorter than 32"):
        require_audit_chain_key("short")
    assert require_audit_chain_key("k" * 32) == "k" * 32


def test_the_embedded_default_generates_its_chain_key_once_readable_by_the_owner_only(tmp_path):
    path = tmp_path / "data" / "audit-chain.key"

    first = local_secret(path)

    assert len(first) >= 48 and local_secret(path) == first
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_the_checkpoint_storage_setting_takes_any_backend_as_json():
    assert audit_checkpoint_storage("", "/data/cp")["OPTIONS"] == {"location": "/data/cp"}
    s3 = audit_checkpoint_storage('{"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "b"}}', "")
    assert s3 == {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "b"}}
    with pytest.raises(ImproperlyConfigured, match="not valid JSON"):
        audit_checkpoint_storage("{", "")
    with pytest.raises(ImproperlyConfigured, match="must be a JSON object"):
        audit_checkpoint_storage("[]", "")


def test_hashes_cover_the_stored_values():
    # What is hashed is what is stored: an (encrypted) value hashes as its stored form, nothing is decoded first.
    row = {name: "" for name in EVENT_HASHED_FIELDS} | {"sequence": 1, "prev_hash": GENESIS_HASH}
    row.update(occurred_at="2026-01-01T00:00:00+00:00", changes={"name": ["enc:v1:abc", "enc:v1:def"]}, context={})
    assert (
        compute_hash(row, scheme="sha256")
        == hashlib.sha256(
            json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
    )
