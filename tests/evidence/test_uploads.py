"""Uploads are checked by their bytes, not their names."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from apps.evidence.uploads import check_upload, sanitize_name

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def check(data: bytes, name: str, max_bytes: int = 10_000_000):
    return check_upload(io.BytesIO(data), name=name, size=len(data), max_bytes=max_bytes)


def office(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF, "report.pdf", "application/pdf"),
        (PNG, "chart.png", "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "photo.JPG", "image/jpeg"),
        ("Notes from the call with the guest — très bien\n".encode(), "notes.txt", "text/plain"),
        (b"metric,before,after\nfcr,61,74\n", "kpi.csv", "text/csv"),
        (office("docx"), "story.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (office("xlsx"), "kpi.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_allowed_files_are_accepted_with_their_sniffed_type(data, name, content_type):
    checked = check(data, name)
    assert checked.content_type == content_type
    assert len(checked.sha256) == 64


def test_executable_renamed_to_pdf_is_refused():
    with pytest.raises(ValidationError, match="not accepted"):
        check(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "invoice.pdf")


def test_text_pretending_to_be_a_pdf_is_refused_with_the_right_name_suggested():
    with pytest.raises(ValidationError, match=r"name it \.txt"):
        check(b"just text", "scan.pdf")


def test_empty_file_is_refused():
    with pytest.raises(ValidationError, match="empty"):
        check(b"", "empty.txt")


def test_oversized_file_is_refused_with_the_limit():
    with pytest.raises(
        ValidationError, match=r"The file is 2,000,\d{3} bytes; the limit is 1,048,576 bytes \(1 MB\)\."
    ):
        check(PDF + b"0" * 2_000_000, "big.pdf", max_bytes=1_048_576)


def test_a_random_zip_is_not_an_office_file():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", "MZ")
    with pytest.raises(ValidationError, match="not accepted"):
        check(buffer.getvalue(), "story.docx")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
        ("<b onmouseover=alert(1)>x.pdf", "_b onmouseover_alert(1)_x.pdf"),
        ("résumé final.pdf", "resume final.pdf"),
        ("....", "attachment"),
        ("a" * 300 + ".pdf", "a" * 146 + ".pdf"),
        ("nul\x00byte.txt", "nulbyte.txt"),
    ],
)
def test_names_are_sanitised(raw, clean):
    assert sanitize_name(raw) == clean
