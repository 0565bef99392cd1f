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

from . import Chart, Progress, Section

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


# Types written as they are (XlsxWriter or this module's write handlers know them); anything else becomes its text.
PLAIN_TYPES = frozenset({str, int, float, Decimal, bool, dt.date, dt.datetime, type(None)})


def plain(values: Sequence[Any]) -> list[Any]:
    """A row with every value of a known type (a str subclass or an unknown object is written as its text)."""
    return [value if type(value) in PLAIN_TYPES else str(value) for value in values]


class XlsxRenderer:
    """Excel workbook; rows stream to the sheet's temporary file as they come (constant memory), a row at a time,
    with formats made once per workbook; sections with a `Chart` get a native column chart beside their table."""

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
        handlers = _handlers(
            guarded=workbook.add_format({"quote_prefix": True}),
            date_format=workbook.add_format({"num_format": "yyyy-mm-dd"}),
            datetime_format=workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        )
        taken: set[str] = set()
        written = 0

        def new_sheet(section: Section) -> Any:
            sheet = workbook.add_worksheet(sheet_name(section.title, taken))
            for kind, handler in handlers.items():
                sheet.add_write_handler(kind, handler)
            for col, name in enumerate(section.columns):
                sheet.write_string(0, col, str(name), header)
                sheet.set_column(col, col, min(max(len(str(name)) + 2, 10), 50))
            sheet.freeze_panes(1, 0)
            return sheet

        for section in sections:
            sheet = new_sheet(section)
            last_col = max(len(section.columns) - 1, 0)
            row_index = 0
            overflowed = False
            for values in section.rows:
                row_index += 1
                if row_index >= MAX_ROWS:  # a full sheet continues on the next one
                    sheet.autofilter(0, 0, row_index - 1, last_col)
                    sheet = new_sheet(section)
                    row_index, overflowed = 1, True
                sheet.write_row(row_index, 0, plain(values))
                written += 1
                if progress is not None and written % 1000 == 0:
                    progress(written)
            sheet.autofilter(0, 0, max(row_index, 1), last_col)
            if section.chart is not None and row_index and not overflowed:  # a chart of one sheet's rows
                _add_chart(workbook, sheet, section.chart, [str(name) for name in section.columns], row_index)
        workbook.close()
        if progress is not None:
            progress(written)
        return written


def _handlers(*, guarded: Any, date_format: Any, datetime_format: Any) -> dict[type, Any]:
    """XlsxWriter write handlers (its public `add_write_handler`) for the values that need this module's rules."""

    def text(sheet: Any, row: int, col: int, value: str, *_: Any) -> int | None:
        if is_formula_like(value):
            return int(sheet.write_string(row, col, value, guarded))
        return None  # XlsxWriter writes it as a string (its string conversions are off)

    def yes_no(sheet: Any, row: int, col: int, value: bool, *_: Any) -> int:
        return int(sheet.write_string(row, col, "yes" if value else "no"))

    def date(sheet: Any, row: int, col: int, value: dt.date, *_: Any) -> int:
        return int(sheet.write_datetime(row, col, value, date_format))

    def moment(sheet: Any, row: int, col: int, value: dt.datetime, *_: Any) -> int:
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return int(sheet.write_datetime(row, col, local.replace(tzinfo=None), datetime_format))

    return {str: text, bool: yes_no, dt.date: date, dt.datetime: moment}


def _add_chart(workbook: Any, sheet: Any, chart_spec: Chart, columns: list[str], rows: int) -> None:
    """A column chart of the section's rows, drawn from the sheet's cells, placed to the right of the table."""
    name = sheet.get_name()
    category = columns.index(chart_spec.category)
    chart = workbook.add_chart({"type": "column"})
    for title in chart_spec.values:
        col = columns.index(title)
        chart.add_series(
            {
                "name": [name, 0, col],
                "categories": [name, 1, category, rows, category],
                "values": [name, 1, col, rows, col],
            }
        )
    chart.set_title({"name": chart_spec.title})
    chart.set_y_axis({"name": chart_spec.axis, "min": 0})
    chart.set_legend({"position": "bottom"})
    sheet.insert_chart(1, len(columns) + 1, chart, {"x_scale": 1.5, "y_scale": 1.3})
