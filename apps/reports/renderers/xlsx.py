"""XLSX: XlsxWriter in constant-memory mode, a sheet per section, styled and frozen header row.

Text is always written as text (never parsed as a formula, number or link). Text that a spreadsheet would run as
a formula when edited or re-saved as CSV (the rule of apps.common.csv_safety: = + - @ in any width, after blanks,
or a tab or carriage return first) also gets Excel's "quote prefix", the same protection as typing a leading
apostrophe, without changing the text itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.utils import timezone

from apps.common.csv_safety import is_formula_like

from . import Progress, Section

MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included
MAX_SHEET_NAME = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name from a section title (31 characters, none of []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub(" ", title).strip()[:MAX_SHEET_NAME] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: MAX_SHEET_NAME - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


class XlsxRenderer:
    """Excel workbook; rows stream to the sheet's temporary file as they come (constant memory)."""

    format = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def write(self, sections: Sequence[Section], target: IO[bytes], *, progress: Progress | None = None) -> int:
        workbook = xlsxwriter.Workbook(
            target,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        header = workbook.add_format(
            {"bold": True, "bg_color": "#1F4E8C", "font_color": "#FFFFFF", "bottom": 1, "text_wrap": True,
             "valign": "top"}
        )  # fmt: skip
        guarded = workbook.add_format({"quote_prefix": True})
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        taken: set[str] = set()
        written = 0

        def new_sheet(section: Section) -> Any:
            sheet = workbook.add_worksheet(sheet_name(section.title, taken))
            for col, name in enumerate(section.columns):
                sheet.write_string(0, col, str(name), header)
                sheet.set_column(col, col, min(max(len(str(name)) + 2, 10), 50))
            sheet.freeze_panes(1, 0)
            return sheet

        for section in sections:
            sheet = new_sheet(section)
            last_col = max(len(section.columns) - 1, 0)
            row_index = 0
            for values in section.rows:
                row_index += 1
                if row_index >= MAX_ROWS:  # a full sheet continues on the next one
                    sheet.autofilter(0, 0, row_index - 1, last_col)
                    sheet = new_sheet(section)
                    row_index = 1
                for col, value in enumerate(values):
                    self._cell(sheet, row_index, col, value, guarded, date_format, datetime_format)
                written += 1
                if progress is not None and written % 1000 == 0:
                    progress(written)
            sheet.autofilter(0, 0, max(row_index, 1), last_col)
        workbook.close()
        if progress is not None:
            progress(written)
        return written

    @staticmethod
    def _cell(sheet: Any, row: int, col: int, value: Any, guarded: Any, date_format: Any, datetime_format: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, bool):
            sheet.write_string(row, col, "yes" if value else "no")
        elif isinstance(value, int | float | Decimal):
            sheet.write_number(row, col, float(value))
        elif isinstance(value, dt.datetime):
            local = timezone.localtime(value) if timezone.is_aware(value) else value
            sheet.write_datetime(row, col, local.replace(tzinfo=None), datetime_format)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col, value, date_format)
        else:
            text = str(value)
            if is_formula_like(text):
                sheet.write_string(row, col, text, guarded)
            else:
                sheet.write_string(row, col, text)
