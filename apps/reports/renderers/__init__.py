"""One renderer per export format (CSV, XLSX): file name, content type, streaming and cell safety in one place.

A report is rendered from `Section`s: a title, column names and rows of plain values (text, numbers, dates,
booleans, None). Rows may be a generator: renderers read them once, in order, and never hold them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Protocol

from ..constants import ExportFormat

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Chart:
    """A native column chart of a section (XLSX only): one bar per row, labelled by one column, a series per
    value column, all named by their column titles and drawn from the sheet's own cells."""

    title: str
    category: str
    values: Sequence[str]
    axis: str = "%"


@dataclass(slots=True)
class Section:
    """One table of an export: a sheet in XLSX, a titled block in CSV."""

    title: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    # Positions of the only columns that can hold free text (names, justifications). When given, the CSV renderer
    # neutralises just those and leaves the rest (numbers, dates, our own words) to the csv module: the case
    # detail has dozens of columns and 100k rows. None: every cell is checked.
    text_columns: Sequence[int] | None = None
    chart: Chart | None = None


class Renderer(Protocol):
    """What every export format provides."""

    format: str
    content_type: str
    extension: str

    def write(self, sections: Sequence[Section], target: IO[bytes], *, progress: Progress | None = None) -> int:
        """Write the sections to a binary file; return the number of data rows written."""
        ...


def renderer_for(export_format: str) -> Renderer:
    """The renderer of a format ('csv' or 'xlsx')."""
    from .csv import CsvRenderer
    from .xlsx import XlsxRenderer

    renderers: dict[str, Renderer] = {ExportFormat.CSV: CsvRenderer(), ExportFormat.XLSX: XlsxRenderer()}
    try:
        return renderers[export_format]
    except KeyError:
        raise ValueError(f"Unknown export format {export_format!r}; use csv or xlsx.") from None


def filename(stem: str, renderer: Renderer) -> str:
    """A download name such as 'compliance-cases-2026-11-25.csv'."""
    return f"{stem}.{renderer.extension}"
