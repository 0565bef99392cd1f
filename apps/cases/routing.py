"""Approval routes: which step is next on a case, and whether a person may act on it (themselves or as delegate)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User

from apps.common.roles import is_hr, is_leadership, user_role_names

from .constants import StepRole
from .models import ApprovalStep, Case, Delegation, StepRecord


@dataclass(frozen=True, slots=True)
class RouteStep:
    """A step as the decision service sees it (the default route has no stored step)."""

    order: int
    name: str
    role: str
    group_name: str | None
    step: ApprovalStep | None


DEFAULT_ROUTE = (RouteStep(order=1, name="HR approves", role=StepRole.HR, group_name=None, step=None),)


def route_steps(case: Case) -> tuple[RouteStep, ...]:
    """The ordered steps of the case's ritual; HR alone when HR configured no route."""
    steps = ApprovalStep.objects.filter(route__ritual_type_id=case.cycle.ritual_type_id).select_related("group")
    configured = tuple(
        RouteStep(order=s.order, name=s.name, role=s.role, group_name=s.group.name if s.group else None, step=s)
        for s in steps.order_by("order")
    )
    return configured or DEFAULT_ROUTE


def next_step(case: Case, steps: tuple[RouteStep, ...]) -> RouteStep | None:
    """The first step without a record, or None when every step has been decided."""
    done = set(StepRecord.objects.filter(case=case).values_list("order", flat=True))
    return next((step for step in steps if step.order not in done), None)


def _manager_user_id(case: Case, levels: int) -> int | None:
    """The login of the subject's manager (levels=1) or skip-level manager (levels=2).

    For a candidate the nominating hiring manager is "the manager"; for an org unit, the nominator's manager.
    """
    if case.subject_employee_id:
        person = case.subject_employee
    elif case.candidate_name:
        person = case.nominated_by
        levels -= 1
    else:
        person = case.nominated_by
    for _ in range(levels):
        if person is None:
            return None
        person = person.manager
    return person.user_id if person is not None else None


def holds_role(user: User, step: RouteStep, case: Case) -> bool:
    """Does `user` themselves hold the role of this step on this case?"""
    if step.role == StepRole.MANAGER:
        return user.pk is not None and user.pk == _manager_user_id(case, 1)
    if step.role == StepRole.SKIP_LEVEL_MANAGER:
        return user.pk is not None and user.pk == _manager_user_id(case, 2)
    if step.role == StepRole.HR:
        return is_hr(user)
    if step.role == StepRole.LEADERSHIP:
        return is_leadership(user)
    return step.group_name is not None and step.group_name in user_role_names(user)


def holds_case_role(user: User, role: str, case: Case) -> bool:
    """Does `user` hold `role` (manager, skip-level manager, HR, leadership) on this case, outside any route?"""
    return holds_role(user, RouteStep(order=0, name=role, role=role, group_name=None, step=None), case)


def acting_capacity(user: User, step: RouteStep, case: Case, today: dt.date) -> tuple[bool, User | None]:
    """Whether `user` may act on the step, and for whom: (True, None) in person, (True, principal) as delegate."""
    if holds_role(user, step, case):
        return True, None
    delegations = Delegation.objects.filter(delegate=user, starts_on__lte=today, ends_on__gte=today).select_related(
        "principal"
    )
    for delegation in delegations:
        if delegation.step_id is not None and (step.step is None or delegation.step_id != step.step.pk):
            continue
        if holds_role(delegation.principal, step, case):
            return True, delegation.principal
    return False, None


@dataclass(frozen=True, slots=True)
class WaitingStep:
    """The step an open case waits for, and where it stands in the route."""

    step: RouteStep
    position: int
    of: int

    @property
    def label(self) -> str:
        return f"{self.step.name} (step {self.position} of {self.of})"


def waiting_step(case: Case) -> WaitingStep | None:
    """The step an open case waits for ('Manager recommends, step 1 of 2'); None once decided (two queries)."""
    if not case.is_open:
        return None
    steps = route_steps(case)
    step = next_step(case, steps)
    if step is None:
        return None
    return WaitingStep(step=step, position=steps.index(step) + 1, of=len(steps))
