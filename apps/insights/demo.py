"""Demo customer insights for `seed_demo`: routing rules, a few hundred insights over the last 90 days, and units at
every stage of answering them, so the inbox, the digest and the monitor report all have something to show.

Called after evidence and cases are seeded, inside seed_demo's one transaction (so it writes the insights through
the models and `routing.plan_routes`, as the ingest service does, rather than through that service, which commits
on its own). People with a login act through the inbox and evidence services; for the other units the responses
are evidence items created submitted and verified by HR through `evidence_verify`, which marks the insight
responded. Arrival and response times are then moved back to spread over the 90 days. Deterministic for one seed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from apps.evidence.constants import CustomerType, EvidenceStatus, SourceType
from apps.evidence.gaming import find_solicitations, solicitation_flag
from apps.evidence.gaming_store import active_phrases
from apps.evidence.models import Evidence
from apps.evidence.services import evidence_submit, evidence_update, evidence_verify
from apps.org.models import Employee, JourneyStage, OrgUnit, Touchpoint
from apps.policies.models import EvidenceCategory, Policy, RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from apps.reminders.notify import write_planned
from apps.reminders.services import digest_preference_set

from .constants import Channel, InboxStatus
from .digest import insights_digest_planned
from .inbox import inbox_close_no_action, inbox_respond, inbox_take, insight_raise
from .models import Insight, InsightRoute, RoutingRule
from .routing import plan_routes

DAYS = 90
EXTERNAL_INSIGHTS = 320
# Touchpoint rules: who hears about what.
TOUCHPOINT_RULES = {
    "website": "booking-platform",
    "booking-engine": "booking-platform",
    "social-media": "guest-experience",
    "sales-call": "corporate-sales",
    "check-in": "front-desk",
    "room": "housekeeping",
    "concierge-desk": "concierge",
    "support-chat": "contact-centre",
    "phone-line": "contact-centre",
    "invoice": "billing",
    "corporate-billing-portal": "billing",
}
# Journey-stage rules: a back-office group hears about a whole stage.
STAGE_RULES = {"stay": "operations", "pay": "finance"}
# Units some source systems name explicitly (far from the external customer).
EXPLICIT_UNITS = ["mobile-app", "it-services", "procurement"]
# Share of a unit's insights answered by a verified response, by customer layer; Procurement answers none, so the
# monitor has a unit with insights and no response.
ANSWERED_BY_LAYER = {0: 0.5, 1: 0.35, 2: 0.2, 3: 0.0}
NEVER_ANSWERS = {"procurement"}
SOURCES = [("qualtrics", Channel.SURVEY, 5), ("zendesk", Channel.SUPPORT, 3), ("tripadvisor", Channel.REVIEW, 1),
           ("salesforce", Channel.SALES, 1), ("interviews", Channel.INTERVIEW, 1)]  # fmt: skip
SAID = {
    "website": ["The website kept timing out when I compared room types.", "I couldn't find the cancellation terms."],
    "booking-engine": ["The booking engine charged me twice for one night.", "Booking for two rooms took ages."],
    "social-media": ["Your reply on Instagram came three days late.", "Loved the rooftop photos, the bar was shut."],
    "sales-call": ["The sales rep promised a meeting room that didn't exist.", "Quote arrived a week after the call."],
    "check-in": ["Check-in queue was 40 minutes at 6 pm.", "The front desk didn't have my booking."],
    "room": ["The room smelled of smoke although I asked for non-smoking.", "No hot water on the fourth floor."],
    "concierge-desk": ["The concierge booked a restaurant that was closed.", "Great tips for the museum, thank you."],
    "support-chat": ["The chat bot sent me in circles for twenty minutes.", "Nobody answered my refund request."],
    "phone-line": ["I was on hold for 25 minutes.", "The agent hung up when I asked for a manager."],
    "invoice": ["The invoice listed a room I never booked.", "The VAT number on my invoice is wrong."],
    "corporate-billing-portal": ["Our PO number is missing from every invoice.", "The portal logs us out daily."],
}
EXPLICIT_SAID = {
    "mobile-app": "The app crashes when I open my booking.",
    "it-services": "The Wi-Fi login page rejects my room number.",
    "procurement": "Your supplier forms ask for the same documents every quarter.",
}
SOLICITING = "The agent asked: is there any reason you can't give me a 10 on the survey? Felt odd."
NO_ACTION_REASON = "A one-off caused by a storm power cut; the building is fine now."
RAISED = [
    ("dana", "housekeeping", "Rooms are marked clean before the minibar is restocked, so guests call the desk."),
    ("manager", "it-services", "The check-in terminals freeze every morning at shift change; we need them fixed."),
    ("reviewer", "booking-platform", "Bookings changed online do not reach our queue until the next day."),
]


def _routing_rules(units: Mapping[str, OrgUnit]) -> list[RoutingRule]:
    touchpoints = Touchpoint.objects.in_bulk(list(TOUCHPOINT_RULES), field_name="code")
    stages = JourneyStage.objects.in_bulk(list(STAGE_RULES), field_name="code")
    rules = [
        RoutingRule(name=f"{units[unit].name} hears about {touchpoints[code].name.lower()}", unit=units[unit],
                    touchpoint=touchpoints[code])
        for code, unit in TOUCHPOINT_RULES.items() if code in touchpoints and unit in units
    ] + [
        RoutingRule(name=f"{units[unit].name} hears about the {stages[code].name.lower()} stage", unit=units[unit],
                    journey_stage=stages[code])
        for code, unit in STAGE_RULES.items() if code in stages and unit in units
    ]  # fmt: skip
    return RoutingRule.objects.bulk_create(rules)


def _external_insights(units: Mapping[str, OrgUnit], rng: random.Random, today: dt.date) -> list[InsightRoute]:
    """A few hundred insights from survey, support and review tools, routed by the rules (and some by name)."""
    touchpoints = list(Touchpoint.objects.filter(code__in=list(SAID)).order_by("code"))
    phrases = active_phrases()
    weights = [weight for _, _, weight in SOURCES]
    insights: list[Insight] = []
    explicit: list[list[int]] = []
    for n in range(EXTERNAL_INSIGHTS):
        source, channel, _ = rng.choices(SOURCES, weights=weights)[0]
        touchpoint = rng.choice(touchpoints)
        named = [units[code].pk for code in EXPLICIT_UNITS if code in units and rng.random() < 0.04]
        score = Decimal(rng.choice([1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 10])) if channel == Channel.SURVEY else None
        if n == 7:
            text = SOLICITING
        elif score is not None and rng.random() < 0.25:
            text = ""  # a score without words: outcome data, nothing to act on
        elif named and rng.random() < 0.5:
            code = next(code for code in EXPLICIT_UNITS if code in units and units[code].pk in named)
            text = EXPLICIT_SAID[code]
        else:
            text = rng.choice(SAID[touchpoint.code])
        insight = Insight(
            source_system=source,
            source_id=f"DEMO-{n + 1:04d}",
            text=text,
            score=score,
            channel=channel,
            said_on=today - dt.timedelta(days=rng.randint(0, DAYS - 1)),
            customer_type=CustomerType.EXTERNAL,
            touchpoint=touchpoint,
            is_score_only=not text and score is not None,
            gaming_flags=[solicitation_flag(hit).as_dict() for hit in find_solicitations([("text", text)],
                                                                                          phrases=phrases)],
        )  # fmt: skip
        insights.append(insight)
        explicit.append(named)
    Insight.objects.bulk_create(insights, batch_size=500)
    return InsightRoute.objects.bulk_create(plan_routes(insights, explicit_unit_ids=explicit), batch_size=500)


def _arrived(routes: list[InsightRoute], rng: random.Random, today: dt.date) -> dict[int, dt.datetime]:
    """Move each route's arrival to the day its insight was said (a day later for some), one update per day."""
    zone = timezone.get_current_timezone()
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for route in routes:
        day = min(route.said_on + dt.timedelta(days=rng.choice((0, 0, 1))), today)
        by_day[day].append(route.pk)
    arrived: dict[int, dt.datetime] = {}
    for day, ids in sorted(by_day.items()):
        when = dt.datetime.combine(day, dt.time(10), tzinfo=zone)
        InsightRoute.objects.filter(pk__in=ids).audited_update(routed_at=when)
        arrived.update(dict.fromkeys(ids, when))
    return arrived


def _persona_work(routes: list[InsightRoute], users: Mapping[str, User]) -> list[str]:
    """The front desk at work through the inbox services: taken, closed with no action, answered and verified."""
    desk = [r for r in routes if r.unit.code == "front-desk" and r.insight.text and not r.insight.gaming_flags]
    desk.sort(key=lambda r: (r.said_on, r.pk), reverse=True)
    done: list[str] = []
    if len(desk) >= 5:
        answer = inbox_respond(route=desk[0], by=users["dana"])
        answer = evidence_update(
            evidence=answer,
            by=users["dana"],
            data={
                "interpretation": "Evening arrivals queue because one agent handles both check-in and calls.",
                "response": "Moved calls to the contact centre between 5 and 8 pm; checked the queue for a week.",
            },
        )
        evidence_submit(evidence=answer, by=users["dana"])
        evidence_verify(evidence=answer, by=users["manager"], comment="Checked the queue times with the night shift.")
        inbox_take(route=desk[1], by=users["dana"])
        inbox_take(route=desk[2], by=users["manager"])
        inbox_respond(route=desk[3], by=users["dana"])  # a draft response Dana has still to finish
        inbox_close_no_action(route=desk[4], by=users["manager"], reason=NO_ACTION_REASON)
        done.append("Dana answered one front-desk insight (verified), took another and drafts a third")
    for username, unit_code, text in RAISED:
        insight_raise(by=users[username], to_unit=OrgUnit.objects.get(code=unit_code), text=text)
    return done


def _answered(
    routes: list[InsightRoute], arrived: Mapping[int, dt.datetime], hr: User, rng: random.Random, now: dt.datetime
) -> int:
    """Verified responses by members of the other units, made and verified through the evidence services."""
    members: dict[int, list[Employee]] = defaultdict(list)
    for employee in Employee.objects.filter(active=True).exclude(user=hr).order_by("pk"):
        members[employee.org_unit_id].append(employee)
    category = EvidenceCategory.objects.get(code="customer_story")
    chosen: list[tuple[InsightRoute, Evidence]] = []
    for route in routes:
        unit = route.unit
        answerable = route.insight.text and not route.insight.gaming_flags and members[unit.pk]
        if not answerable or unit.code in NEVER_ANSWERS or unit.code == "front-desk":
            continue
        if rng.random() >= ANSWERED_BY_LAYER.get(unit.customer_layer, 0.0) or arrived[route.pk] > now:
            continue
        owner = rng.choice(members[unit.pk])
        chosen.append(
            (
                route,
                Evidence(
                    owner=owner,
                    category=category,
                    title=f"Answered: {route.insight.text[:90]}",
                    customer_quote=route.insight.text,
                    source_type=SourceType.OTHER,
                    source_reference=f"{route.insight.source_system}:{route.insight.source_id}",
                    touchpoint=route.insight.touchpoint,
                    customer_type=CustomerType.EXTERNAL,
                    interpretation="A pattern, not a one-off: we checked the last month of similar reports.",
                    response="Fixed the cause with the team and told the customer what changed.",
                    impact_date=arrived[route.pk].date(),
                    status=EvidenceStatus.SUBMITTED,
                    submitted_at=now,
                    created_by=owner.user,
                    responds_to=route,
                ),
            )
        )
    Evidence.objects.bulk_create([item for _, item in chosen], batch_size=500)
    waits: dict[dt.datetime, list[int]] = defaultdict(list)
    for route, item in chosen:
        evidence_verify(evidence=item, by=hr, comment="Checked with the customer record: answered and fixed.")
        answered = min(arrived[route.pk] + dt.timedelta(days=rng.choice((1, 2, 3, 5, 8, 12, 20, 30))), now)
        waits[answered].append(route.pk)
    # Verification marked each insight responded just now; the demo spreads the answers over the 90 days.
    for answered, ids in waits.items():
        InsightRoute.objects.filter(pk__in=ids).audited_update(responded_at=answered, closed_at=answered)
    return len(chosen)


def _group_requirement(units: Mapping[str, OrgUnit], today: dt.date) -> str:
    """The front desk makes answering its customers a recognition criterion (a group addition, from today on)."""
    unit = units.get("front-desk")
    ritual = RitualType.objects.filter(code="recognition").first()
    if unit is None or ritual is None or Policy.objects.filter(ritual_type=ritual, scope=unit).exists():
        return ""
    policy = policy_create(ritual_type=ritual, scope=unit)
    version = policy_version_create(policy=policy, effective_from=today, notes=f"{unit.name} additions.")
    requirement_add(version=version, kind="responds_to_insights", params={"count": 1, "within_days": 90})
    policy_version_publish(version=version, today=today)
    return f"{unit.name} recognition asks for a verified response to its customers' insights"


def seed_insights(
    *, units: Mapping[str, OrgUnit], users: Mapping[str, User], rng: random.Random, today: dt.date
) -> str:
    """Create the demo's insight stream and return the line seed_demo prints."""
    now = timezone.now()
    rules = _routing_rules(units)
    routes = _external_insights(units, rng, today)
    arrived = _arrived(routes, rng, today)
    routes = list(
        InsightRoute.objects.filter(pk__in=[r.pk for r in routes]).select_related("unit", "insight").order_by("pk")
    )
    persona = _persona_work(routes, users)
    answered = _answered(routes, arrived, users["hr"], rng, now)
    requirement = _group_requirement(units, today)
    # Dana asked for her unit's weekly digest (managers receive it unless they turn it off).
    dana = Employee.objects.filter(user=users["dana"]).first()
    if dana is not None:
        digest_preference_set(employee=dana, weekly_digest=True, note="Asked for the front desk's insight digest.")
    digests = write_planned(insights_digest_planned(now=now), now)
    counts: dict[str, int] = defaultdict(int)
    for status in InsightRoute.objects.values_list("status", flat=True):
        counts[status] += 1
    inboxes = InsightRoute.objects.values("unit_id").distinct().count()
    parts = [
        f"Insights: {Insight.objects.count()} (some score-only, one soliciting a score, {len(RAISED)} raised by "
        f"internal customers) in {inboxes} units' inboxes by {len(rules)} routing rules",
        f"{counts[InboxStatus.NEW]} new, {counts[InboxStatus.IN_PROGRESS]} being handled, "
        f"{counts[InboxStatus.RESPONDED]} responded with verified evidence ({answered} across the units), "
        f"{counts[InboxStatus.NO_ACTION]} closed with no action",
        *persona,
        *([requirement] if requirement else []),
        f"{len(digests)} weekly insight digests planned",
    ]
    return "; ".join(parts) + ". Inbox: /me/inbox/; report: /reports/insights/."
