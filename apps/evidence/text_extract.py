"""The text of an attachment, for the score-solicitation check: plain text, CSV, PDF and DOCX, bounded in size and time.

Bounds: at most ATTACHMENT_TEXT_MAX_CHARS characters, ATTACHMENT_PDF_MAX_PAGES pages, a DOCX whose document part
unpacks to at most ATTACHMENT_DOCX_MAX_XML_BYTES (a zip bomb is refused before parsing), and a deadline checked
between pages and paragraphs. A single PDF page is parsed in one call, so the deadline can be overrun by one page;
the upload size limit bounds that page.
"""

from __future__ import annotations

import io
import time
import zipfile
from typing import IO

from .constants import ATTACHMENT_DOCX_MAX_XML_BYTES, ATTACHMENT_PDF_MAX_PAGES, ATTACHMENT_TEXT_MAX_CHARS

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT_TYPES = frozenset({"text/plain", "text/csv"})
READABLE_TYPES = TEXT_TYPES | {PDF, DOCX}


class ExtractionError(Exception):
    """The attachment's text could not be read (damaged, encrypted, too large unpacked, or out of time)."""


def _cut(parts: list[str], max_chars: int) -> str:
    return "\n".join(parts)[:max_chars]


def _pdf_text(data: bytes, *, max_chars: int, max_pages: int, deadline: float) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ExtractionError("the PDF is encrypted")
    parts: list[str] = []
    length = 0
    for number, page in enumerate(reader.pages):
        if number >= max_pages or length >= max_chars:
            break
        if time.monotonic() > deadline:
            if not parts:
                raise ExtractionError("out of time")
            break
        text = page.extract_text() or ""
        parts.append(text)
        length += len(text)
    return _cut(parts, max_chars)


def _docx_text(data: bytes, *, max_chars: int, deadline: float) -> str:
    import docx

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist() if info.filename.startswith("word/"))
    if unpacked > ATTACHMENT_DOCX_MAX_XML_BYTES:
        raise ExtractionError("the document unpacks to more than the limit")
    document = docx.Document(io.BytesIO(data))
    parts: list[str] = []
    length = 0
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for text in paragraphs + cells:
        if length >= max_chars or time.monotonic() > deadline:
            break
        parts.append(text)
        length += len(text) + 1
    return _cut(parts, max_chars)


def extract_text(
    file: IO[bytes],
    content_type: str,
    *,
    deadline: float,
    max_chars: int = ATTACHMENT_TEXT_MAX_CHARS,
    max_pages: int = ATTACHMENT_PDF_MAX_PAGES,
) -> str | None:
    """The attachment's text, or None for a type without text we read (images, spreadsheets).

    `deadline` is a time.monotonic() value. Raises ExtractionError when a readable type cannot be read.
    """
    if content_type not in READABLE_TYPES:
        return None
    if time.monotonic() > deadline:
        raise ExtractionError("out of time")
    try:
        if content_type in TEXT_TYPES:
            # UTF-8 takes at most 4 bytes a character.
            return file.read(max_chars * 4).decode("utf-8", errors="replace")[:max_chars]
        data = file.read()
        if content_type == PDF:
            return _pdf_text(data, max_chars=max_chars, max_pages=max_pages, deadline=deadline)
        return _docx_text(data, max_chars=max_chars, deadline=deadline)
    except ExtractionError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf and python-docx raise many kinds on damaged files
        raise ExtractionError(f"{type(exc).__name__}: {exc}") from exc
