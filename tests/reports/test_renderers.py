"""The CSV and XLSX renderers: cell safety, sections, header styling, frozen header, constant memory."""

import csv
import datetime as dt
import io
import tracemalloc

import pytest

from apps.reports.renderers import Section, renderer_for
from apps.reports.renderers.csv import CsvRenderer
from apps.reports.renderers.xlsx import XlsxRenderer, sheet_name
from tests.reports.xlsx import read_xlsx

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]


def csv_rows(sections):
    data = b"".join(CsvRenderer().stream(sections)).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(data)))


def xlsx_of(sections):
    buffer = io.BytesIO()
    rows = XlsxRenderer().write(sections, buffer)
    return rows, read_xlsx(buffer.getvalue())


def test_csv_neutralises_every_formula_prefix_but_leaves_numbers_alone():
    rows = csv_rows([Section("People", ["name", "score"], [[text, -3] for text in HOSTILE])])

    assert rows[0] == ["name", "score"]
    assert [row[0] for row in rows[1:]] == ["'" + text for text in HOSTILE]
    assert {row[1] for row in rows[1:]} == {"-3"}  # a negative number is a number, not a formula


def test_csv_with_declared_text_columns_neutralises_those_and_writes_the_rest_as_they_are():
    section = Section("S", ["name", "n", "day", "empty"], [[text, -1, dt.date(2026, 11, 25), None] for text in HOSTILE],
                      text_columns=[0])  # fmt: skip

    rows = csv_rows([section])

    assert [row[0] for row in rows[1:]] == ["'" + text for text in HOSTILE]
    assert rows[1][1:] == ["-1", "2026-11-25", ""]


def test_csv_cells_dates_booleans_and_empty():
    rows = csv_rows([Section("S", ["a", "b", "c", "d"], [[dt.date(2026, 11, 25), True, None, 2.5]])])

    assert rows[1] == ["2026-11-25", "yes", "", "2.5"]


def test_csv_starts_with_a_byte_order_mark_for_excel():
    data = b"".join(CsvRenderer().stream([Section("S", ["ä"], [["Fernández"]])]))

    assert data.startswith("\ufeff".encode())
    assert "Fernández" in data.decode("utf-8-sig")


def test_csv_with_several_sections_titles_each_and_separates_them_with_a_blank_line():
    rows = csv_rows([Section("One", ["a"], [[1]]), Section("Two", ["b"], [[2], [3]])])

    assert rows == [["One"], ["a"], ["1"], [], ["Two"], ["b"], ["2"], ["3"]]


def test_xlsx_writes_a_sheet_per_section_with_a_bold_frozen_header_and_a_filter():
    written, sheets = xlsx_of([Section("Compliance by unit", ["unit", "cases"], [["Acme", 7], ["Payroll", 3]]),
                               Section("Evidence: by category?", ["category"], [["Story"]])])  # fmt: skip

    assert written == 3
    assert list(sheets) == ["Compliance by unit", "Evidence  by category"]
    sheet = sheets["Compliance by unit"]
    assert sheet.values == [["unit", "cases"], ["Acme", "7"], ["Payroll", "3"]]
    assert all(cell.bold for cell in sheet.cells[0])
    assert not sheet.cells[1][0].bold
    assert sheet.frozen_rows == 1
    assert sheet.autofilter == "A1:B3"
    assert sheet.cells[1][1].type is None  # a number cell


def test_xlsx_writes_hostile_text_as_text_with_the_quote_prefix_never_as_a_formula():
    _, sheets = xlsx_of([Section("S", ["name"], [[text] for text in HOSTILE] + [["Plain"]])])

    cells = [row[0] for row in sheets["S"].cells[1:]]
    assert [cell.value for cell in cells] == [*HOSTILE, "Plain"]
    assert not any(cell.formula for cell in cells)
    assert all(cell.type in ("s", "inlineStr") for cell in cells)
    assert all(cell.quote_prefix for cell in cells[:-1])
    assert not cells[-1].quote_prefix


def test_xlsx_dates_are_dates_and_urls_are_not_links():
    _, sheets = xlsx_of([Section("S", ["day", "site"], [[dt.date(2026, 11, 25), "http://example.com"]])])

    day, site = sheets["S"].cells[1]
    assert day.type is None and float(day.value) == 46351  # Excel's serial number of 2026-11-25
    assert site.value == "http://example.com" and site.type in ("s", "inlineStr")


def test_sheet_names_are_valid_and_unique():
    taken: set[str] = set()
    assert sheet_name("A/B: c?", taken) == "A B  c"
    assert sheet_name("x" * 40, taken) == "x" * 31
    assert sheet_name("x" * 40, taken) == "x" * 27 + " (2)"


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_renderers_stream_rows_in_constant_memory(export_format):
    def rows(n):
        for i in range(n):
            yield [i, f"Person {i}", "Front desk", "met", "not met", dt.date(2026, 11, 25)]

    def peak(n):
        tracemalloc.start()
        renderer_for(export_format).write([Section("Cases", list("abcdef"), rows(n))], io.BytesIO() if
                                          export_format == "csv" else _Sink())  # fmt: skip
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(2_000), peak(40_000)
    # Twenty times the rows, nowhere near twenty times the memory (the CSV output buffer aside, which is why the
    # CSV case writes to a sink that keeps nothing).
    assert large < small * 3 + 2_000_000


class _Sink(io.RawIOBase):
    """A seekable binary file that keeps only its size (XlsxWriter's zip needs tell/seek)."""

    def __init__(self):
        self.size = 0
        self.position = 0

    def writable(self):
        return True

    def seekable(self):
        return True

    def write(self, data):
        self.position += len(data)
        self.size = max(self.size, self.position)
        return len(data)

    def seek(self, offset, whence=0):
        self.position = offset if whence == 0 else (self.position + offset if whence == 1 else self.size + offset)
        return self.position

    def tell(self):
        return self.position


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="csv or xlsx"):
        renderer_for("pdf")
