"""CSV cells that a spreadsheet cannot run as formulas (CSV injection)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Return the cell's text, with a leading apostrophe when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def safe_row(values: Iterable[Any]) -> list[str]:
    """Return a row of safe cells."""
    return [safe_cell(value) for value in values]
