"""Helpers for the portal tests: reading what a page shows, and building items in a given state."""

from __future__ import annotations

import html
import re

from django.utils import timezone

from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.models import Employee
from tests.factories.evidence import EvidenceFactory


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def submitted(owner: Employee, **kwargs) -> Evidence:
    """An item waiting for review."""
    kwargs.setdefault("submitted_at", timezone.now())
    return EvidenceFactory(owner=owner, status=EvidenceStatus.SUBMITTED, **kwargs)


def field_error(response, field: str) -> str:
    """The text of the error list rendered next to a field (Django's `<id>_error` element), or ''."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.content.decode(), re.S)
    if not match:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def page_text(response) -> str:
    """The page as plain text, for assertions about what a user reads."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
