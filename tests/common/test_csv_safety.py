"""The one CSV formula rule: every formula-prefix character in any width, after blanks; every export applies it."""

from __future__ import annotations

import csv
import io
import sys
import unicodedata

import pytest

from apps.audit.exports import iter_csv
from apps.audit.models import AuditEvent
from apps.common.csv_safety import FORMULA_CHARACTERS, FORMULA_STARTS, is_formula_like, safe_cell, safe_row
from apps.reports.renderers import Section
from apps.reports.renderers.csv import CsvRenderer
from apps.reports.renderers.xlsx import XlsxRenderer
from tests.factories.audit import AuditEventFactory
from tests.reports.xlsx import read_xlsx

FULLWIDTH = ["\uff1dSUM(A1:A9)", "\uff0b1", "\uff0d2+3", "\uff20cmd"]  # ＝ ＋ － ＠
SMALL_AND_SUPERSCRIPT = ["\ufe66SUM(A1)", "\ufe621", "\ufe632", "\ufe6bcmd", "\u207a1", "\u208c1", "\u22122"]
AFTER_BLANKS = [" =1+1", "\u00a0=1", "\u3000\uff1d1", "\u200b=1", "\ufeff+1", "\n=1", " \t @x", "\x0b-1"]
ASCII = ["=SUM(A1:A9)", "+1", "-2+3", "@cmd", "\tindent", "\rreturn"]
HARMLESS = ["plain text", "a=b", "Fernández", "10 − 2 = 8", "", "  leading blanks only", "(555) 123", "日本語"]


def test_the_list_of_formula_characters_holds_everything_unicode_normalises_to_one():
    from_unicode = {
        chr(code) for code in range(sys.maxunicode + 1) if unicodedata.normalize("NFKC", chr(code)) in FORMULA_STARTS
    }

    assert from_unicode <= FORMULA_CHARACTERS


@pytest.mark.parametrize("text", ASCII + FULLWIDTH + SMALL_AND_SUPERSCRIPT + AFTER_BLANKS)
def test_text_a_spreadsheet_would_run_as_a_formula_gets_a_leading_apostrophe(text):
    assert is_formula_like(text)
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_text_is_written_as_it_is(text):
    assert not is_formula_like(text)
    assert safe_cell(text) == text


def test_numbers_and_none_are_never_neutralised():
    assert safe_row([None, 42, -3, 2.5]) == ["", "42", "-3", "2.5"]


def _csv_rows(sections):
    data = b"".join(CsvRenderer().stream(sections)).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(data)))


@pytest.mark.parametrize("text_columns", [None, [0]])
def test_report_csv_neutralises_fullwidth_and_blank_led_formulas_in_every_path(text_columns):
    hostile = FULLWIDTH + SMALL_AND_SUPERSCRIPT + AFTER_BLANKS
    section = Section("S", ["name", "n"], [[text, -1] for text in hostile], text_columns=text_columns)

    rows = _csv_rows([section])

    assert [row[0] for row in rows[1:]] == ["'" + text.replace("\r", "\n") for text in hostile]
    assert {row[1] for row in rows[1:]} == {"-1"}


def test_report_csv_neutralises_a_hostile_column_name_and_section_title():
    rows = _csv_rows([Section("\uff1dtitle", ["\uff20name"], [["ok"]]), Section("B", ["b"], [])])

    assert rows[0] == ["'\uff1dtitle"]
    assert rows[1] == ["'\uff20name"]


def test_report_xlsx_gives_fullwidth_and_blank_led_formulas_the_quote_prefix():
    hostile = FULLWIDTH + [" =1+1", "\u200b=1"]
    buffer = io.BytesIO()
    XlsxRenderer().write([Section("S", ["name"], [[text] for text in hostile] + [["Plain"]])], buffer)

    cells = [row[0] for row in read_xlsx(buffer.getvalue())["S"].cells[1:]]

    assert [cell.value for cell in cells] == [*hostile, "Plain"]
    assert all(cell.quote_prefix and not cell.formula for cell in cells[:-1])
    assert not cells[-1].quote_prefix


@pytest.mark.django_db
def test_audit_csv_neutralises_a_fullwidth_formula_in_an_event():
    AuditEventFactory(object_repr='\uff1dHYPERLINK("http://x")')

    rows = list(csv.reader(io.StringIO("".join(iter_csv(AuditEvent.objects.all())))))

    assert rows[1][rows[0].index("object_repr")] == '\'\uff1dHYPERLINK("http://x")'
