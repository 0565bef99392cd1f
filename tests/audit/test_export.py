"""export_audit writes a date range of the trail as safe CSV and records that it did."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent, AuditSeal
from apps.audit.sealer import audit_seal_pending
from apps.audit.selectors import audit_chain_verify
from apps.common.csv_safety import safe_cell, safe_row
from apps.evidence.constants import EvidenceAuditAction
from tests.factories.audit import AuditEventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tindent", "'\tindent"),
        ("\rreturn", "'\rreturn"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_a_spreadsheet_would_run_as_formulas_get_a_leading_apostrophe(value, expected):
    assert safe_cell(value) == expected


def test_safe_row_neutralises_every_cell():
    assert safe_row(["=1", "ok", 3]) == ["'=1", "ok", "3"]


def _events_on(day: dt.date, count: int, **kwargs):  # type: ignore[no-untyped-def]
    with time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), tick=False):
        return AuditEventFactory.create_batch(count, **kwargs)


def test_export_writes_the_events_of_the_date_range_in_the_order_they_were_written(tmp_path):
    _events_on(dt.date(2026, 1, 1), 1)
    inside = _events_on(dt.date(2026, 1, 2), 2) + _events_on(dt.date(2026, 1, 3), 1, object_repr="=cmd|' /C calc'!A0")
    _events_on(dt.date(2026, 1, 4), 1)
    audit_seal_pending()
    seal = AuditSeal.objects.get(event=inside[0])
    out = tmp_path / "audit.csv"

    call_command("export_audit", "--since", "2026-01-02", "--until", "2026-01-03", "--out", str(out))

    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [int(row["id"]) for row in rows] == [e.pk for e in inside]
    assert (rows[0]["sequence"], rows[0]["hash"], rows[0]["prev_hash"]) == (
        str(seal.sequence),
        seal.hash,
        seal.prev_hash,
    )
    assert rows[0]["action"] == EvidenceAuditAction.EVIDENCE_SUBMITTED
    assert json.loads(rows[0]["changes"]) == {}
    assert rows[2]["object_repr"] == "'=cmd|' /C calc'!A0"


def test_the_export_is_itself_an_audit_event_with_filters_and_row_count(tmp_path):
    _events_on(dt.date(2026, 3, 1), 3)

    call_command("export_audit", "--since", "2026-03-01", "--until", "2026-03-01", "--out", str(tmp_path / "a.csv"))

    export = AuditEvent.objects.get(action=AuditAction.EXPORT_MADE)
    assert export.context["rows"] == 3
    assert export.context["filters"] == {"since": "2026-03-01", "until": "2026-03-01"}
    assert export.context["to"] == str(tmp_path / "a.csv")
    assert audit_chain_verify().intact


def test_export_to_standard_output(capsys):
    AuditEventFactory()

    call_command("export_audit", "--out", "-")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,sequence,occurred_at,actor_name")
    assert len(lines) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-13-01"], "--since must be a date written YYYY-MM-DD"),
        (["--until", "yesterday"], "--until must be a date written YYYY-MM-DD"),
        (["--since", "2026-1-2"], "--since must be a date written YYYY-MM-DD"),
        (["--since", "2026-02-02", "--until", "2026-02-01"], "--since must not be after --until"),
    ],
)
def test_bad_dates_are_refused_clearly_and_nothing_is_exported(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_audit", *args, "--out", str(tmp_path / "x.csv"))

    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE).exists()
    assert not (tmp_path / "x.csv").exists()


def test_an_unwritable_destination_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_audit", "--out", str(tmp_path / "missing" / "x.csv"))
