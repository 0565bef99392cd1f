"""Reads for evidence: engine facts for many subjects at once, and review statistics."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from apps.policies.engine import EvidenceFact

from .constants import EvidenceStatus
from .models import Evidence

FACT_FIELDS = (
    "id", "owner_id", "category__code", "category__is_outcome", "status", "impact_date", "customer_type",
    "internal_customer_unit_id", "touchpoint__code", "customer_quote", "source_type", "source_reference",
    "metric_kind", "baseline", "result", "direction", "responds_to__unit_id",
)  # fmt: skip


def fact_from_row(row: tuple[Any, ...]) -> EvidenceFact:
    """Build an engine fact from a FACT_FIELDS row."""
    (pk, _owner, code, category_outcome, status, impact_date, customer_type, internal_unit, touchpoint, quote,
     source_type, source_reference, metric_kind, baseline, result, direction, insight_unit) = row  # fmt: skip
    return EvidenceFact(
        id=pk,
        category_code=code,
        is_outcome=bool(category_outcome) or metric_kind == "outcome",
        status=status,
        impact_date=impact_date,
        customer_type=customer_type,
        internal_customer_unit_id=internal_unit,
        touchpoint_code=touchpoint,
        quote=quote,
        source_type=source_type,
        source_reference=source_reference,
        metric_kind=metric_kind or None,
        baseline=float(baseline) if baseline is not None else None,
        result=float(result) if result is not None else None,
        direction=direction or None,
        insight_unit_id=insight_unit,
    )


def evidence_facts_by_owner(
    *, owner_ids: Iterable[int] | QuerySet[Any], as_of: dt.date | None = None, verified_only: bool = True
) -> dict[int, list[EvidenceFact]]:
    """Engine facts of the current evidence of many employees, in one query (`owner_ids` may be a subquery).

    Only verified items can ever count, so by default nothing else is loaded; `as_of` drops items dated later.
    """
    owners = owner_ids if isinstance(owner_ids, QuerySet) else list(owner_ids)
    queryset = Evidence.objects.current().filter(owner_id__in=owners)
    if verified_only:
        queryset = queryset.filter(status=EvidenceStatus.VERIFIED)
    if as_of is not None:
        queryset = queryset.filter(impact_date__lte=as_of)
    facts: dict[int, list[EvidenceFact]] = defaultdict(list)
    for row in queryset.order_by().values_list(*FACT_FIELDS):
        facts[row[1]].append(fact_from_row(row))
    return facts
