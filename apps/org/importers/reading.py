"""Reading an org CSV: size and encoding, the header check, and typed access to the cells of each row."""

from __future__ import annotations

import csv
import io

from django.db import models

from apps.common.text import has_control_characters

from .columns import COLUMNS, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, RowError

TRUE_WORDS = ("yes", "true", "1", "y")
FALSE_WORDS = ("no", "false", "0", "n")


def size_problem(size: int) -> str | None:
    """Return why a file of `size` bytes is refused, or None when it is small enough."""
    if size <= MAX_IMPORT_BYTES:
        return None
    return f"The file is {size / 1_048_576:.1f} MB; the limit is {MAX_IMPORT_BYTES // 1_048_576} MB. Split it."


class _Refused(Exception):
    """The file as a whole cannot be used; carries the errors that say why."""

    def __init__(self, *errors: RowError) -> None:
        super().__init__(errors)
        self.errors = list(errors)


def _read_table(content: bytes, kind: str) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[RowError]]:
    """Return the header, the non-blank rows with their line numbers, and rows whose shape is wrong."""
    if problem := size_problem(len(content)):
        raise _Refused(RowError(None, None, problem))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _Refused(
            RowError(line, None, "this is not UTF-8 text; save the file as 'CSV UTF-8' and retry.")
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    line = count = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num  # a quoted cell may span lines; report where the row starts
            if header is None:
                header = _check_header(cells, kind, start)
            elif any(cell.strip() for cell in cells):
                count += 1
                if count > MAX_IMPORT_ROWS:
                    raise _Refused(RowError(None, None, f"The file has over {MAX_IMPORT_ROWS:,} rows; split it."))
                if len(cells) != len(header):
                    errors.append(RowError(start, None, f"has {len(cells)} cells but the header has {len(header)}."))
                elif refused := _control_character_errors(start, header, cells):
                    errors.extend(refused)
                else:
                    rows.append((start, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}))
    except csv.Error as exc:
        raise _Refused(RowError(reader.line_num, None, f"the CSV cannot be read: {exc}.")) from None
    if header is None:
        raise _Refused(RowError(None, None, "The file is empty; its first row must be the header."))
    return header, rows, errors


CONTROL_CHARACTERS_ERROR = "contains control characters, which are not allowed; remove them and retry."


def _control_character_errors(line: int, header: list[str], cells: list[str]) -> list[RowError]:
    """One error per cell of the row holding a control character (apps.common.text); such a row is not used."""
    return [
        RowError(line, name, CONTROL_CHARACTERS_ERROR)
        for name, cell in zip(header, cells, strict=True)
        if has_control_characters(cell)
    ]


def _check_header(cells: list[str], kind: str, line: int) -> list[str]:
    """Return the normalised column names, or refuse a header with missing, unknown, blank or repeated names."""
    names = [cell.strip().lower().replace(" ", "_") for cell in cells]
    columns = COLUMNS[kind]
    allowed = ", ".join(column.name for column in columns)
    if len(names) == 1 and ";" in names[0]:
        raise _Refused(RowError(line, None, "the header is separated by ';'; save the file with commas."))
    problems = []
    if any(has_control_characters(cell) for cell in cells):
        raise _Refused(RowError(line, None, f"the header {CONTROL_CHARACTERS_ERROR}"))
    if blank := [str(index) for index, name in enumerate(names, 1) if not name]:
        problems.append(f"header cell(s) {', '.join(blank)} are empty.")
    if repeated := sorted({name for name in names if name and names.count(name) > 1}):
        problems.append(f"repeated columns: {', '.join(repeated)}.")
    if missing := [column.name for column in columns if column.required and column.name not in names]:
        problems.append(f"missing required columns: {', '.join(missing)} (expected: {allowed}).")
    if unknown := [name for name in names if name and name not in {column.name for column in columns}]:
        problems.append(f"unknown columns: {', '.join(unknown)} (allowed: {allowed}).")
    if problems:
        raise _Refused(*(RowError(line, None, problem) for problem in problems))
    return names


class _Cells:
    """The cells of one row, read by type; each bad cell records a row-and-column error."""

    def __init__(self, line: int, cells: dict[str, str], errors: list[RowError]) -> None:
        self.line, self.cells, self.errors = line, cells, errors

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> str | None:
        """Return the cell ('' when blank), or None when the column is absent or the cell is wrong."""
        value = self.cells.get(column)
        if value is None:
            return None
        if required and not value:
            self.error(column, "a value is required.")
            return None
        if max_length is not None and len(value) > max_length:
            self.error(column, f"is {len(value)} characters long; the limit is {max_length}.")
            return None
        return value

    def integer(self, column: str, low: int, high: int) -> int | None:
        value = self.text(column, required=True)
        if not value:
            return None
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            self.error(column, f"'{value}' is not a whole number from {low} to {high}.")
            return None
        return int(value)

    def boolean(self, column: str) -> bool | None:
        """Return the yes/no cell, or None when blank or absent (meaning: keep the current value)."""
        value = (self.text(column) or "").lower()
        if value in TRUE_WORDS or value in FALSE_WORDS:
            return value in TRUE_WORDS
        if value:
            self.error(column, f"'{value}' is not yes/no; use one of: {', '.join(TRUE_WORDS + FALSE_WORDS)}.")
        return None

    def choice(self, column: str, choices: type[models.TextChoices], noun: str) -> str | None:
        """Return the stored value of a choice given by value or label, in any case."""
        value = self.text(column, required=True)
        if not value:
            return None
        for stored, label in choices.choices:
            if value.lower() in (stored.lower(), str(label).lower()):
                return stored
        self.error(column, f"'{value}' is not a {noun}; use one of: {', '.join(choices.values)}.")
        return None
