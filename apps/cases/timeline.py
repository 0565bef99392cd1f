"""One timeline per case: what happened to it and around it, in time order, from its rows and its audit trail.

The case's own rows (pinned versions, step records, attestations, exceptions, links, the decision) and the subject's
evidence in the cycle give the entries; the audit trail adds what no row keeps: who opened the case, when its
compliance flipped, changes made by hand, removed rows and domain events of later services (refused attempts,
withdrawn attestations). A fixed number of queries whatever the length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.personal import reveal, reveal_events
from apps.audit.registry import action_label, label_of
from apps.common.roles import is_hr, is_leadership
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.evidence.permissions import employee_of

from .constants import CaseAuditAction, ExceptionStatus, StepDecision, StepRole
from .models import Attestation, Case, CaseEvidence, PolicyException, StepRecord
from .routing import holds_case_role, holds_role, route_steps


class TimelineKind:
    """What an entry is about (also its CSS modifier in the template)."""

    OPENED = "opened"
    EVIDENCE = "evidence"
    LINK = "link"
    ATTESTATION = "attestation"
    EXCEPTION = "exception"
    STEP = "step"
    DECISION = "decision"
    COMPLIANCE = "compliance"
    CHANGE = "change"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One moment of a case's story: when, who (display name, '' when not shown), what, and where to read more."""

    at: dt.datetime
    actor: str
    kind: str
    text: str
    url: str | None = None
    internal: bool = False


# Case fields that the services write as part of a step, a decision or a compliance refresh: their own entries
# tell those stories, so an update event touching only these is not a "change by hand".
_SERVICE_FIELDS = frozenset(
    {"status", "decided_by", "decided_at", "decision_note", "frozen_evaluation", "compliant", "evaluated_at",
     "updated_at"}
)  # fmt: skip
# Domain events that rows of the case already tell.
_TOLD_BY_ROWS = frozenset(
    {CaseAuditAction.CASE_APPROVED, CaseAuditAction.CASE_REJECTED, CaseAuditAction.CASE_WITHDRAWN,
     CaseAuditAction.EXCEPTION_GRANTED, "exception_requested", "exception_refused"}
)  # fmt: skip
ATTESTATION_WITHDRAWN = "attestation_withdrawn"
_REVIEW_VERDICTS: dict[str, str] = {
    EvidenceStatus.VERIFIED: "Verified",
    EvidenceStatus.REJECTED: "Rejected",
    EvidenceStatus.CHANGES_REQUESTED: "Asked for changes to",
}


def person_name(user: User | None) -> str:
    """A user's full name, else their username; a removed user reads "a former user"."""
    if user is None:
        return "a former user"
    return user.get_full_name() or user.get_username()


def timeline_shows_internal(case: Case, viewer: Any) -> bool:
    """HR, leadership, the route's approvers, the manager and the nominator see everything; the subject does not."""
    employee = employee_of(viewer)
    if employee is not None and employee.pk == case.subject_employee_id:
        return False
    if is_hr(viewer) or is_leadership(viewer):
        return True
    if employee is not None and employee.pk == case.nominated_by_id:
        return True
    if holds_case_role(viewer, StepRole.MANAGER, case):
        return True
    return any(holds_role(viewer, step, case) for step in route_steps(case))


def _share_justification(case: Case) -> bool:
    # The ritual's switch (RitualType.share_exception_justification) may not exist yet: absent means "do not share".
    return bool(getattr(case.cycle.ritual_type, "share_exception_justification", False))


def case_timeline(case: Case, *, viewer: Any) -> list[TimelineEntry]:
    """The case's story for `viewer`, oldest first; the subject does not see HR-internal entries."""
    internal = timeline_shows_internal(case, viewer)
    share = internal or _share_justification(case)
    entries: list[TimelineEntry] = []

    events = list(_audit_events(case))
    keys = reveal_events(events)  # personal values are stored encrypted (apps.audit.personal): keys read once
    names = _actor_names(events, keys)
    opener = next((names(e) for e in events if e.object_type == label_of(Case) and e.action == AuditAction.CREATE), "")
    entries.append(_opened(case, opener))
    entries.extend(_evidence_entries(case))
    entries.extend(_link_entries(case))
    entries.extend(_attestation_entries(case))
    entries.extend(_exception_entries(case, share=share, internal=internal))
    entries.extend(_step_entries(case))
    if case.decided_at is not None:
        entries.append(
            TimelineEntry(
                at=case.decided_at,
                actor=person_name(case.decided_by),
                kind=TimelineKind.DECISION,
                text=f"Case {case.get_status_display().lower()}"
                + (f": “{case.decision_note}”" if case.decision_note else "."),
            )
        )
    entries.extend(_event_entries(events, names, keys))
    visible = [entry for entry in entries if internal or not entry.internal]
    return sorted(visible, key=lambda entry: entry.at)


def _audit_events(case: Case) -> Any:
    """Events of the case and of its children, removed children included (one query)."""
    children = [label_of(model) for model in (Attestation, PolicyException, StepRecord, CaseEvidence)]
    about_children = Q(object_type__in=children) & (
        Q(context__case_id=case.pk) | Q(changes__case__0=case.pk) | Q(changes__case__1=case.pk)
    )
    about_case = Q(object_type=label_of(Case), object_id=str(case.pk))
    return AuditEvent.objects.filter(about_case | about_children).order_by("occurred_at", "id")


def _opened(case: Case, opener: str) -> TimelineEntry:
    versions = sorted(
        case.pinned_versions.select_related("policy"), key=lambda v: (v.policy.scope_id is not None, v.pk)
    )
    judged = ", ".join(f"v{v.number} of {v.policy.name}" for v in versions)
    who = opener or (case.nominated_by.full_name if case.nominated_by is not None else "")
    return TimelineEntry(
        at=case.opened_at,
        actor=who,
        kind=TimelineKind.OPENED,
        text=f"Case opened, judged by {judged}." if judged else "Case opened.",
    )


def _evidence_entries(case: Case) -> list[TimelineEntry]:
    """The subject's evidence submitted or reviewed while the cycle took evidence."""
    if case.subject_employee_id is None:
        return []
    cycle = case.cycle
    start = timezone.make_aware(dt.datetime.combine(cycle.opens_on, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(cycle.evidence_deadline + dt.timedelta(days=1), dt.time.min))
    items = Evidence.objects.filter(owner_id=case.subject_employee_id).filter(
        Q(submitted_at__gte=start, submitted_at__lt=end) | Q(reviewed_at__gte=start, reviewed_at__lt=end)
    )
    subject = case.subject_name
    entries = []
    for item in items.select_related("reviewer").order_by("pk"):
        url = reverse("portal:evidence-detail", args=[item.pk])
        if item.submitted_at is not None and start <= item.submitted_at < end:
            entries.append(
                TimelineEntry(
                    at=item.submitted_at,
                    actor=subject,
                    kind=TimelineKind.EVIDENCE,
                    text=f"Submitted evidence “{item.title}” (version {item.version}).",
                    url=url,
                )
            )
        if item.reviewed_at is not None and start <= item.reviewed_at < end:
            verdict = _REVIEW_VERDICTS.get(item.status, "Reviewed")
            entries.append(
                TimelineEntry(
                    at=item.reviewed_at,
                    actor=person_name(item.reviewer),
                    kind=TimelineKind.EVIDENCE,
                    text=f"{verdict} evidence “{item.title}”.",
                    url=url,
                )
            )
    return entries


def _link_entries(case: Case) -> list[TimelineEntry]:
    links = CaseEvidence.objects.filter(case=case).select_related("evidence", "linked_by").order_by("pk")
    return [
        TimelineEntry(
            at=link.linked_at,
            actor=person_name(link.linked_by),
            kind=TimelineKind.LINK,
            text=f"Linked evidence “{link.evidence.title}”" + (f": {link.note}" if link.note else "."),
            url=reverse("portal:evidence-detail", args=[link.evidence_id]),
        )
        for link in links
    ]


def _attestation_entries(case: Case) -> list[TimelineEntry]:
    """Attestations standing now; a withdrawn one is gone from the table and told by its withdrawal event."""
    attestations = Attestation.objects.filter(case=case).select_related("by").order_by("pk")
    return [
        TimelineEntry(
            at=attestation.at,
            actor=person_name(attestation.by),
            kind=TimelineKind.ATTESTATION,
            text=f"Attested as {attestation.get_role_display().lower()}"
            + (f": “{attestation.note}”" if attestation.note else "."),
        )
        for attestation in attestations
    ]


def _exception_entries(case: Case, *, share: bool, internal: bool) -> list[TimelineEntry]:
    entries = []
    exceptions = (
        PolicyException.objects.filter(case=case)
        .select_related("requested_by", "decided_by")
        .prefetch_related("waived_requirements")
        .order_by("pk")
    )
    for exception in exceptions:
        waived = ", ".join(r.label for r in exception.waived_requirements.all())
        text = "Exception requested"
        if internal and waived:
            text += f", waiving {waived}"
        text += f": “{exception.justification}”" if share else "; a second HR person decides it."
        entries.append(
            TimelineEntry(
                at=exception.requested_at,
                actor=person_name(exception.requested_by) if internal else "",
                kind=TimelineKind.EXCEPTION,
                text=text,
            )
        )
        if exception.decided_at is not None:
            verdict = "granted" if exception.status == ExceptionStatus.GRANTED else "refused"
            note = f": “{exception.decision_note}”" if internal and exception.decision_note else "."
            entries.append(
                TimelineEntry(
                    at=exception.decided_at,
                    actor=person_name(exception.decided_by) if internal else "",
                    kind=TimelineKind.EXCEPTION,
                    text=f"Exception {verdict}{note}",
                )
            )
    return entries


def _step_entries(case: Case) -> list[TimelineEntry]:
    records = StepRecord.objects.filter(case=case).select_related("by", "on_behalf_of").order_by("order")
    entries = []
    for record in records:
        verb = "Approved" if record.decision == StepDecision.APPROVE else "Rejected"
        behalf = f" on behalf of {person_name(record.on_behalf_of)}" if record.on_behalf_of_id else ""
        comment = f": “{record.comment}”" if record.comment else "."
        entries.append(
            TimelineEntry(
                at=record.at,
                actor=person_name(record.by),
                kind=TimelineKind.STEP,
                text=f"{verb} step {record.order}, {record.step_name}{behalf}{comment}",
            )
        )
    return entries


def _actor_names(events: list[AuditEvent], keys: dict[int, Any]) -> Callable[[AuditEvent], str]:
    """Each event's actor as the other entries name people (full name), read in one query for all of them."""
    users = User.objects.in_bulk({e.actor_user_id for e in events if e.actor_user_id is not None})

    def name(event: AuditEvent) -> str:
        user = users.get(event.actor_user_id) if event.actor_user_id is not None else None
        return person_name(user) if user is not None else (reveal(event.actor_name, keys) or "the system")

    return name


def _event_entries(
    events: list[AuditEvent], names: Callable[[AuditEvent], str], keys: dict[int, Any]
) -> list[TimelineEntry]:
    """What only the trail knows: compliance flips, changes by hand, removed rows and later domain events."""
    case_label, attestation_label = label_of(Case), label_of(Attestation)
    # A withdrawal deletes the attestation row and records the withdrawal: tell it once, with its note.
    withdrawals = [e.actor_user_id for e in events if e.action == ATTESTATION_WITHDRAWN]
    entries = []
    for event in events:
        action = event.action
        if action == AuditAction.CREATE or action in _TOLD_BY_ROWS:
            continue
        actor = names(event)
        if action == ATTESTATION_WITHDRAWN:
            entries.append(_withdrawal_entry(event, actor, keys))
            continue
        if event.object_type == case_label and action == AuditAction.UPDATE:
            entries.extend(_case_update_entries(event, actor))
            continue
        if action == AuditAction.UPDATE:
            continue  # a child's update is told by its row (an exception decided)
        if action == AuditAction.DELETE:
            if event.object_type == attestation_label and event.actor_user_id in withdrawals:
                withdrawals.remove(event.actor_user_id)
                continue
            entries.append(
                TimelineEntry(
                    at=event.occurred_at,
                    actor=actor,
                    kind=TimelineKind.CHANGE,
                    text=f"Removed {reveal(event.object_repr, keys) or event.object_type}.",
                    internal=True,
                )
            )
            continue
        entries.append(_domain_entry(event, actor, str(reveal(event.object_repr, keys))))
    return entries


def _case_update_entries(event: AuditEvent, actor: str) -> list[TimelineEntry]:
    changes = event.changes or {}
    entries = []
    compliant = changes.get("compliant")
    if compliant and compliant[0] is not None and compliant[1] is not None:
        entries.append(
            TimelineEntry(
                at=event.occurred_at,
                actor="",
                kind=TimelineKind.COMPLIANCE,
                text="The case now meets its policy." if compliant[1] else "The case no longer meets its policy.",
            )
        )
    by_hand = sorted(set(changes) - _SERVICE_FIELDS)
    if by_hand:
        entries.append(
            TimelineEntry(
                at=event.occurred_at,
                actor=actor,
                kind=TimelineKind.CHANGE,
                text=f"Changed {', '.join(name.replace('_', ' ') for name in by_hand)}.",
                internal=True,
            )
        )
    return entries


def _withdrawal_entry(event: AuditEvent, actor: str, keys: dict[int, Any]) -> TimelineEntry:
    context = event.context or {}
    role = str(context.get("role", "")).replace("_", " ")
    note = reveal(context.get("note"), keys) or ""
    return TimelineEntry(
        at=event.occurred_at,
        actor=actor,
        kind=TimelineKind.ATTESTATION,
        text=f"Withdrew the {role} attestation".replace("  ", " ") + (f": “{note}”" if note else "."),
    )


def _domain_entry(event: AuditEvent, actor: str, object_text: str) -> TimelineEntry:
    """A domain event of a later service; refused attempts and exception events stay internal."""
    context = event.context or {}
    hidden = "refus" in event.action or event.object_type == label_of(PolicyException)
    reason = context.get("reason") if isinstance(context.get("reason"), str) else ""
    detail = reason or object_text
    return TimelineEntry(
        at=event.occurred_at,
        actor=actor,
        kind=TimelineKind.EVENT,
        text=f"{action_label(event.action)}: {detail}" if detail else action_label(event.action),
        internal=hidden,
    )
