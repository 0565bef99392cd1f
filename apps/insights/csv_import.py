"""Importing insights from a CSV file (a survey export, a spreadsheet of interview notes): the API's fields as
columns, every row checked first, then the whole file stored or nothing. A dry run reports what would be created,
what is already stored and each wrong row with its line number."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth.models import User

from .services import IngestRefused, insights_import

MAX_IMPORT_BYTES = 10 * 1_048_576
MAX_IMPORT_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the file: its header name, whether the header must have it, and what goes in it."""

    name: str
    required: bool
    help: str


COLUMNS = (
    Column(
        "source_id",
        True,
        "The insight's id in the source (a response id, a ticket number). Re-importing a row "
        "with the same source and id changes nothing.",
    ),  # fmt: skip
    Column("said_on", True, "When the customer said it, YYYY-MM-DD (not in the future)."),
    Column("text", False, "What the customer said, verbatim (at most 5,000 characters). Text or score is required."),
    Column("score", False, "The customer's score, from 0 to score_max."),
    Column("score_max", False, "The top of the score's scale (any number above 0, at most 1000; default 10)."),
    Column("channel", False, "survey, support, review, interview, sales, social, internal or other (default)."),
    Column("customer_type", False, "external (default) or internal."),
    Column("touchpoint", False, "A touchpoint code: routes by the touchpoint's rules, its stage's, or its owner."),
    Column("journey_stage", False, "A journey stage code (when there is no touchpoint, or the touchpoint's own)."),
    Column("units", False, "Org unit codes the insight is sent to by name, separated by ';'."),
)
EXAMPLE = """source_id,said_on,text,score,score_max,channel,touchpoint,units
R-1001,2026-11-30,"The invoice listed a room I never booked.",2,5,survey,invoice,
R-1002,2026-12-01,,9,10,survey,checkout,
T-88,2026-12-02,"Nobody called back about my refund.",,,support,,billing;support
"""


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem of the file (line None) or of one cell or row, by line number (the header is line 1)."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"Line {self.line}" if self.line is not None else "File"
        column = f", column {self.column}" if self.column and self.column != "non_field_errors" else ""
        return f"{where}{column}: {self.message}"


@dataclass(slots=True)
class CsvImportResult:
    """What an import did (or a dry run would do): rows created, rows already stored, or the errors."""

    file_name: str
    dry_run: bool
    created: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        verb = "would be created" if self.dry_run else "created"
        return f"{self.created} insight(s) {verb}; {self.duplicates} already stored (left unchanged)."

    def error_lines(self) -> list[str]:
        return [str(error) for error in self.errors]


def size_problem(size: int) -> str | None:
    """Why a file of `size` bytes is refused, or None."""
    if size <= MAX_IMPORT_BYTES:
        return None
    return f"The file is {size / 1_048_576:.1f} MB; the limit is {MAX_IMPORT_BYTES // 1_048_576} MB. Split it."


def read_rows(content: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The rows of the file with the line each starts on, or the errors that make the file unusable."""
    if problem := size_problem(len(content)):
        return [], [RowError(None, None, problem)]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        return [], [RowError(line, None, "this is not UTF-8 text; save the file as 'CSV UTF-8' and retry.")]
    reader = csv.reader(io.StringIO(text, newline=""))
    allowed = {column.name for column in COLUMNS}
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    line = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num  # a quoted cell may span lines: report where the row starts
            if header is None:
                header = [cell.strip().lower().replace(" ", "_") for cell in cells]
                missing = [column.name for column in COLUMNS if column.required and column.name not in header]
                unknown = [name for name in header if name not in allowed]
                if missing or unknown or len(set(header)) != len(header):
                    expected = ", ".join(column.name for column in COLUMNS)
                    return [], [RowError(start, None, f"the header must name distinct columns among {expected}; "
                                         f"missing: {', '.join(missing) or 'none'}, unknown: "
                                         f"{', '.join(unknown) or 'none'}.")]  # fmt: skip
            elif any(cell.strip() for cell in cells):
                if len(rows) >= MAX_IMPORT_ROWS:
                    return [], [RowError(None, None, f"The file has over {MAX_IMPORT_ROWS:,} rows; split it.")]
                if len(cells) != len(header):
                    errors.append(RowError(start, None, f"has {len(cells)} cells but the header has {len(header)}."))
                else:
                    rows.append((start, {name: cell for name, cell in zip(header, cells, strict=True) if cell.strip()}))
    except csv.Error as exc:
        return [], [RowError(reader.line_num, None, f"the CSV cannot be read: {exc}.")]
    if header is None:
        return [], [RowError(None, None, "The file is empty; its first row must be the header.")]
    return rows, errors


def insights_csv_import(
    *, content: bytes, file_name: str, source_system: str, by: User | None, dry_run: bool = False
) -> CsvImportResult:
    """Check every row of an insights CSV; unless it is a dry run or any row is wrong, store the whole file."""
    result = CsvImportResult(file_name=file_name, dry_run=dry_run)
    rows, result.errors = read_rows(content)
    if result.errors and not rows:
        return result
    first_line: dict[str, int] = {}
    unique_rows = []
    for line, cells in rows:
        source_id = cells.get("source_id", "").strip()
        if source_id and (earlier := first_line.setdefault(source_id, line)) != line:
            result.errors.append(RowError(line, "source_id", f"'{source_id}' is also on line {earlier}."))
        else:
            unique_rows.append((line, cells))
    rows = unique_rows
    if rows:
        # With wrong lines already found, the rest is still checked (every error at once) but nothing is written.
        check_only = dry_run or bool(result.errors)
        try:
            answer = insights_import(
                source_system=source_system, rows=[cells for _, cells in rows], by=by, dry_run=check_only
            )
        except IngestRefused as refused:
            result.errors.extend(
                RowError(rows[index][0] if index >= 0 else None, column, message)
                for index, columns in refused.errors.items()
                for column, messages in columns.items()
                for message in messages
            )
        else:
            if not result.errors:
                result.created, result.duplicates = answer.created, answer.duplicates
    result.errors.sort(key=lambda error: error.line or 0)
    return result
