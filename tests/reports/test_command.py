"""manage.py export_compliance: files in both formats, audited; bad arguments explained, non-zero exit."""

import csv

import pytest
from django.core.management import CommandError, call_command

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from tests.reports.xlsx import read_xlsx

pytestmark = pytest.mark.django_db


def test_exports_the_case_detail_of_a_cycle_to_csv(company, tmp_path, capsys):
    out = tmp_path / "h1.csv"

    call_command("export_compliance", "--format", "csv", "--cycle", "Promotions H1", "--out", str(out))

    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [row["subject"] for row in rows] == ["Ann Archer", "Bob Baker", "Cat Cooper", "Dan Dunn", "Eve Evans"]
    assert "Exported 5 rows" in capsys.readouterr().out
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_MADE)
    assert (event.context["rows"], event.context["to"]) == (5, str(out))
    assert event.actor_name.startswith("system")
    assert not list(tmp_path.glob("*.part"))


def test_exports_a_report_to_xlsx_by_cycle_id(company, tmp_path):
    out = tmp_path / "summary.xlsx"

    call_command("export_compliance", "--format", "xlsx", "--report", "summary", "--cycle", str(company.h2.pk),
                 "--unit", "finance", "--out", str(out))  # fmt: skip

    units = read_xlsx(out.read_bytes())["Compliance by unit"].values
    assert [row[0] for row in units[1:]] == ["Finance", "Payroll"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cycle", "Nope"], "no cycle has this name"),
        (["--cycle", "999999"], "no cycle has this id"),
        (["--unit", "nope"], "unit"),
        (["--from", "2026-12-01", "--to", "2026-01-01"], "cannot be before its start"),
        (["--from", "yesterday"], "date"),
    ],
)
def test_bad_filters_are_refused_with_a_clear_message(company, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_compliance", "--format", "csv", *args, "--out", str(tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE).exists()


def test_bad_format_and_destination_are_refused(company, tmp_path):
    with pytest.raises(CommandError, match="invalid choice: 'pdf'"):
        call_command("export_compliance", "--format", "pdf", "--out", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="Only CSV can go to standard output"):
        call_command("export_compliance", "--format", "xlsx", "--out", "-")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_compliance", "--format", "csv", "--out", str(tmp_path / "missing" / "x.csv"))


def test_a_bad_argument_exits_non_zero_from_the_shell(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "export_compliance",
            "--format",
            "csv",
            "--from",
            "soon",
            "--out",
            str(tmp_path / "x.csv"),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "ritualcriteria.settings.test"},
        check=False,
    )
    assert result.returncode != 0
    assert "date" in result.stderr.lower()
