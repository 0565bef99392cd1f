"""Which units' inboxes an insight reaches, and why: rules on its touchpoint or journey stage, units it names, and
the touchpoint's owning group when nothing else matched.

`RoutingTable.routes_for` is pure (facts in, targets out) so a batch of any size costs the two queries of
`load_routing_table` and `plan_routes`, never one per insight.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from apps.org.models import OrgUnit, Touchpoint

from .constants import RouteReason
from .models import Insight, InsightRoute, RoutingRule


@dataclass(frozen=True, slots=True)
class RouteTarget:
    """One unit an insight goes to, the reason, and the rule that sent it there (if a rule did)."""

    unit_id: int
    reason: str
    rule_id: int | None = None


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What routing needs to know of one insight: its touchpoint (with the touchpoint's stage and owning unit), the
    stage it names, and the units it names."""

    touchpoint_id: int | None = None
    touchpoint_stage_id: int | None = None
    owner_unit_id: int | None = None
    journey_stage_id: int | None = None
    explicit_unit_ids: tuple[int, ...] = ()

    @property
    def stage_id(self) -> int | None:
        """The stage the insight names, else its touchpoint's stage."""
        return self.journey_stage_id if self.journey_stage_id is not None else self.touchpoint_stage_id


@dataclass(slots=True)
class RoutingTable:
    """The active routing rules, indexed by touchpoint and by journey stage (as (rule id, unit id) pairs)."""

    by_touchpoint: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    by_stage: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def from_rules(cls, rules: Iterable[tuple[int, int, int | None, int | None]]) -> RoutingTable:
        """Build from (rule id, unit id, touchpoint id, journey stage id) of the active rules."""
        table = cls()
        for rule_id, unit_id, touchpoint_id, stage_id in rules:
            if touchpoint_id is not None:
                table.by_touchpoint[touchpoint_id].append((rule_id, unit_id))
            if stage_id is not None:
                table.by_stage[stage_id].append((rule_id, unit_id))
        return table

    def routes_for(self, facts: RoutingFacts) -> list[RouteTarget]:
        """Every unit the insight reaches, each once; the first reason wins in the order explicit, touchpoint rule,
        stage rule, touchpoint owner (the owner only when nothing else matched). Empty: the insight is unrouted."""
        targets: dict[int, RouteTarget] = {}
        for unit_id in facts.explicit_unit_ids:
            targets.setdefault(unit_id, RouteTarget(unit_id, RouteReason.EXPLICIT))
        if facts.touchpoint_id is not None:
            for rule_id, unit_id in self.by_touchpoint.get(facts.touchpoint_id, ()):
                targets.setdefault(unit_id, RouteTarget(unit_id, RouteReason.TOUCHPOINT, rule_id))
        if facts.stage_id is not None:
            for rule_id, unit_id in self.by_stage.get(facts.stage_id, ()):
                targets.setdefault(unit_id, RouteTarget(unit_id, RouteReason.JOURNEY_STAGE, rule_id))
        if not targets and facts.owner_unit_id is not None:
            targets[facts.owner_unit_id] = RouteTarget(facts.owner_unit_id, RouteReason.TOUCHPOINT_OWNER)
        return list(targets.values())


def load_routing_table() -> RoutingTable:
    """The active rules, in one query (ordered so the rule that wins a tie is always the same one)."""
    rows = (
        RoutingRule.objects.filter(active=True)
        .order_by("id")
        .values_list("id", "unit_id", "touchpoint_id", "journey_stage_id")
    )
    return RoutingTable.from_rules(rows)


def plan_routes(
    insights: Sequence[Insight],
    *,
    explicit_unit_ids: Sequence[Iterable[int]] | None = None,
    table: RoutingTable | None = None,
) -> list[InsightRoute]:
    """Unsaved inbox rows for saved insights (the caller creates them), in three queries whatever the batch size.

    `explicit_unit_ids[i]` are the units insight i names. Touchpoints are read again here (stage, owner) so callers
    need not load them; each row carries its unit object (its audit event names it) without a query per row.
    """
    table = table if table is not None else load_routing_table()
    touchpoint_ids = {insight.touchpoint_id for insight in insights if insight.touchpoint_id is not None}
    touchpoints = {
        pk: (stage_id, owner_id)
        for pk, stage_id, owner_id in Touchpoint.objects.filter(pk__in=touchpoint_ids).values_list(
            "pk", "stage_id", "owner_unit_id"
        )
    }
    planned: list[tuple[Insight, RouteTarget]] = []
    for index, insight in enumerate(insights):
        stage_id, owner_id = (
            touchpoints.get(insight.touchpoint_id, (None, None)) if insight.touchpoint_id else (None, None)
        )
        facts = RoutingFacts(
            touchpoint_id=insight.touchpoint_id,
            touchpoint_stage_id=stage_id,
            owner_unit_id=owner_id,
            journey_stage_id=insight.journey_stage_id,
            explicit_unit_ids=tuple(explicit_unit_ids[index]) if explicit_unit_ids is not None else (),
        )
        planned.extend((insight, target) for target in table.routes_for(facts))
    units = OrgUnit.objects.in_bulk({target.unit_id for _, target in planned})
    return [
        InsightRoute(
            insight=insight,
            unit=units[target.unit_id],
            reason=target.reason,
            rule_id=target.rule_id,
            said_on=insight.said_on,
        )
        for insight, target in planned
    ]
