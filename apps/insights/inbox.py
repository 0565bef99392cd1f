"""Writes of a unit's inbox: take an insight, release it, close it with no action, reopen it, respond to it with
evidence; and raise an insight about another unit as its internal customer. Each is one transaction that locks the
inbox row it decides on, so two people acting at once are served one after the other."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.capture import audit_snapshot
from apps.common.errors import InvalidTransition
from apps.evidence.constants import CustomerType, EvidenceStatus, SourceType
from apps.evidence.gaming import find_solicitations, solicitation_flag
from apps.evidence.gaming_store import active_phrases
from apps.evidence.models import Evidence
from apps.evidence.permissions import employee_of
from apps.evidence.services import evidence_create
from apps.org.models import Employee, OrgUnit, Touchpoint
from apps.policies.models import EvidenceCategory

from .constants import OPEN_STATUSES, Channel, InboxStatus
from .models import Insight, InsightRoute
from .routing import plan_routes
from .selectors import can_read_inbox, manages_unit

# Where the customer said it (the insight's channel) as the evidence's "where you heard it".
SOURCE_TYPE_OF_CHANNEL: dict[str, str] = {
    Channel.SURVEY: SourceType.SURVEY_VERBATIM,
    Channel.SUPPORT: SourceType.SUPPORT_TICKET,
    Channel.SALES: SourceType.SALES_CALL,
    Channel.SOCIAL: SourceType.SOCIAL,
    Channel.INTERVIEW: SourceType.INTERVIEW,
}

# A response is a customer story: what the customer said, what it meant, what was done. The owner may change it.
RESPONSE_CATEGORY_CODE = "customer_story"
RESPONSE_CATEGORY_KIND = "story"

# A reason for "no action" must say something: a few words, not "n/a".
NO_ACTION_MIN_WORDS = 3
NO_ACTION_MIN_CHARS = 15
RAISE_MIN_CHARS = 10
TITLE_MAX = 120

RAISE_SOURCE_SYSTEM = "portal"


def _employee(by: User, what: str) -> Employee:
    employee = employee_of(by)
    if employee is None:
        raise PermissionDenied(f"Only employees can {what}; your login has no employee record.")
    return employee


def _locked(route: InsightRoute) -> InsightRoute:
    """The route read again and locked to the end of the transaction (only its own row: of=("self",)).

    Who holds it (`taken_by`) is not joined here: a read that waited for another transaction's lock sees the row as
    that transaction left it, but a joined row as it was before, so the holder's name is read after the lock.
    """
    return InsightRoute.objects.select_for_update(of=("self",)).select_related("insight", "unit").get(pk=route.pk)


def _require_reader(by: User, route: InsightRoute) -> None:
    if not can_read_inbox(by, route.unit_id):
        raise PermissionDenied("Only the unit's members, their managers and HR can act on its inbox.")


def _taken_by_other(route: InsightRoute, employee: Employee | None) -> bool:
    return route.taken_by_id is not None and (employee is None or route.taken_by_id != employee.pk)


def _already_taken(route: InsightRoute) -> InvalidTransition:
    name = route.taken_by.full_name if route.taken_by is not None else "someone else"
    return InvalidTransition(f"Already taken by {name}.")


def _closed(route: InsightRoute) -> InvalidTransition:
    return InvalidTransition(f"This insight is {route.get_status_display().lower()} in this inbox.")


@transaction.atomic
def inbox_take(*, route: InsightRoute, by: User) -> InsightRoute:
    """ "I'm on it": the insight is being handled by the signed-in member; a second person is told who has it."""
    employee = _employee(by, "take an insight")
    route = _locked(route)
    _require_reader(by, route)
    if route.status not in OPEN_STATUSES:
        raise _closed(route)
    if _taken_by_other(route, employee):
        raise _already_taken(route)
    if route.taken_by_id == employee.pk:
        return route  # taken already by the same person: nothing changes
    before = audit_snapshot(route)
    route.status = InboxStatus.IN_PROGRESS
    route.taken_by = employee
    route.taken_at = timezone.now()
    route.save(update_fields=["status", "taken_by", "taken_at"], audit_before=before)
    return route


@transaction.atomic
def inbox_release(*, route: InsightRoute, by: User) -> InsightRoute:
    """Give an insight back to the unit (new again): the person who took it, a manager of the unit or HR."""
    route = _locked(route)
    _require_reader(by, route)
    if route.status != InboxStatus.IN_PROGRESS:
        raise InvalidTransition("Only an insight being handled can be released.")
    employee = employee_of(by)
    if _taken_by_other(route, employee) and not manages_unit(by, route.unit_id):
        raise PermissionDenied("Only the person handling it, a manager of the unit or HR can release it.")
    before = audit_snapshot(route)
    route.status = InboxStatus.NEW
    route.taken_by = None
    route.taken_at = None
    route.save(update_fields=["status", "taken_by", "taken_at"], audit_before=before)
    return route


def checked_no_action_reason(reason: str) -> str:
    """The reason, stripped, or a ValidationError on `reason` when it says too little (forms ask it early)."""
    reason = (reason or "").strip()
    if len(reason) < NO_ACTION_MIN_CHARS or len(reason.split()) < NO_ACTION_MIN_WORDS:
        raise ValidationError(
            {"reason": "Say in a sentence why the unit will not act on it; the customer's group and HR read it."}
        )
    return reason


@transaction.atomic
def inbox_close_no_action(*, route: InsightRoute, by: User, reason: str) -> InsightRoute:
    """Close an open insight with no action, saying why (kept on the row and in the audit trail)."""
    reason = checked_no_action_reason(reason)
    employee = _employee(by, "close an insight")
    route = _locked(route)
    _require_reader(by, route)
    if route.status not in OPEN_STATUSES:
        raise _closed(route)
    if _taken_by_other(route, employee) and not manages_unit(by, route.unit_id):
        raise _already_taken(route)
    before = audit_snapshot(route)
    route.status = InboxStatus.NO_ACTION
    route.no_action_reason = reason
    route.closed_at = timezone.now()
    if route.taken_by_id is None:
        route.taken_by = employee
        route.taken_at = route.closed_at
    route.save(update_fields=["status", "no_action_reason", "closed_at", "taken_by", "taken_at"], audit_before=before)
    return route


@transaction.atomic
def inbox_reopen(*, route: InsightRoute, by: User) -> InsightRoute:
    """Put an insight closed with no action back in the inbox as new: HR or a manager of the unit."""
    route = _locked(route)
    _require_reader(by, route)
    if not manages_unit(by, route.unit_id):
        raise PermissionDenied("Only a manager of the unit or HR can reopen an insight.")
    if route.status != InboxStatus.NO_ACTION:
        raise InvalidTransition("Only an insight closed with no action can be reopened.")
    before = audit_snapshot(route)
    route.status = InboxStatus.NEW
    route.closed_at = None
    route.taken_by = None
    route.taken_at = None
    # The reason given stays in the audit trail; the row shows only a current one.
    route.no_action_reason = ""
    route.save(update_fields=["status", "closed_at", "taken_by", "taken_at", "no_action_reason"], audit_before=before)
    return route


def _response_category(*, outcome: bool = False) -> EvidenceCategory:
    """A customer story; for a score without words, an outcome-score category (a score is outcome data, and the
    policies' outcome caps apply to it)."""
    active = EvidenceCategory.objects.active()
    category = (active.filter(is_outcome=True).order_by("id").first() if outcome else None) or (
        active.filter(code=RESPONSE_CATEGORY_CODE).first()
        or active.filter(kind=RESPONSE_CATEGORY_KIND).order_by("id").first()
        or active.order_by("id").first()
    )
    if category is None:
        raise ValidationError("HR has no active evidence category yet; ask them to add one.")
    return category


def response_title(insight: Insight) -> str:
    """A first title for the response, from the customer's words (the owner rewrites it as they like)."""
    words = " ".join(insight.text.split())
    if not words:
        return f"Response to a score of {insight.score} ({insight.get_channel_display().lower()})"[:TITLE_MAX]
    prefix = "Response to: "
    room = TITLE_MAX - len(prefix)
    return prefix + (words if len(words) <= room else words[: room - 1].rstrip() + "…")


def response_data(insight: Insight) -> dict[str, Any]:
    """The draft's fields from the insight: the customer's words (Listen), where they said it, whose customer."""
    internal = insight.customer_type == CustomerType.INTERNAL and insight.from_unit_id is not None
    return {
        # A score without words is outcome data, not an operational KPI: the draft starts as an outcome score (the
        # owner adds the scores before and after, or turns it into a story).
        "category": _response_category(outcome=insight.is_score_only),
        "title": response_title(insight),
        "customer_quote": insight.text.strip(),
        "source_type": SOURCE_TYPE_OF_CHANNEL.get(insight.channel, SourceType.OTHER),
        "source_reference": f"{insight.source_system}:{insight.source_id}"[:200],
        "touchpoint": insight.touchpoint,
        # An internal customer's insight without a known group is answered as an external one: evidence for an
        # internal customer must name the receiving group, and the owner can still set it on the form.
        "customer_type": CustomerType.INTERNAL if internal else CustomerType.EXTERNAL,
        "internal_customer_unit": insight.from_unit if internal else None,
        "impact_date": timezone.localdate(),
    }


@transaction.atomic
def inbox_respond(*, route: InsightRoute, by: User) -> Evidence:
    """Start a response: a draft evidence item of the signed-in member carrying the customer's words, linked to the
    insight; the insight is being handled by them. The draft is completed and submitted as any other item."""
    employee = _employee(by, "respond with evidence")
    route = _locked(route)
    _require_reader(by, route)
    if route.status not in OPEN_STATUSES:
        raise _closed(route)
    if _taken_by_other(route, employee):
        raise _already_taken(route)
    insight = Insight.objects.select_related("touchpoint", "from_unit").get(pk=route.insight_id)
    evidence = evidence_create(by=by, data=response_data(insight))
    evidence.responds_to = route
    evidence.save(update_fields=["responds_to", "updated_at"])
    if route.taken_by_id != employee.pk:
        before = audit_snapshot(route)
        route.status = InboxStatus.IN_PROGRESS
        route.taken_by = employee
        route.taken_at = timezone.now()
        route.save(update_fields=["status", "taken_by", "taken_at"], audit_before=before)
    return evidence


@transaction.atomic
def inbox_mark_responded(*, evidence_id: int) -> InsightRoute | None:
    """A response was verified: its route becomes responded, once (a later verified response changes nothing)."""
    evidence = Evidence.objects.filter(pk=evidence_id).values("responds_to_id", "status", "reviewed_at").first()
    if evidence is None or evidence["responds_to_id"] is None or evidence["status"] != "verified":
        return None
    route = InsightRoute.objects.select_for_update().get(pk=evidence["responds_to_id"])
    if route.status == InboxStatus.RESPONDED:
        return route
    before = audit_snapshot(route)
    now = timezone.now()
    route.status = InboxStatus.RESPONDED
    route.responded_at = evidence["reviewed_at"] or now
    route.closed_at = now
    route.no_action_reason = ""
    route.save(update_fields=["status", "responded_at", "closed_at", "no_action_reason"], audit_before=before)
    return route


@transaction.atomic
def inbox_response_withdrawn(*, evidence_id: int) -> InsightRoute | None:
    """A response stopped being verified (HR revoked its verification): the insight is answered no more, unless another
    verified response is linked to it. It goes back to the person who was on it (or to New), its times cleared."""
    route_id = Evidence.objects.filter(pk=evidence_id).values_list("responds_to_id", flat=True).first()
    if route_id is None:
        return None
    route = InsightRoute.objects.select_for_update().get(pk=route_id)
    if route.status != InboxStatus.RESPONDED:
        return route
    if Evidence.objects.filter(responds_to_id=route_id, status=EvidenceStatus.VERIFIED, is_current=True).exists():
        return route
    before = audit_snapshot(route)
    route.status = InboxStatus.IN_PROGRESS if route.taken_by_id is not None else InboxStatus.NEW
    route.responded_at = None
    route.closed_at = None
    route.save(update_fields=["status", "responded_at", "closed_at"], audit_before=before)
    return route


def _checked_raise(employee: Employee, to_unit: OrgUnit, text: str) -> str:
    errors: dict[str, str] = {}
    if to_unit.pk == employee.org_unit_id:
        errors["to_unit"] = "Choose another group: this is about a group whose output your group receives."
    elif not to_unit.active:
        errors["to_unit"] = "This group no longer exists; choose another."
    text = (text or "").strip()
    if len(text) < RAISE_MIN_CHARS:
        errors["text"] = "Write what your group needs from them, in a sentence or more."
    if errors:
        raise ValidationError(errors)
    return text


@transaction.atomic
def insight_raise(
    *,
    by: User,
    to_unit: OrgUnit,
    text: str,
    touchpoint: Touchpoint | None = None,
    said_on: dt.date | None = None,
) -> Insight:
    """An internal customer tells another unit what their group needs: an insight from the raiser's unit, in the
    chosen unit's inbox (and in the inboxes the touchpoint's rules name, never the raiser's own)."""
    employee = _employee(by, "raise an insight")
    text = _checked_raise(employee, to_unit, text)
    insight = Insight(
        source_system=RAISE_SOURCE_SYSTEM,
        source_id=uuid.uuid4().hex,
        text=text,
        channel=Channel.INTERNAL,
        said_on=said_on or timezone.localdate(),
        customer_type=CustomerType.INTERNAL,
        touchpoint=touchpoint,
        from_unit_id=employee.org_unit_id,
        raised_by=employee,
        # Asking for a score is gaming wherever it is written, an internal customer's words included.
        gaming_flags=[
            solicitation_flag(hit).as_dict() for hit in find_solicitations([("text", text)], phrases=active_phrases())
        ],
    )
    insight.full_clean()
    insight.save()
    for route in plan_routes([insight], explicit_unit_ids=[[to_unit.pk]]):
        if route.unit_id != employee.org_unit_id:
            route.save()
    return insight
