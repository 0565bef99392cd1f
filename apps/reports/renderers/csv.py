"""CSV: streamed line by line in constant memory; text cells a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from apps.common.csv_safety import safe_cell, safe_text

from . import Progress, Section

# Excel reads UTF-8 CSV as the local code page unless the file starts with a byte-order mark.
BOM = "\ufeff"
# Lines are handed to the response in chunks of about this many characters (fewer, larger writes).
CHUNK_CHARS = 64 * 1024


class _Echo:
    """A file-like object whose write() returns what it is given, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def cell(value: Any) -> str | int | float | Decimal:
    """A CSV cell: numbers as they are, dates in ISO 8601, yes/no for booleans, neutralised text.

    Called for every cell of 100k-row exports: the common types are tested first, by exact type.
    """
    kind = type(value)
    if kind is str:
        return safe_text(value)
    if kind is int or kind is float or value is None:
        return "" if value is None else value  # a number is never a formula, even a negative one
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return safe_cell(value)


class CsvRenderer:
    """Comma-separated values, UTF-8 with a byte-order mark; several sections are separated by a blank line and
    each starts with its title on a line of its own."""

    format = "csv"
    content_type = "text/csv; charset=utf-8"
    extension = "csv"

    def lines(self, sections: Sequence[Section], *, progress: Progress | None = None) -> Iterator[str]:
        """Yield the file's text in chunks, reading each section's rows once."""
        writer = csv.writer(_Echo())
        buffer: list[str] = [BOM]
        size = 0
        rows_written = 0
        titled = len(sections) > 1
        for index, section in enumerate(sections):
            if index:
                buffer.append(writer.writerow([]))
            if titled:
                buffer.append(writer.writerow([cell(section.title)]))
            buffer.append(writer.writerow([cell(name) for name in section.columns]))
            text_columns = section.text_columns
            for row in section.rows:
                if text_columns is None:
                    line = writer.writerow([cell(value) for value in row])
                else:
                    row = list(row)
                    for index in text_columns:
                        value = row[index]
                        if type(value) is str:
                            row[index] = safe_text(value)
                    line = writer.writerow(row)
                buffer.append(line)
                size += len(line)
                rows_written += 1
                if size >= CHUNK_CHARS:
                    yield "".join(buffer)
                    buffer, size = [], 0
                    if progress is not None:
                        progress(rows_written)
        if buffer:
            yield "".join(buffer)
        if progress is not None:
            progress(rows_written)

    def stream(self, sections: Sequence[Section], *, progress: Progress | None = None) -> Iterator[bytes]:
        """The file as UTF-8 byte chunks, for a streaming HTTP response."""
        for text in self.lines(sections, progress=progress):
            yield text.encode("utf-8")

    def write(self, sections: Sequence[Section], target: IO[bytes], *, progress: Progress | None = None) -> int:
        counted = [0]

        def track(rows: int) -> None:
            counted[0] = rows
            if progress is not None:
                progress(rows)

        for chunk in self.stream(sections, progress=track):
            target.write(chunk)
        return counted[0]
