"""CSV import of insights: a dry run lists errors by line and writes nothing; an import stores the whole file."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from apps.insights.csv_import import insights_csv_import
from apps.insights.models import Insight, InsightRoute

from .conftest import LAST_WEEK

GOOD = f"""source_id,said_on,text,score,score_max,channel,touchpoint,units
R-1,{LAST_WEEK},"The invoice listed a room I never booked.",2,5,survey,invoice,
R-2,{LAST_WEEK},,9,10,survey,checkout,
T-88,{LAST_WEEK},"Nobody called back about my refund.",,,support,,billing;support
"""
BAD = f"""source_id,said_on,text,score,touchpoint,units
R-1,{LAST_WEEK},"Fine",3,invoice,
R-2,2999-01-01,"Later",3,nowhere,
R-1,{LAST_WEEK},"Again",3,invoice,
R-4,{LAST_WEEK},,,invoice,ghost
"""


def test_dry_run_lists_each_error_with_its_line_and_writes_nothing(org):
    result = insights_csv_import(content=BAD.encode(), file_name="bad.csv", source_system="csv", by=None, dry_run=True)
    assert not result.ok
    lines = result.error_lines()
    assert "Line 3, column said_on: " in lines[0] and "in the future" in lines[0]
    assert "Line 3, column touchpoint: No touchpoint has the code 'nowhere'." in lines
    assert "Line 4, column source_id: 'R-1' is also on line 2." in lines
    assert "Line 5, column text: Send the customer's words (text), a score, or both." in lines
    assert "Line 5, column units: No org unit has the code(s): ghost." in lines
    assert not Insight.objects.exists()


def test_an_import_with_errors_writes_nothing_either(org):
    result = insights_csv_import(content=BAD.encode(), file_name="bad.csv", source_system="csv", by=None)
    assert not result.ok and not Insight.objects.exists()


def test_dry_run_of_a_good_file_says_what_would_be_created(org):
    result = insights_csv_import(
        content=GOOD.encode(), file_name="good.csv", source_system="csv", by=None, dry_run=True
    )
    assert result.ok and (result.created, result.duplicates) == (3, 0)
    assert "3 insight(s) would be created" in result.summary()
    assert not Insight.objects.exists()


def test_import_creates_routes_and_a_second_import_finds_duplicates(org):
    first = insights_csv_import(content=GOOD.encode(), file_name="good.csv", source_system="csv", by=None)
    assert (first.created, first.duplicates) == (3, 0)
    assert Insight.objects.get(source_id="R-1").score == 4  # 2 of 5
    assert Insight.objects.get(source_id="R-2").is_score_only
    assert set(InsightRoute.objects.filter(insight__source_id="T-88").values_list("unit__code", flat=True)) == {
        "billing", "support",
    }  # fmt: skip
    again = insights_csv_import(content=GOOD.encode(), file_name="good.csv", source_system="csv", by=None)
    assert (again.created, again.duplicates) == (0, 3)
    assert Insight.objects.count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"source_id,text\nR-1,hi\n", "missing: said_on"),
        ("source_id,said_on\nR-1,\u00e9".encode("latin-1"), "not UTF-8"),
        (b"source_id,said_on,text\nR-1,2026-01-01\n", "has 2 cells but the header has 3"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_reason(org, content, message):
    result = insights_csv_import(content=content, file_name="x.csv", source_system="csv", by=None, dry_run=True)
    assert any(message in line for line in result.error_lines()), result.error_lines()


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "insights.csv"
    path.write_text(content, encoding="utf-8")
    return path


def test_command_imports_and_exits_zero(org, tmp_path):
    out = StringIO()
    call_command("import_insights", str(write(tmp_path, GOOD)), "--source", "survey", stdout=out)
    assert "3 insight(s) created" in out.getvalue()
    assert Insight.objects.filter(source_system="survey").count() == 3


def test_command_dry_run_writes_nothing(org, tmp_path):
    out = StringIO()
    call_command("import_insights", str(write(tmp_path, GOOD)), "--source", "survey", "--dry-run", stdout=out)
    assert "Dry run, nothing written" in out.getvalue()
    assert not Insight.objects.exists()


def test_command_with_errors_exits_non_zero_listing_the_lines(org, tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("import_insights", str(write(tmp_path, BAD)), "--source", "survey")
    assert "nothing was written" in str(error.value) and "Line 3" in str(error.value)
    assert not Insight.objects.exists()


def test_command_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_insights", str(tmp_path / "nope.csv"), "--source", "survey")


@pytest.fixture
def hr_client(client: Any, hr_user: Any) -> Any:
    client.force_login(hr_user)
    return client


def upload(client: Any, content: str, *, dry_run: bool) -> Any:
    data = {"file": SimpleUploadedFile("insights.csv", content.encode(), "text/csv"), "source_system": "csv"}
    return client.post("/admin/insights/insight/import/", data | ({"dry_run": "on"} if dry_run else {}))


def test_admin_page_dry_run_shows_errors_then_import_succeeds_with_a_message(hr_client, org):
    page = hr_client.get("/admin/insights/insight/")
    assert b"Import insights" in page.content
    checked = upload(hr_client, BAD, dry_run=True)
    assert checked.status_code == 200
    assert b"Line 3, column touchpoint" in checked.content and not Insight.objects.exists()
    preview = upload(hr_client, GOOD, dry_run=True)
    assert b"3 insight(s) would be created" in preview.content and not Insight.objects.exists()
    done = upload(hr_client, GOOD, dry_run=False)
    assert done.status_code == 302
    assert Insight.objects.count() == 3
    followed = hr_client.get(done["Location"])
    assert "3 insight(s) created" in followed.content.decode()


def test_admin_import_page_needs_the_add_permission(client, org):
    from tests.factories.org import UserFactory

    client.force_login(UserFactory(username="staff", is_staff=True))
    assert client.get("/admin/insights/insight/import/").status_code == 403


def test_a_file_longer_than_one_api_batch_is_imported_whole(org):
    lines = ["source_id,said_on,score,touchpoint"] + [f"S-{n},{LAST_WEEK},{n % 11},invoice" for n in range(1_200)]
    result = insights_csv_import(content="\n".join(lines).encode(), file_name="big.csv", source_system="csv", by=None)
    assert (result.ok, result.created) == (True, 1_200)
    assert InsightRoute.objects.filter(unit=org["billing"]).count() == 1_200
