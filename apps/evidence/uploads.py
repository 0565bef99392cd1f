"""Checks on uploaded files: size, type sniffed from the bytes (never the name), and a safe display name."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import IO

from django.core.exceptions import ValidationError

from apps.common.limits import too_large_message

from .constants import ALLOWED_TYPES

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()-]+")
_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """An upload that passed the checks."""

    name: str
    content_type: str
    size: int
    sha256: str


def sanitize_name(raw: str) -> str:
    """Keep only the last path part, in plain characters, at most 150 long; never empty, never hidden."""
    base = PureWindowsPath(PurePosixPath(raw.replace("\x00", "")).name).name
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = _SAFE_NAME.sub("_", base).strip(" .")
    if not base or base.strip("_") == "":
        base = "attachment"
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 10:
        return f"{stem[: 150 - len(ext) - 1]}.{ext}"
    return base[:150]


def _zip_kind(head: IO[bytes]) -> str | None:
    """Tell DOCX from XLSX by their required parts; anything else zipped is refused."""
    try:
        with zipfile.ZipFile(head) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if "xl/workbook.xml" in names:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def _is_text(sample: bytes) -> bool:
    """UTF-8 text without NUL or other control bytes (a truncated last character is fine)."""
    if b"\x00" in sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:
            return False
        text = sample[: exc.start].decode("utf-8")
    return all(ch in "\t\n\r\f" or ord(ch) >= 32 for ch in text)


def sniff(file: IO[bytes], name: str) -> str | None:
    """The content type of the bytes, among the allowed ones, or None."""
    file.seek(0)
    head = file.read(_SNIFF_BYTES)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(file)
        file.seek(0)
        return kind
    if _is_text(head):
        return "text/csv" if name.lower().endswith(".csv") else "text/plain"
    return None


def check_upload(file: IO[bytes], *, name: str, size: int, max_bytes: int) -> CheckedFile:
    """Validate an upload or raise ValidationError({'file': ...}) saying exactly what is wrong."""
    safe = sanitize_name(name)
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if size > max_bytes:
        raise ValidationError({"file": too_large_message("file", size=size, limit=max_bytes)})
    content_type = sniff(file, safe)
    if content_type is None:
        raise ValidationError(
            {"file": "This kind of file is not accepted. Upload a PDF, PNG, JPEG, plain text, CSV, DOCX or XLSX."}
        )
    extension = PurePosixPath(safe).suffix.lower()
    if extension not in ALLOWED_TYPES[content_type]:
        expected = " or ".join(ALLOWED_TYPES[content_type])
        raise ValidationError(
            {
                "file": f"The file's name ends in '{extension or 'nothing'}' but its content is {content_type}; "
                f"name it {expected}."
            }
        )
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(65536), b""):
        digest.update(chunk)
    file.seek(0)
    return CheckedFile(name=safe, content_type=content_type, size=size, sha256=digest.hexdigest())
