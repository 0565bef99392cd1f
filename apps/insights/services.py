"""Writing insights: check a batch row by row, then store the new ones and their inbox rows in one transaction.

A batch is all or nothing: if any row is wrong nothing is written and every problem is reported per row and field.
The same (source system, source id) is the same insight: re-sending a batch, or two tools sending the same row at
once, stores it once (the unique constraint decides; a transaction that loses the race is retried once).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.common.context import Actor, acting_as, has_actor
from apps.evidence.constants import CustomerType
from apps.evidence.gaming import find_solicitations, solicitation_flag
from apps.evidence.gaming_store import active_phrases
from apps.org.models import JourneyStage, OrgUnit, Touchpoint

from .constants import INGEST_BATCH_MAX, Channel
from .models import Insight, InsightRoute
from .routing import load_routing_table, plan_routes

TEXT_MAX = 5000
SOURCE_ID_MAX = 200
SOURCE_SYSTEM_MAX = 40
# A score's scale: any positive number up to this (5 for stars, 10 for NPS, 100 for percentages, ...).
SCORE_MAX_LIMIT = Decimal(1000)
DEFAULT_SCORE_MAX = Decimal(10)
ROW_FIELDS = frozenset(
    {
        "source_id", "text", "score", "score_max", "channel", "said_on", "customer_type", "touchpoint",
        "journey_stage", "units",
    }
)  # fmt: skip
# Attempts of the writing transaction: a second one runs only when a concurrent batch stored one of our rows first.
WRITE_ATTEMPTS = 2

RowErrors = dict[int, dict[str, list[str]]]


class IngestRefused(Exception):
    """A batch with at least one wrong row: `errors[row index][field]` lists what is wrong; nothing was written."""

    def __init__(self, errors: RowErrors) -> None:
        super().__init__(f"{len(errors)} insight(s) refused")
        self.errors = errors


@dataclass(slots=True)
class CheckedRow:
    """One row once checked: values ready to store (score already on 0-10), the units it names by id."""

    source_id: str
    text: str
    score: Decimal | None
    channel: str
    said_on: dt.date
    customer_type: str
    touchpoint: Touchpoint | None
    journey_stage: JourneyStage | None
    unit_ids: tuple[int, ...]
    unit_codes: tuple[str, ...]


@dataclass(slots=True)
class IngestedInsight:
    """What the caller learns of one row: the insight's id, whether this call created it, the units it reached."""

    source_id: str
    id: int
    created: bool
    units: list[str]


@dataclass(slots=True)
class IngestResult:
    """The answer to a batch, in the batch's order."""

    insights: list[IngestedInsight] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for row in self.insights if row.created)

    @property
    def duplicates(self) -> int:
        return sum(1 for row in self.insights if not row.created)


def convert_score(score: Decimal, score_max: Decimal) -> Decimal:
    """A score on a 0..score_max scale as 0-10, one decimal: 4 of 5 is 8.0, 73 of 100 is 7.3 (not shifted for
    scales that start at 1)."""
    return (score * 10 / score_max).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _number(value: Any) -> Decimal | None:
    """A finite number from JSON or CSV (int, float or a decimal string), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip()) if isinstance(value, int | float | str) else None
    except InvalidOperation:
        return None
    return number if number is not None and number.is_finite() else None


def _codes(value: Any) -> list[str] | None:
    """Unit codes as a list of strings, or a string separated by ';' (the CSV form); None when neither."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [code.strip() for code in value.split(";") if code.strip()]
    if isinstance(value, list) and all(isinstance(code, str) for code in value):
        return [code.strip() for code in value if code.strip()]
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else None


class _Lookups:
    """The touchpoints, stages and units a batch names, read in three queries."""

    def __init__(self, rows: Sequence[Any]) -> None:
        mappings = [row for row in rows if isinstance(row, Mapping)]

        def named(key: str) -> set[str]:
            found: set[str] = set()
            for row in mappings:
                value = row.get(key)
                if key == "units":
                    found.update(_codes(value) or [])
                elif isinstance(value, str) and value.strip():
                    found.add(value.strip())
            return found

        touchpoints = Touchpoint.objects.filter(code__in=named("touchpoint")).select_related("stage")
        self.touchpoints = {touchpoint.code: touchpoint for touchpoint in touchpoints}
        self.stages = {stage.code: stage for stage in JourneyStage.objects.filter(code__in=named("journey_stage"))}
        self.units = dict(OrgUnit.objects.filter(code__in=named("units")).values_list("code", "pk"))


def _check_row(row: Any, lookups: _Lookups, today: dt.date) -> tuple[CheckedRow | None, dict[str, list[str]]]:
    """Check one row; return it ready to store, or None with its errors by field."""
    errors: dict[str, list[str]] = {}

    def error(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not isinstance(row, Mapping):
        return None, {"non_field_errors": ["Each insight must be an object of fields."]}
    if unknown := sorted(str(key) for key in row if key not in ROW_FIELDS):
        error("non_field_errors", f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(ROW_FIELDS))}.")

    source_id = _text(row.get("source_id"))
    if not source_id:
        error("source_id", "Give the insight's id in its source system.")
    elif len(source_id) > SOURCE_ID_MAX:
        error("source_id", f"At most {SOURCE_ID_MAX} characters ({len(source_id)} sent).")

    text = _text(row.get("text"))
    if text is None:
        error("text", "Send the customer's words as a string.")
    elif len(text) > TEXT_MAX:
        error("text", f"At most {TEXT_MAX:,} characters ({len(text):,} sent); send the customer's own words.")

    score = score_max = None
    if row.get("score_max") not in (None, ""):
        score_max = _number(row.get("score_max"))
        if score_max is None or not 0 < score_max <= SCORE_MAX_LIMIT:
            error("score_max", f"The scale's top: a number above 0 and at most {SCORE_MAX_LIMIT} (e.g. 5, 10, 100).")
    if row.get("score") not in (None, ""):
        score = _number(row.get("score"))
        top = score_max if score_max is not None else DEFAULT_SCORE_MAX
        if score is None or not 0 <= score <= top:
            error("score", f"A number from 0 to {top} (the scale's top, score_max, is {top}).")
            score = None
    if not text and score is None and "text" not in errors and "score" not in errors:
        error("text", "Send the customer's words (text), a score, or both.")

    channel = _text(row.get("channel")) or Channel.OTHER
    if channel not in Channel.values:
        error("channel", f"'{channel}' is not a channel; use one of: {', '.join(Channel.values)}.")

    customer_type = _text(row.get("customer_type")) or CustomerType.EXTERNAL
    if customer_type not in CustomerType.values:
        error(
            "customer_type", f"'{customer_type}' is not a customer type; use one of: {', '.join(CustomerType.values)}."
        )

    said_on = None
    said_on_text = _text(row.get("said_on"))
    if not said_on_text:
        error("said_on", "Give the date the customer said it (YYYY-MM-DD).")
    else:
        try:
            said_on = dt.date.fromisoformat(said_on_text)
        except ValueError:
            error("said_on", f"'{said_on_text}' is not a date; use YYYY-MM-DD.")
        else:
            if said_on > today:
                error("said_on", f"{said_on} is in the future; give the date the customer said it.")

    touchpoint = stage = None
    if touchpoint_code := _text(row.get("touchpoint")):
        touchpoint = lookups.touchpoints.get(touchpoint_code)
        if touchpoint is None:
            error("touchpoint", f"No touchpoint has the code '{touchpoint_code}'.")
    elif touchpoint_code is None:
        error("touchpoint", "Send a touchpoint code as a string.")
    if stage_code := _text(row.get("journey_stage")):
        stage = lookups.stages.get(stage_code)
        if stage is None:
            error("journey_stage", f"No journey stage has the code '{stage_code}'.")
        elif touchpoint is not None and touchpoint.stage_id != stage.pk:
            error(
                "journey_stage",
                f"Touchpoint '{touchpoint.code}' belongs to stage '{touchpoint.stage.code}'; send that or leave "
                "journey_stage empty.",
            )
    elif stage_code is None:
        error("journey_stage", "Send a journey stage code as a string.")

    unit_codes = _codes(row.get("units"))
    unit_ids: list[int] = []
    if unit_codes is None:
        error("units", "Send unit codes as a list of strings.")
    else:
        unit_codes = list(dict.fromkeys(unit_codes))
        if missing := [code for code in unit_codes if code not in lookups.units]:
            error("units", f"No org unit has the code(s): {', '.join(missing)}.")
        unit_ids = [lookups.units[code] for code in unit_codes if code in lookups.units]

    if errors or source_id is None or text is None or said_on is None or unit_codes is None:
        return None, errors
    return CheckedRow(
        source_id=source_id,
        text=text,
        score=convert_score(score, score_max if score_max is not None else DEFAULT_SCORE_MAX)
        if score is not None
        else None,
        channel=channel,
        said_on=said_on,
        customer_type=customer_type,
        touchpoint=touchpoint,
        journey_stage=stage,
        unit_ids=tuple(unit_ids),
        unit_codes=tuple(unit_codes),
    ), {}


def insights_check(*, rows: Sequence[Any]) -> tuple[list[CheckedRow], RowErrors]:
    """Check a batch without writing: the rows ready to store, and the errors by row index and field (in three
    queries whatever the batch size). A source id twice in one batch is an error on its second row."""
    lookups = _Lookups(rows)
    today = timezone.localdate()
    checked: list[CheckedRow] = []
    errors: RowErrors = {}
    first_row: dict[str, int] = {}
    for index, row in enumerate(rows):
        result, row_errors = _check_row(row, lookups, today)
        if result is not None:
            if (earlier := first_row.setdefault(result.source_id, index)) != index:
                row_errors = {"source_id": [f"'{result.source_id}' is also row {earlier} of this batch."]}
            else:
                checked.append(result)
        if row_errors:
            errors[index] = row_errors
    return checked, errors


def existing_source_ids(*, source_system: str, source_ids: Iterable[str]) -> dict[str, int]:
    """The insight ids already stored for these source ids of the source system."""
    return dict(
        Insight.objects.filter(source_system=source_system, source_id__in=list(source_ids)).values_list(
            "source_id", "pk"
        )
    )


def _flags(text: str, phrases: Any) -> list[dict[str, str]]:
    """Score-solicitation flags of the customer's text, in the shape evidence stores them."""
    if not text:
        return []
    return [solicitation_flag(hit).as_dict() for hit in find_solicitations([("text", text)], phrases=phrases)]


def _source_system_problem(source_system: str) -> str | None:
    if not source_system.strip():
        return "Name the source system (e.g. qualtrics, zendesk)."
    if len(source_system) > SOURCE_SYSTEM_MAX:
        return f"At most {SOURCE_SYSTEM_MAX} characters."
    return None


def insights_ingest(*, source_system: str, rows: Sequence[Mapping[str, Any]], by: User) -> IngestResult:
    """Store a batch of insights from a source system and route the new ones to units' inboxes; all or nothing.

    Raises IngestRefused (nothing written) when any row is wrong or the batch has over INGEST_BATCH_MAX rows. Rows
    whose source id is already stored are answered as duplicates and left as they are. `by` is the caller the audit
    events name when no request does (the token's user, or the person running an import).
    """
    if len(rows) > INGEST_BATCH_MAX:
        raise IngestRefused(
            {-1: {"insights": [f"At most {INGEST_BATCH_MAX:,} insights per batch ({len(rows):,} sent)."]}}
        )
    return insights_import(source_system=source_system, rows=rows, by=by)


def insights_import(
    *, source_system: str, rows: Sequence[Mapping[str, Any]], by: User | None, dry_run: bool = False
) -> IngestResult:
    """Like insights_ingest for a file of any length (the CSV import): every row checked first, then all written in
    one transaction, in statements of INGEST_BATCH_MAX rows. A dry run writes nothing and answers what would be
    created (id 0, no units) and what is already stored."""
    if problem := _source_system_problem(source_system):
        raise IngestRefused({-1: {"source_system": [problem]}})
    source_system = source_system.strip()
    checked, errors = insights_check(rows=rows)
    if errors:
        raise IngestRefused(errors)
    if dry_run:
        existing = existing_source_ids(source_system=source_system, source_ids=[row.source_id for row in checked])
        return IngestResult(
            [IngestedInsight(row.source_id, existing.get(row.source_id, 0), row.source_id not in existing, [])
             for row in checked]
        )  # fmt: skip
    # Audit events name the caller even without a request (a command, a task, a test).
    actor: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if by is not None and not has_actor():
        actor = acting_as(Actor(user_id=by.pk, name=by.get_username()))
    with actor:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with transaction.atomic(durable=True):
                    result = IngestResult()
                    for start in range(0, len(checked), INGEST_BATCH_MAX):
                        result.insights.extend(_write(source_system, checked[start : start + INGEST_BATCH_MAX]))
                    return result
            except IntegrityError as exc:
                # Another batch stored one of these source ids between our read and our insert: read again. Twice
                # means something else changed under us (a unit or touchpoint deleted): refuse, nothing written.
                if attempt == WRITE_ATTEMPTS - 1:
                    message = f"The data changed during the import ({exc}); nothing was written. Send it again."
                    raise IngestRefused({-1: {"non_field_errors": [message]}}) from exc
    raise AssertionError("unreachable")


def _write(source_system: str, checked: Sequence[CheckedRow]) -> list[IngestedInsight]:
    """Insert the rows not stored yet and their inbox rows, in the caller's transaction; answer every row, in order,
    in a fixed number of queries."""
    existing = existing_source_ids(source_system=source_system, source_ids=[row.source_id for row in checked])
    new_rows = [row for row in checked if row.source_id not in existing]
    phrases = active_phrases() if new_rows else ()
    insights = [
        Insight(
            source_system=source_system,
            source_id=row.source_id,
            text=row.text,
            score=row.score,
            channel=row.channel,
            said_on=row.said_on,
            customer_type=row.customer_type,
            touchpoint=row.touchpoint,
            journey_stage_id=row.journey_stage.pk
            if row.journey_stage
            else (row.touchpoint.stage_id if row.touchpoint else None),
            is_score_only=not row.text and row.score is not None,
            gaming_flags=_flags(row.text, phrases),
        )
        for row in new_rows
    ]
    units_of: dict[str, list[str]] = {}
    if insights:
        Insight.objects.bulk_create(insights)
        routes = plan_routes(insights, explicit_unit_ids=[row.unit_ids for row in new_rows], table=load_routing_table())
        InsightRoute.objects.bulk_create(routes)
        for route in routes:
            units_of.setdefault(route.insight.source_id, []).append(route.unit.code)
    if existing:
        for source_id, code in (
            InsightRoute.objects.filter(insight_id__in=existing.values())
            .order_by("id")
            .values_list("insight__source_id", "unit__code")
        ):
            units_of.setdefault(source_id, []).append(code)
    created_ids = {insight.source_id: insight.pk for insight in insights}
    answers = []
    for row in checked:
        created = row.source_id in created_ids
        pk = created_ids[row.source_id] if created else existing[row.source_id]
        answers.append(IngestedInsight(row.source_id, pk, created, units_of.get(row.source_id, [])))
    return answers
