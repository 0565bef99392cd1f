"""Writes for cases: opening with pinned policy versions, attestations, exceptions, approval steps, the gate."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.audit.capture import m2m_bulk_add
from apps.audit.services import audit_record
from apps.common.errors import InvalidTransition
from apps.common.roles import is_hr
from apps.evidence.models import Evidence
from apps.evidence.permissions import employee_of
from apps.org.models import Employee, OrgUnit
from apps.policies.constants import SubjectKind
from apps.policies.selectors import effective_policies_get

from .constants import (
    MIN_JUSTIFICATION_WORDS,
    MIN_NOTE_LENGTH,
    CaseAuditAction,
    CaseStatus,
    CycleStatus,
    ExceptionStatus,
    StepDecision,
    StepRole,
)
from .evaluations import case_refresh_compliance, evaluate_new_cases, evaluations_clear, evaluations_store
from .hooks import CaseEvent, case_event
from .models import Attestation, Case, CaseEvidence, Cycle, PolicyException, StepRecord
from .routing import acting_capacity, holds_case_role, next_step, route_steps
from .selectors import case_checklist, evaluation_as_json

P = ParamSpec("P")
R = TypeVar("R")
REFUSALS = (ValidationError, PermissionDenied, InvalidTransition)


def refusal_text(exc: Exception) -> str:
    """The human message of a refusal (a ValidationError may carry several, keyed by field)."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def refusals_audited(
    action: str, subject: Callable[[dict[str, Any]], models.Model]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator for a transactional service: a refused attempt goes on the audit trail, then the refusal is re-raised.

    The service's own transaction has rolled back when the refusal reaches this wrapper, so the event is written in a
    transaction of its own (a savepoint when the caller holds a transaction: it then commits or not with the caller).
    `subject(kwargs)` returns the object the event is about (the case, or the cycle for an opening).
    """

    def decorate(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return service(*args, **kwargs)
            except REFUSALS as exc:
                by = kwargs.get("by")
                with transaction.atomic():
                    audit_record(
                        action=action,
                        obj=subject(kwargs),
                        context={
                            "reason": refusal_text(exc)[:1000],
                            "by": getattr(by, "pk", None),
                            "by_name": getattr(by, "username", ""),
                            "refusal": type(exc).__name__,
                        },
                    )
                raise

        return wrapper

    return decorate


def _note(note: str, what: str) -> str:
    note = (note or "").strip()
    if len(note) < MIN_NOTE_LENGTH:
        raise ValidationError({"note": f"Write a note saying why you {what}."})
    return note


def _lock_open(case: Case) -> Case:
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("cycle", "subject_employee__manager")
        .get(pk=case.pk)
    )
    if case.status != CaseStatus.OPEN:
        raise InvalidTransition(
            f"This case is already {case.get_status_display().lower()}; decided cases are read-only."
        )
    return case


def _subject_fields(
    cycle: Cycle,
    *,
    subject_employee: Employee | None,
    subject_unit: OrgUnit | None,
    candidate_name: str,
    candidate_email: str,
    nominated_by: Employee | None,
) -> dict[str, Any]:
    """Check the subject fits the ritual's subject kind; return the case fields, policy unit included."""
    kind = cycle.ritual_type.subject_kind
    if kind == SubjectKind.EMPLOYEE:
        if subject_employee is None or subject_unit is not None or candidate_name:
            raise ValidationError({"subject_employee": f"{cycle.ritual_type} cases are about an employee."})
        if not subject_employee.active:
            raise ValidationError({"subject_employee": f"{subject_employee} is not an active employee."})
        return {"subject_employee": subject_employee, "policy_unit_id": subject_employee.org_unit_id}
    if kind == SubjectKind.ORG_UNIT:
        if subject_unit is None or subject_employee is not None or candidate_name:
            raise ValidationError({"subject_unit": f"{cycle.ritual_type} cases are about an org unit."})
        return {"subject_unit": subject_unit, "policy_unit_id": subject_unit.pk}
    if not candidate_name.strip() or subject_employee is not None or subject_unit is not None:
        raise ValidationError({"candidate_name": f"{cycle.ritual_type} cases are about a candidate: give a name."})
    if nominated_by is None:
        raise ValidationError({"nominated_by": "A hiring case needs the nominating hiring manager."})
    if not candidate_email.strip():
        # The e-mail tells two candidates of the same name apart: one live case per candidate and cycle.
        raise ValidationError({"candidate_email": f"Give {candidate_name.strip()}'s e-mail address."})
    try:
        validate_email(candidate_email.strip())
    except ValidationError as exc:
        raise ValidationError({"candidate_email": f"'{candidate_email.strip()}' is not an e-mail address."}) from exc
    return {
        "candidate_name": candidate_name.strip(),
        "candidate_email": candidate_email.strip(),
        "policy_unit_id": nominated_by.org_unit_id,
    }


def case_open(
    *,
    cycle: Cycle,
    subject_employee: Employee | None = None,
    subject_unit: OrgUnit | None = None,
    candidate_name: str = "",
    candidate_email: str = "",
    nominated_by: Employee | None = None,
    today: dt.date | None = None,
    by: User | None = None,
) -> Case:
    """Open a case and pin the policy versions in force today for the subject's unit (they never change after)."""
    # Not a transaction of its own: case_open_many is one, and a refusal it records must not be rolled back here.
    return case_open_many(
        cycle=cycle,
        subjects=[
            {
                "subject_employee": subject_employee,
                "subject_unit": subject_unit,
                "candidate_name": candidate_name,
                "candidate_email": candidate_email,
                "nominated_by": nominated_by,
            }
        ],
        today=today,
        by=by,
    )[0]


@refusals_audited(CaseAuditAction.CASE_OPENING_REFUSED, lambda kwargs: kwargs["cycle"])
@transaction.atomic
def case_open_many(
    *, cycle: Cycle, subjects: Sequence[dict[str, Any]], today: dt.date | None = None, by: User | None = None
) -> list[Case]:
    """Open many cases at once, all or none; the effective policies are resolved in one batch.

    `by` is the person opening them (HR only); None for the system (the demo, data migrations, benchmarks).
    """
    today = today or timezone.localdate()
    if by is not None and not is_hr(by):
        raise PermissionDenied("Only HR can open cases.")
    if cycle.status != CycleStatus.OPEN:
        raise ValidationError({"cycle": f"{cycle} is {cycle.status}; cases open only in an open cycle."})
    if today > cycle.evidence_deadline:
        raise ValidationError({"cycle": f"{cycle}'s evidence deadline ({cycle.evidence_deadline}) has passed."})
    prepared = [
        _subject_fields(
            cycle,
            subject_employee=s.get("subject_employee"),
            subject_unit=s.get("subject_unit"),
            candidate_name=s.get("candidate_name", ""),
            candidate_email=s.get("candidate_email", ""),
            nominated_by=s.get("nominated_by"),
        )
        | {"nominated_by": s.get("nominated_by")}
        for s in subjects
    ]
    policies = effective_policies_get(
        ritual_type_id=cycle.ritual_type_id, org_unit_ids=[p["policy_unit_id"] for p in prepared], as_of=today
    )
    live = Case.objects.filter(cycle=cycle).exclude(status=CaseStatus.WITHDRAWN)
    taken_employees: set[int | None] = set(
        live.filter(subject_employee__isnull=False).values_list("subject_employee_id", flat=True)
    )
    taken_units: set[int | None] = set(
        live.filter(subject_unit__isnull=False).values_list("subject_unit_id", flat=True)
    )
    taken_emails = (
        {email.lower() for email in live.exclude(candidate_email="").values_list("candidate_email", flat=True)}
        if cycle.ritual_type.subject_kind == SubjectKind.CANDIDATE
        else set()
    )
    now = timezone.now()
    cases: list[Case] = []
    for fields in prepared:
        policy = policies[fields["policy_unit_id"]]
        if not policy.has_baseline:
            raise ValidationError(
                {"cycle": f"No published {cycle.ritual_type} baseline is in force on {today}; publish one first."}
            )
        case = Case(cycle=cycle, opened_at=now, opened_on=today, **fields)
        employee_id, unit_id = case.subject_employee_id, case.subject_unit_id
        if (employee_id and employee_id in taken_employees) or (unit_id and unit_id in taken_units):
            raise ValidationError(
                {"subject": f"{case.subject_name} already has a case in {cycle} that is not withdrawn."}
            )
        email = case.candidate_email.lower()
        if email and email in taken_emails:
            who = f"{case.candidate_name} <{case.candidate_email}>"
            raise ValidationError({"candidate_email": f"{who} already has a live case in {cycle}."})
        taken_employees.add(employee_id)
        taken_units.add(unit_id)
        taken_emails.add(email)
        cases.append(case)
    evaluations = evaluate_new_cases(cases, policies, cycle.evidence_as_of(today), now)
    try:
        with transaction.atomic():
            # One audited batch insert: a cycle's nominations can be tens of thousands of cases.
            Case.objects.bulk_create(cases, batch_size=1000)
    except IntegrityError as exc:
        # Someone opened the same subject's case at the same moment: the database's unique constraints said no.
        raise ValidationError(
            {"subject": f"A nominated subject already has a live case in {cycle} (just opened by someone else)."}
        ) from exc
    m2m_bulk_add(  # audited: one event per case naming its pinned versions
        Case.pinned_versions.through,
        {case: [version.pk for version in policies[case.policy_unit_id].versions] for case in cases},
        batch_size=2000,
    )
    evaluations_store(evaluated=zip(cases, evaluations, strict=True), now=now)
    by_id = by.pk if by is not None else None
    for case in cases:
        case_event(case_id=case.pk, event=CaseEvent.OPENED, by=by_id)
    return cases


@transaction.atomic
def case_link_evidence(*, case: Case, evidence: Evidence, by: User) -> CaseEvidence:
    """Link an evidence item to an open case (for candidates and org units, whose evidence is not their own)."""
    case = _lock_open(case)
    from apps.evidence.permissions import can_view

    if not (is_hr(by) or (case.nominated_by and case.nominated_by.user_id == by.pk)):
        raise PermissionDenied("Only the nominator or HR can link evidence to this case.")
    if not can_view(by, evidence):
        raise PermissionDenied("You cannot see that evidence item.")
    link, _ = CaseEvidence.objects.get_or_create(case=case, evidence=evidence, defaults={"linked_by": by})
    case_refresh_compliance(case_ids=[case.pk])
    return link


@refusals_audited(CaseAuditAction.ATTESTATION_REFUSED, lambda kwargs: kwargs["case"])
@transaction.atomic
def case_attest(*, case: Case, by: User, role: str, note: str = "") -> Attestation:
    """Record that a role vouches for the case (manager, skip-level manager, HR or leadership)."""
    case = _lock_open(case)
    if role not in {StepRole.MANAGER, StepRole.SKIP_LEVEL_MANAGER, StepRole.HR, StepRole.LEADERSHIP}:
        raise ValidationError({"role": "Choose manager, skip_level_manager, hr or leadership."})
    if not holds_case_role(by, role, case):
        raise PermissionDenied(f"Only the case's {role.replace('_', ' ')} can attest in that role.")
    if Attestation.objects.filter(case=case, role=role).exists():
        raise InvalidTransition(f"The {role.replace('_', ' ')} has already attested on this case.")
    attestation = Attestation.objects.create(case=case, role=role, by=by, note=note.strip())
    case_refresh_compliance(case_ids=[case.pk])
    case_event(case_id=case.pk, event=CaseEvent.ATTESTED, role=role, by=by.pk)
    return attestation


@refusals_audited(CaseAuditAction.ATTESTATION_WITHDRAWAL_REFUSED, lambda kwargs: kwargs["attestation"].case)
@transaction.atomic
def case_attestation_withdraw(*, attestation: Attestation, by: User, note: str) -> None:
    """Take back an attestation on an open case (the attester or HR), with a note; compliance is re-evaluated."""
    note = _note(note, "withdraw the attestation")
    case = _lock_open(attestation.case)
    current = Attestation.objects.filter(pk=attestation.pk, case=case).first()
    if current is None:
        raise InvalidTransition("This attestation has already been withdrawn.")
    if not (current.by_id == by.pk or is_hr(by)):
        raise PermissionDenied("Only the person who attested or HR can withdraw an attestation.")
    role, attested_by = current.role, current.by_id
    current.delete()
    audit_record(
        action=CaseAuditAction.ATTESTATION_WITHDRAWN,
        obj=case,
        context={"role": role, "attested_by": attested_by},
        personal_context={"note": note[:500]},
    )
    case_refresh_compliance(case_ids=[case.pk])
    case_event(case_id=case.pk, event=CaseEvent.ATTESTATION_WITHDRAWN, role=role, by=by.pk)


@refusals_audited(CaseAuditAction.EXCEPTION_REQUEST_REFUSED, lambda kwargs: kwargs["case"])
@transaction.atomic
def case_exception_request(
    *, case: Case, by: User, justification: str, waived_requirement_ids: Sequence[int]
) -> PolicyException:
    """Ask for an exception to named requirements of a case, with a written justification."""
    case = _lock_open(case)
    requester = employee_of(by)
    if not (
        is_hr(by)
        or holds_case_role(by, StepRole.MANAGER, case)
        or (requester is not None and case.nominated_by_id == requester.pk)
    ):
        raise PermissionDenied("Only the nominator, the subject's manager or HR can request an exception.")
    text = (justification or "").strip()
    if len(text.split()) < MIN_JUSTIFICATION_WORDS or len(text) < 30:
        raise ValidationError(
            {"justification": "Justify the exception in at least a full sentence: why should the criteria not apply?"}
        )
    pinned = set(case.pinned_versions.values_list("pk", flat=True))
    from apps.policies.models import Requirement

    requirements = list(Requirement.objects.filter(pk__in=set(waived_requirement_ids), version_id__in=pinned))
    if not waived_requirement_ids:
        raise ValidationError({"waived_requirements": "Name the requirements the exception waives."})
    if len(requirements) != len(set(waived_requirement_ids)):
        raise ValidationError({"waived_requirements": "Only requirements of this case's policy can be waived."})
    if case.exceptions.filter(status=ExceptionStatus.REQUESTED).exists():
        raise InvalidTransition("An exception request for this case is already waiting for HR.")
    exception = PolicyException.objects.create(case=case, justification=text, requested_by=by)
    exception.waived_requirements.set(requirements)
    audit_record(
        action=CaseAuditAction.EXCEPTION_REQUESTED,
        obj=exception,
        context={"case_id": case.pk, "waived": sorted(r.pk for r in requirements)},
    )
    case_event(case_id=case.pk, event=CaseEvent.EXCEPTION_REQUESTED, exception_id=exception.pk, by=by.pk)
    return exception


@refusals_audited(CaseAuditAction.EXCEPTION_DECISION_REFUSED, lambda kwargs: kwargs["exception"].case)
@transaction.atomic
def case_exception_decide(*, exception: PolicyException, by: User, grant: bool, note: str = "") -> PolicyException:
    """HR grants or refuses an exception; never the person who asked for it (four eyes)."""
    exception = PolicyException.objects.select_for_update(of=("self",)).select_related("case").get(pk=exception.pk)
    _lock_open(exception.case)
    if exception.status != ExceptionStatus.REQUESTED:
        raise InvalidTransition(f"This exception is already {exception.status}.")
    if not is_hr(by):
        raise PermissionDenied("Only HR can grant or refuse exceptions.")
    if exception.requested_by_id == by.pk:
        raise PermissionDenied("Four eyes: whoever requested an exception cannot also decide it.")
    exception.status = ExceptionStatus.GRANTED if grant else ExceptionStatus.REFUSED
    exception.decided_by = by
    exception.decided_at = timezone.now()
    exception.decision_note = (note or "").strip()
    exception.save()
    audit_record(
        action=CaseAuditAction.EXCEPTION_GRANTED if grant else CaseAuditAction.EXCEPTION_REFUSED,
        obj=exception,
        context={
            "case_id": exception.case_id,
            "waived": list(exception.waived_requirements.values_list("pk", flat=True)),
            "requested_by": exception.requested_by_id,
        },
        personal_context={"note": exception.decision_note[:500]},
    )
    case_event(
        case_id=exception.case_id,
        event=CaseEvent.EXCEPTION_DECIDED,
        exception_id=exception.pk,
        status=exception.status,
        by=by.pk,
    )
    if grant:
        _announce_cleared_step(exception.case, waived={r.pk for r in exception.waived_requirements.all()})
    return exception


def _announce_cleared_step(case: Case, *, waived: set[int]) -> None:
    """A granted exception that covers everything unmet clears the way: the waiting step's approvers hear of it."""
    unmet = {row.requirement_id for row in case_checklist(case, today=timezone.localdate()).unmet}
    step = next_step(case, route_steps(case))
    if step is not None and unmet <= waived:
        case_event(case_id=case.pk, event=CaseEvent.STEP_WAITING, order=step.order)


def _lock_counted_evidence(case: Case) -> None:
    """Lock the subject's evidence rows, so a review cannot change them while the decision is taken."""
    if case.subject_employee_id:
        list(Evidence.objects.select_for_update().filter(owner_id=case.subject_employee_id, is_current=True).only("pk"))
    list(Evidence.objects.select_for_update().filter(case_links__case=case).only("pk"))


def _approve(case: Case, by: User, note: str, today: dt.date) -> Case:
    """The compliance gate: approve if compliant, or if a granted exception waives every unmet requirement."""
    _lock_counted_evidence(case)
    evaluation = case_checklist(case, today=today)
    unmet = [r for r in evaluation.unmet]
    exception = (
        case.exceptions.filter(status=ExceptionStatus.GRANTED).prefetch_related("waived_requirements").first()
        if unmet
        else None
    )
    if unmet:
        waived = set(exception.waived_requirements.values_list("pk", flat=True)) if exception else set()
        uncovered = [r for r in unmet if r.requirement_id not in waived]
        if uncovered:
            lines = "; ".join(f"{r.label} ({r.have} of {r.need})" for r in uncovered)
            hint = "" if exception else " Ask HR for an exception with a written justification to approve anyway."
            raise ValidationError(f"The case does not meet its policy: {lines}.{hint}")
    case.status = CaseStatus.APPROVED_WITH_EXCEPTION if unmet else CaseStatus.APPROVED
    case.frozen_evaluation = evaluation_as_json(
        evaluation, exception_id=exception.pk if exception else None, waived=[r.requirement_id for r in unmet]
    )
    case.compliant = evaluation.compliant
    case.evaluated_at = timezone.now()
    case.decided_by = by
    case.decided_at = timezone.now()
    case.decision_note = note
    case.save()
    evaluations_clear(case_ids=[case.pk])
    audit_record(
        action=CaseAuditAction.CASE_APPROVED,
        obj=case,
        context={
            "status": case.status,
            "compliant": evaluation.compliant,
            "unmet": [r.requirement_id for r in unmet],
            "exception_id": exception.pk if exception else None,
        },
    )
    return case


@refusals_audited(CaseAuditAction.CASE_DECISION_REFUSED, lambda kwargs: kwargs["case"])
@transaction.atomic
def case_step_decide(*, case: Case, by: User, decision: str, comment: str = "", today: dt.date | None = None) -> Case:
    """Record the next approval step; the last step's approval passes the compliance gate or is refused."""
    today = today or timezone.localdate()
    case = _lock_open(case)
    if decision not in StepDecision.values:
        raise ValidationError({"decision": "Choose approve or reject."})
    employee = employee_of(by)
    if employee is not None and employee.pk == case.subject_employee_id:
        raise PermissionDenied("Nobody decides on their own case.")
    steps = route_steps(case)
    step = next_step(case, steps)
    if step is None:  # pragma: no cover - an open case always has a pending step
        raise InvalidTransition("Every step of this case has been decided.")
    allowed, principal = acting_capacity(by, step, case, today)
    if not allowed:
        position = f"step {steps.index(step) + 1} of {len(steps)}"
        raise PermissionDenied(f"The case waits for '{step.name}' ({position}); you cannot act on that step.")
    earlier = StepRecord.objects.filter(case=case)
    actors = {r.by_id for r in earlier} | {r.on_behalf_of_id for r in earlier if r.on_behalf_of_id}
    acting = {by.pk} | ({principal.pk} if principal else set())
    if actors & acting:
        raise PermissionDenied("Four eyes: someone who already decided a step of this case cannot decide another.")
    comment = (comment or "").strip()
    if decision == StepDecision.REJECT:
        comment = _note(comment, "reject the case")
    is_last = step.order == steps[-1].order
    # The step first, then the decision it leads to (a refused gate rolls both back): the trail and the timeline
    # tell them in that order.
    StepRecord.objects.create(
        case=case,
        step=step.step,
        order=step.order,
        step_name=step.name,
        decision=decision,
        by=by,
        on_behalf_of=principal,
        comment=comment,
    )
    if decision == StepDecision.APPROVE and is_last:
        _approve(case, by, comment, today)
    if decision == StepDecision.REJECT:
        _close(case, by, CaseStatus.REJECTED, comment, CaseAuditAction.CASE_REJECTED, today)
    decided = Case.objects.get(pk=case.pk)
    if decided.is_open:
        following = next((s for s in steps if s.order > step.order), None)
        if following is not None:
            case_event(case_id=case.pk, event=CaseEvent.STEP_WAITING, order=following.order)
    else:
        case_event(case_id=case.pk, event=CaseEvent.DECIDED, status=decided.status, by=by.pk)
    return decided


def _close(case: Case, by: User, status: str, note: str, action: str, today: dt.date) -> None:
    evaluation = case_checklist(case, today=today)
    case.status = status
    case.frozen_evaluation = evaluation_as_json(evaluation)
    case.compliant = evaluation.compliant
    case.decided_by = by
    case.decided_at = timezone.now()
    case.decision_note = note
    case.save()
    evaluations_clear(case_ids=[case.pk])
    audit_record(action=action, obj=case, personal_context={"note": note[:500]})


@transaction.atomic
def case_withdraw(*, case: Case, by: User, note: str, today: dt.date | None = None) -> Case:
    """Withdraw an open case (nominator, the subject or HR), with a note."""
    note = _note(note, "withdraw the case")
    case = _lock_open(case)
    employee = employee_of(by)
    allowed = is_hr(by) or (employee is not None and employee.pk in {case.nominated_by_id, case.subject_employee_id})
    if not allowed:
        raise PermissionDenied("Only the nominator, the subject or HR can withdraw a case.")
    _close(case, by, CaseStatus.WITHDRAWN, note, CaseAuditAction.CASE_WITHDRAWN, today or timezone.localdate())
    case_event(case_id=case.pk, event=CaseEvent.DECIDED, status=case.status, by=by.pk)
    return case
