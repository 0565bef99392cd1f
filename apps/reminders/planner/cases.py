"""Notifications of case events: the approver whose step waits, the owner and nominator of a decision, a second HR.

Each is planned once per (case or exception, recipient, occasion) by its key, whatever the number of times the event
is announced; the occasion is the step's order, the decision's status or the exception request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from apps.cases.constants import DECIDED_STATUSES, CaseStatus, ExceptionStatus, StepRole
from apps.cases.hooks import CaseEvent
from apps.cases.models import Case, Delegation, PolicyException, StepRecord
from apps.cases.routing import RouteStep, holds_role, next_step, route_steps
from apps.cases.selectors import case_checklist

from ..constants import ReminderKind
from ..recipients import (
    USER_FIELDS,
    Recipient,
    employee_recipient,
    group_recipients,
    hr_recipients,
    leadership_recipients,
    logins_by_id,
    user_recipient,
)
from ..timing import send_time, zone
from .base import PlanConfig, Planned, unmet_rows

# The people around a case, loaded with it: subject and nominator with two levels of managers (manager steps).
CASE_RELATED = (
    "cycle",
    "subject_unit",
    "subject_employee__manager__manager",
    "nominated_by__manager__manager",
    "decided_by",
)


def checklist_summary(case: Case, *, now: dt.datetime) -> dict[str, Any]:
    """How far the case is: `met` of `total` requirements and the unmet ones (the live checklist, a few queries)."""
    evaluation = case_checklist(case, today=timezone.localdate(now))
    total = len(evaluation.results)
    met = total - len(evaluation.unmet)
    return {
        "met": met,
        "total": total,
        "compliant": evaluation.compliant,
        "unmet": unmet_rows(evaluation),
        "summary": f"{met} of {total} requirement{'' if total == 1 else 's'} met",
    }


def _manager_candidates(case: Case) -> list[int]:
    """Logins of the people a manager or skip-level step can fall to: the subject's and the nominator's managers."""
    ids: list[int] = []
    for person in (case.subject_employee, case.nominated_by):
        for _ in range(3):
            if person is None:
                break
            if person.user_id is not None:
                ids.append(person.user_id)
            person = person.manager
    return ids


def step_holders(case: Case, step: RouteStep) -> list[Recipient]:
    """Who holds the step's role on the case, as recipients (a query or two).

    Manager steps: the candidates around the case, kept when `apps.cases.routing.holds_role` says they hold the
    role, so the rule stays in one place. HR, Leadership and named groups: their active members (HR and Leadership
    with the superusers, as `is_hr` and `is_leadership` count them).
    """
    if step.role in (StepRole.MANAGER, StepRole.SKIP_LEVEL_MANAGER):
        users = get_user_model().objects.filter(pk__in=set(_manager_candidates(case)), is_active=True)
        return logins_by_id(user.pk for user in users if holds_role(user, step, case))
    if step.role == StepRole.HR:
        return hr_recipients()
    if step.role == StepRole.LEADERSHIP:
        return leadership_recipients()
    return group_recipients(step.group_name) if step.group_name else []


def step_delegates(step: RouteStep, principal_ids: Iterable[int], today: dt.date) -> dict[int, list[str]]:
    """Delegates standing in today for any of the principals on this step: delegate login -> principals' names."""
    ids = list(principal_ids)
    if not ids:
        return {}
    scope = Q(step__isnull=True) | Q(step_id=step.step.pk) if step.step is not None else Q(step__isnull=True)
    delegations = (
        Delegation.objects.filter(scope, principal_id__in=ids, starts_on__lte=today, ends_on__gte=today)
        .select_related("principal")
        .order_by("pk")
    )
    found: dict[int, list[str]] = {}
    for delegation in delegations:
        principal = delegation.principal
        found.setdefault(delegation.delegate_id, []).append(principal.get_full_name() or principal.get_username())
    return found


def _planned(
    kind: str,
    object_ref: str,
    occasion: str,
    person: Recipient,
    *,
    now: dt.datetime,
    config: PlanConfig,
    reason: str,
    context: dict[str, Any],
    case_id: int,
    cycle_id: int | None = None,
) -> Planned:
    return Planned(
        kind=kind,
        object_ref=object_ref,
        occasion=occasion,
        recipient=person,
        due_at=send_time(now, zone(person.timezone), config.hours),
        reason=reason[:300],
        context=context,
        case_id=case_id,
        cycle_id=cycle_id,
    )


def step_waiting_planned(case: Case, *, now: dt.datetime, config: PlanConfig) -> list[Planned]:
    """Everyone who can act on the case's waiting step, themselves or as delegate, once per step.

    Nobody who decided an earlier step (four eyes) and never the subject is asked.
    """
    if not case.is_open:
        return []
    steps = route_steps(case)
    step = next_step(case, steps)
    if step is None:
        return []
    earlier = StepRecord.objects.filter(case=case).values_list("by_id", "on_behalf_of_id")
    excluded = {user_id for pair in earlier for user_id in pair if user_id is not None}
    if case.subject_employee is not None and case.subject_employee.user_id is not None:
        excluded.add(case.subject_employee.user_id)
    holders = [p for p in step_holders(case, step) if p.user_id not in excluded]
    delegates = step_delegates(step, [p.user_id for p in holders if p.user_id], timezone.localdate(now))
    checklist = checklist_summary(case, now=now)
    position = f"step {steps.index(step) + 1} of {len(steps)}"
    context = {
        "subject": case.subject_name,
        "cycle": case.cycle.name,
        "step": step.name,
        "order": step.order,
        "position": position,
        **checklist,
    }
    summary = checklist["summary"]
    planned: list[Planned] = []
    seen: set[str] = set()
    people = [(p, "") for p in holders] + [
        (p, " and ".join(delegates.get(p.user_id or 0, []))) for p in logins_by_id(delegates)
    ]
    for person, principal in people:
        if person.user_id in excluded or person.ref in seen:
            continue
        seen.add(person.ref)
        stand_in = f" (standing in for {principal})" if principal else ""
        planned.append(
            _planned(
                ReminderKind.STEP_WAITING,
                f"case-{case.pk}",
                f"step-{step.order}",
                person,
                now=now,
                config=config,
                reason=f"{case.subject_name}: “{step.name}” ({position}) waits for you{stand_in}; {summary}",
                context={**context, "on_behalf_of": principal},
                case_id=case.pk,
                cycle_id=case.cycle_id,
            )
        )
    return planned


def decided_planned(case: Case, *, by: int | None, now: dt.datetime, config: PlanConfig) -> list[Planned]:
    """The subject and the nominator hear the decision once (not whoever made it: they know)."""
    if case.status not in DECIDED_STATUSES:
        return []
    status = CaseStatus(case.status)
    actor = by if by is not None else case.decided_by_id
    decided_by = (case.decided_by.get_full_name() or case.decided_by.get_username()) if case.decided_by else ""
    results = (case.frozen_evaluation or {}).get("results", [])
    met = sum(1 for row in results if row.get("met"))
    context = {
        "subject": case.subject_name,
        "cycle": case.cycle.name,
        "status": str(status),
        "status_label": status.label,
        "note": case.decision_note[:2000],
        "decided_by": decided_by,
        "met": met,
        "total": len(results),
        "summary": f"{met} of {len(results)} requirement{'' if len(results) == 1 else 's'} met",
    }
    planned: list[Planned] = []
    seen: set[str] = set()
    for role, person in (("subject", case.subject_employee), ("nominator", case.nominated_by)):
        if person is None or (actor is not None and person.user_id == actor):
            continue
        recipient = employee_recipient(person.pk, person.full_name, person.email, person.timezone, person.active)
        if recipient is None or recipient.ref in seen:
            continue
        seen.add(recipient.ref)
        whose = "Your case" if role == "subject" else f"The case of {case.subject_name}"
        planned.append(
            _planned(
                ReminderKind.CASE_DECIDED,
                f"case-{case.pk}",
                str(status),
                recipient,
                now=now,
                config=config,
                reason=f"{whose} in {case.cycle.name} was {status.label.lower()}",
                context={**context, "own_case": role == "subject"},
                case_id=case.pk,
                cycle_id=case.cycle_id,
            )
        )
    return planned


def exception_waiting_planned(exception_id: int, *, now: dt.datetime, config: PlanConfig) -> list[Planned]:
    """Every HR but the one who asked: an exception needs a second pair of eyes (four eyes), once per request."""
    exception = (
        PolicyException.objects.select_related("case__cycle", "case__subject_employee", "case__subject_unit")
        .filter(pk=exception_id)
        .first()
    )
    if exception is None or exception.status != ExceptionStatus.REQUESTED:
        return []
    case = exception.case
    requester_row = get_user_model().objects.filter(pk=exception.requested_by_id).values_list(*USER_FIELDS).first()
    requester = user_recipient(requester_row) if requester_row else None
    waived = list(exception.waived_requirements.order_by("order", "pk").values_list("label", flat=True))
    context = {
        "subject": case.subject_name,
        "cycle": case.cycle.name,
        "exception_id": exception.pk,
        "justification": exception.justification[:2000],
        "requested_by": requester.name if requester else "",
        "waived": waived,
    }
    return [
        _planned(
            ReminderKind.EXCEPTION_WAITING,
            f"exception-{exception.pk}",
            "requested",
            person,
            now=now,
            config=config,
            reason=f"An exception for {case.subject_name} ({case.cycle.name}) waits for a second HR decision",
            context=context,
            case_id=case.pk,
            cycle_id=case.cycle_id,
        )
        for person in hr_recipients()
        if person.user_id != exception.requested_by_id
    ]


def case_event_planned(
    *, case_id: int, event: str, context: Mapping[str, Any], now: dt.datetime, config: PlanConfig
) -> list[Planned]:
    """The notifications of one case event, judged by the case as it is now (events without any plan none)."""
    if event == CaseEvent.EXCEPTION_REQUESTED:
        exception_id = context.get("exception_id")
        return exception_waiting_planned(int(exception_id), now=now, config=config) if exception_id else []
    if event not in (CaseEvent.STEP_WAITING, CaseEvent.DECIDED):
        return []
    case = Case.objects.select_related(*CASE_RELATED).filter(pk=case_id).first()
    if case is None:
        return []
    if event == CaseEvent.STEP_WAITING:
        return step_waiting_planned(case, now=now, config=config)
    by = context.get("by")
    return decided_planned(case, by=int(by) if by is not None else None, now=now, config=config)
