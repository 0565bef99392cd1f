"""Read back what the XLSX renderer wrote, straight from the file's XML (no spreadsheet library needed)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree  # noqa: S405 - parses only files the product's own renderer wrote

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass
class Cell:
    ref: str
    value: str
    type: str | None
    formula: bool
    quote_prefix: bool
    bold: bool


@dataclass
class Sheet:
    name: str
    cells: list[list[Cell]]
    frozen_rows: int
    autofilter: str | None

    @property
    def values(self) -> list[list[str]]:
        return [[cell.value for cell in row] for row in self.cells]


def _unescape(text: str) -> str:
    """OOXML writes control characters as _xHHHH_ (a carriage return is _x000D_)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda match: chr(int(match.group(1), 16)), text)


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref).group(0)
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


def _parse(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    return ElementTree.fromstring(archive.read(name))  # noqa: S314 - our own renderer's output, not untrusted input


def read_xlsx(data: bytes) -> dict[str, Sheet]:
    """Every sheet by name, with each cell's text, type, formula, quote prefix and boldness."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    shared: list[str] = []
    if "xl/sharedStrings.xml" in archive.namelist():
        root = _parse(archive, "xl/sharedStrings.xml")
        shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root.findall("m:si", NS)]
    styles = _parse(archive, "xl/styles.xml")
    fonts = [font.find("m:b", NS) is not None for font in styles.find("m:fonts", NS)]
    xfs = [
        (xf.get("quotePrefix") == "1", fonts[int(xf.get("fontId", 0))])
        for xf in styles.find("m:cellXfs", NS).findall("m:xf", NS)
    ]
    workbook = _parse(archive, "xl/workbook.xml")
    rels = _parse(archive, "xl/_rels/workbook.xml.rels")
    targets = {rel.get("Id"): rel.get("Target") for rel in rels}
    sheets: dict[str, Sheet] = {}
    for sheet in workbook.find("m:sheets", NS):
        root = _parse(archive, "xl/" + targets[sheet.get(REL)])
        rows: list[list[Cell]] = []
        for row in root.find("m:sheetData", NS):
            cells: list[Cell] = []
            for c in row.findall("m:c", NS):
                kind = c.get("t")
                value_node = c.find("m:v", NS)
                if kind == "s":
                    value = shared[int(value_node.text)]
                elif kind == "inlineStr":
                    value = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
                else:
                    value = value_node.text if value_node is not None else ""
                quote, bold = xfs[int(c.get("s", 0))]
                while len(cells) < _column(c.get("r")):
                    cells.append(Cell("", "", None, False, False, False))
                cells.append(Cell(c.get("r"), _unescape(value), kind, c.find("m:f", NS) is not None, quote, bold))
            rows.append(cells)
        pane = root.find("m:sheetViews/m:sheetView/m:pane", NS)
        frozen = int(float(pane.get("ySplit", 0))) if pane is not None and pane.get("state") == "frozen" else 0
        autofilter = root.find("m:autoFilter", NS)
        sheets[sheet.get("name")] = Sheet(
            sheet.get("name"), rows, frozen, autofilter.get("ref") if autofilter is not None else None
        )
    return sheets
