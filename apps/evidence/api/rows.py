"""The evidence API's answers, built straight from database rows: the JSON of `EvidenceSerializer`, at a fraction
of its cost.

A page of 50 items through the ModelSerializer costs about 10 ms of CPU: 50 model instances with five joined ones
each, a related manager per item for its files, and DRF's per-field machinery (about 1,500 field calls). Here a
page is one `values()` query for the items (their owner's name and the codes of their category, unit, touchpoint
and reviewer joined in), one for their files, and a plain dict per item. `EvidenceSerializer` stays the contract:
it validates input and describes the output in the schema, and tests/evidence/test_rows.py checks that every field
it declares comes out here exactly as it would render it, for items in every state.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from rest_framework.request import Request

from apps.common.prepared import Prepared

from ..constants import EvidenceStatus
from ..models import Attachment, Evidence, EvidenceQuerySet
from .abilities import Abilities

# Columns of a row, in the serializer's order; related objects appear by the code or name the serializer shows.
ROW_FIELDS = (
    "id", "owner_id", "owner__full_name", "category__code", "title", "customer_quote", "source_type",
    "source_reference", "interpretation", "response", "metric_name", "metric_kind", "baseline", "result",
    "metric_unit", "direction", "metric_period", "customer_type", "internal_customer_unit__code",
    "touchpoint__code", "impact_date", "status", "submitted_at", "reviewer__username", "review_comment",
    "reviewed_at", "gaming_flags", "flags_acknowledged", "version", "previous_id", "is_current", "created_at",
    "updated_at", "has_correction",
)  # fmt: skip
ATTACHMENT_FIELDS = ("evidence_id", "id", "original_name", "content_type", "size", "sha256", "uploaded_at")


def evidence_rows_queryset(queryset: EvidenceQuerySet) -> QuerySet:
    """The items of `queryset` (already cut to what the caller may see, filtered and ordered) as row dicts."""
    return (
        queryset.select_related(None)
        .prefetch_related(None)
        .annotate(has_correction=Exists(Evidence.objects.filter(previous_id=OuterRef("pk"))))
        .values(*ROW_FIELDS)
    )


# One item by id, as a row: the answer after a write. Compiled once (its 34 columns and 5 joins cost more to
# compile than to run); the caller decides whether the user may see it (`permissions.can_view`).
_ITEM_ROW = Prepared(Evidence, lambda pk: evidence_rows_queryset(Evidence.objects.filter(pk=pk)), -7_391_008)


def evidence_row(pk: int) -> dict[str, Any] | None:
    """The item with this id as a row of `evidence_rows_queryset`, whoever may see it, or None."""
    return _ITEM_ROW.query().first(pk)


@cache
def _decimal_field(name: str) -> Callable[[Any], Any]:
    """The serializer's own rendering of a decimal (precision and string coercion come from its settings)."""
    from .serializers import EvidenceSerializer

    return EvidenceSerializer().fields[name].to_representation


def _datetime(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """DRF's ISO 8601 rendering: in the current time zone, UTC written as Z."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _decimal(name: str, value: Any) -> Any:
    return None if value is None else _decimal_field(name)(value)


def _flags(flags: Any) -> list[dict[str, Any]]:
    """Each stored flag's code and reason, as GamingFlagSerializer renders them."""
    rendered = []
    for flag in flags or ():
        rendered.append(
            {key: (None if flag[key] is None else str(flag[key])) for key in ("code", "reason") if key in flag}
        )
    return rendered


# The files of one item (the answer after a write): compiled once, prepared on the database.
_ITEM_FILES = Prepared(
    Attachment, lambda pk: Attachment.objects.filter(evidence_id=pk).values_list(*ATTACHMENT_FIELDS), -1
)


def _attachments_by_item(item_ids: list[int], request: Request | None, zone: dt.tzinfo) -> dict[int, list[dict]]:
    """The files of these items (one query), in upload order, with their permission-checked download URLs."""
    files: dict[int, list[dict]] = defaultdict(list)
    if not item_ids:
        return files
    if len(item_ids) == 1:
        rows = _ITEM_FILES.query().all(item_ids[0])
    else:
        rows = Attachment.objects.filter(evidence_id__in=item_ids).values_list(*ATTACHMENT_FIELDS)
    for evidence_id, pk, name, content_type, size, sha256, uploaded_at in rows:
        url = reverse("evidence_api:attachment-download", args=[pk])
        files[evidence_id].append(
            {
                "id": pk,
                "original_name": name,
                "content_type": content_type,
                "size": size,
                "sha256": sha256,
                "uploaded_at": _datetime(uploaded_at, zone),
                "download_url": request.build_absolute_uri(url) if request is not None else url,
            }
        )
    return files


def instance_row(evidence: Evidence) -> dict[str, Any]:
    """The row of an item this request has just saved, from the instance and its related objects (those the
    request has already read: owner, category, unit, touchpoint, reviewer): what reloading it would give.

    `has_correction` comes from the instance's annotation of that name (the submission's locking read has it),
    else it is False: nothing can refer to an item created in this very transaction yet.
    `tests/evidence/test_request_cost.py` compares the answers of a create and a submission with a fresh read.
    """
    row: dict[str, Any] = {}
    for name in ROW_FIELDS:
        if name == "has_correction":
            row[name] = bool(evidence.__dict__.get("has_correction", False))
        elif "__" in name:
            relation, attribute = name.split("__")
            related = getattr(evidence, relation)
            row[name] = None if related is None else getattr(related, attribute)
        else:
            row[name] = getattr(evidence, name)
    return row


def evidence_rows(
    rows: Iterable[dict[str, Any]], *, abilities: Abilities, request: Request | None, without_files: bool = False
) -> list[dict]:
    """Render rows of `evidence_rows_queryset` as the API shows them to the user of `abilities`.

    `without_files`: the items are known to have none (just created), so they are not asked for.
    """
    rows = list(rows)
    zone = timezone.get_current_timezone()
    abilities.prime_owners(row["owner_id"] for row in rows if row["status"] == EvidenceStatus.SUBMITTED)
    files = {} if without_files else _attachments_by_item([row["id"] for row in rows], request, zone)
    rendered = []
    for row in rows:
        impact_date = row["impact_date"]
        rendered.append(
            {
                "id": row["id"],
                "owner": {"id": row["owner_id"], "name": row["owner__full_name"]},
                "category": row["category__code"],
                "title": row["title"],
                "customer_quote": row["customer_quote"],
                "source_type": row["source_type"],
                "source_reference": row["source_reference"],
                "interpretation": row["interpretation"],
                "response": row["response"],
                "metric_name": row["metric_name"],
                "metric_kind": row["metric_kind"],
                "baseline": _decimal("baseline", row["baseline"]),
                "result": _decimal("result", row["result"]),
                "metric_unit": row["metric_unit"],
                "direction": row["direction"],
                "metric_period": row["metric_period"],
                "customer_type": row["customer_type"],
                "internal_customer_unit": row["internal_customer_unit__code"],
                "touchpoint": row["touchpoint__code"],
                "impact_date": impact_date.isoformat() if impact_date is not None else None,
                "status": row["status"],
                "submitted_at": _datetime(row["submitted_at"], zone),
                "reviewer": row["reviewer__username"],
                "review_comment": row["review_comment"],
                "reviewed_at": _datetime(row["reviewed_at"], zone),
                "gaming_flags": _flags(row["gaming_flags"]),
                "flags_acknowledged": row["flags_acknowledged"],
                "version": row["version"],
                "previous": row["previous_id"],
                "is_current": row["is_current"],
                "attachments": files.get(row["id"], []),
                "can": abilities.flags(
                    owner_id=row["owner_id"],
                    status=row["status"],
                    is_current=row["is_current"],
                    submitted_at=row["submitted_at"],
                    previous_id=row["previous_id"],
                    has_correction=row["has_correction"],
                ),
                "created_at": _datetime(row["created_at"], zone),
                "updated_at": _datetime(row["updated_at"], zone),
            }
        )
    return rendered
