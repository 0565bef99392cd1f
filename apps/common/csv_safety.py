"""CSV cells that a spreadsheet cannot run as formulas (CSV injection): the one rule every export uses.

A cell is "formula-like" when its first visible character is one a spreadsheet starts a formula with (= + - @),
in any form a spreadsheet or an import step may normalise to it (fullwidth ＝ ＋ － ＠, the small and
superscript/subscript forms, the minus sign), and also when it starts with a tab or carriage return. Leading
whitespace, control and invisible format characters (zero-width space, byte-order mark) are skipped first: LibreOffice
and Google Sheets trim them on import and would then see the formula. Such a cell gets a leading apostrophe (CSV)
or Excel's quote prefix (XLSX); the text itself is kept.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

# The ASCII characters a spreadsheet starts a formula with.
FORMULA_STARTS = frozenset("=+-@")
# Everything whose compatibility form (NFKC) is one of them: fullwidth, small and super/subscript forms, plus the
# minus sign (U+2212), which NFKC leaves alone but spreadsheets read as minus. A test derives this set from the
# Unicode database, so a character missing here fails it.
FORMULA_CHARACTERS = FORMULA_STARTS | frozenset(
    "\u207a\u207c"  # superscript plus, equals
    "\u208a\u208c"  # subscript plus, equals
    "\u2212"  # minus sign
    "\ufb29"  # Hebrew alternative plus sign
    "\ufe62\ufe63\ufe66\ufe6b"  # small plus, hyphen-minus, equals, commercial at
    "\uff0b\uff0d\uff1d\uff20"  # fullwidth plus, hyphen-minus, equals, commercial at
)
# A tab or carriage return first also makes a cell formula-like (OWASP: it can hide a formula after it).
BREAKING_STARTS = frozenset("\t\r")
# What a spreadsheet trims before it looks at the first character: blanks, control and invisible format characters.
_LEADING_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet run this text as a formula (after trimming what it trims)?"""
    if not text:
        return False
    first = text[0]
    if first.isalnum():  # the common case, decided with one look
        return False
    if first in FORMULA_CHARACTERS or first in BREAKING_STARTS:
        return True
    for char in text:
        if char in FORMULA_CHARACTERS:
            return True
        if not (char.isspace() or unicodedata.category(char) in _LEADING_INVISIBLE_CATEGORIES):
            return False
    return False


def safe_text(text: str) -> str:
    """The text, with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + text if is_formula_like(text) else text


def safe_cell(value: Any) -> str:
    """Return the cell's text, with a leading apostrophe when a spreadsheet would run it as a formula.

    A number is written as it is: -3 is a number to a spreadsheet, not a formula.
    """
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return safe_text("" if value is None else str(value))


def safe_row(values: Iterable[Any]) -> list[str]:
    """Return a row of safe cells."""
    return [safe_cell(value) for value in values]
