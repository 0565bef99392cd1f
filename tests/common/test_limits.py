"""Sizes in refusals are exact: a file one byte over the limit never reads the same as the limit."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from apps.common.limits import exact_bytes, limit_text, too_large_message
from apps.evidence.uploads import check_upload

TEN_MB = 10 * 1024 * 1024


def test_a_file_one_byte_over_ten_megabytes_is_told_both_exact_sizes():
    assert too_large_message("file", size=TEN_MB + 1, limit=TEN_MB) == (
        "The file is 10,485,761 bytes; the limit is 10,485,760 bytes (10 MB)."
    )


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        (1, "1 byte"),
        (1000, "1,000 bytes"),
        (2048, "2,048 bytes (2 KB)"),
        (2 * 1024 * 1024, "2,097,152 bytes (2 MB)"),
        (2_000_000, "2,000,000 bytes"),  # no round name that is not exact
        (3 * 1024**3, "3,221,225,472 bytes (3 GB)"),
    ],
)
def test_a_limit_has_its_round_name_only_when_it_is_exact(limit, text):
    assert limit_text(limit) == text


def test_a_size_is_never_rounded():
    assert exact_bytes(1_048_577) == "1,048,577 bytes"


def test_the_evidence_upload_check_names_the_exact_sizes():
    with pytest.raises(ValidationError) as refused:
        check_upload(io.BytesIO(b"x"), name="big.txt", size=TEN_MB + 1, max_bytes=TEN_MB)

    (message,) = refused.value.message_dict["file"]
    assert message == "The file is 10,485,761 bytes; the limit is 10,485,760 bytes (10 MB)."


def test_an_oversized_request_body_is_a_413_with_both_exact_sizes(client, settings):
    settings.REQUEST_MAX_BODY_BYTES = 1024

    response = client.post("/api/evidence/", data=b"{" + b" " * 1100 + b"}", content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is 1,102 bytes; the limit is 1,024 bytes (1 KB)."}
