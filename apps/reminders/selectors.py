"""Reads for reminders: what an e-mail shows at send time (or why it is no longer needed), digests, the dry run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.cases.constants import ExceptionStatus
from apps.cases.models import Case, PolicyException, StepRecord
from apps.cases.selectors import case_checklist, case_checklists
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.models import Employee

from .constants import ReminderKind, ReminderStatus
from .models import Reminder, ReminderPreference, ReminderQuerySet
from .planner import Planned, is_batch, plan_candidates, submission_stamp, unmet_rows
from .planner.cases import checklist_summary
from .timing import local_date, zone


def absolute_url(name: str, *args: Any, query: dict[str, Any] | None = None) -> str:
    """An absolute link for e-mails: SITE_URL plus the reversed path (and query)."""
    url = f"{settings.SITE_URL}{reverse(name, args=args)}"
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(slots=True)
class Verdict:
    """What a reminder's e-mail shows now, or why it should not be sent any more."""

    content: dict[str, Any] = field(default_factory=dict)
    cancel: str = ""


def reminder_content(reminder: Reminder, *, now: dt.datetime) -> Verdict:
    """Check that a reminder is still needed and gather what its e-mail shows (a few queries)."""
    kind = reminder.kind
    base = {**reminder.context, "recipient_name": reminder.recipient_name, "site_url": settings.SITE_URL}
    if kind == ReminderKind.EVIDENCE_DUE:
        return _evidence_due(reminder, base, now)
    if is_batch(reminder):
        return _hr_digest(reminder, base) if kind == ReminderKind.ESCALATION else _review_batch(reminder, base)
    if kind == ReminderKind.ESCALATION and reminder.cycle_id:
        base["cases_url"] = absolute_url(
            "admin:cases_case_changelist",
            query={"cycle__id__exact": reminder.cycle_id, "status__exact": "open", "compliant": "no"},
        )
        for case in base.get("cases", []):
            case["url"] = absolute_url("admin:cases_case_change", case["id"])
        return Verdict(base)
    if kind in (ReminderKind.REVIEW_REQUESTED, ReminderKind.REVIEW_WAITING, ReminderKind.ESCALATION):
        return _review(reminder, base)
    if kind == ReminderKind.DIGEST:
        return _digest(reminder, base, now)
    if kind == ReminderKind.EVIDENCE_RESUBMITTED:
        return _review(reminder, base)
    if kind == ReminderKind.STEP_WAITING:
        return _step_waiting(reminder, base, now)
    if kind == ReminderKind.CASE_DECIDED:
        base["case_url"] = absolute_url("portal:case-detail", reminder.case_id) if reminder.case_id else ""
        return Verdict(base)
    if kind == ReminderKind.EXCEPTION_WAITING:
        return _exception_waiting(reminder, base)
    if kind == ReminderKind.INSIGHTS_DIGEST:
        # Everything it shows was gathered by apps.insights.digest when planned, links included.
        return Verdict(base)
    if kind == ReminderKind.EVIDENCE_REVIEWED:
        name = (
            "portal:evidence-edit"
            if base.get("status") == EvidenceStatus.CHANGES_REQUESTED
            else "portal:evidence-detail"
        )
        base["evidence_url"] = absolute_url(name, reminder.evidence_id) if reminder.evidence_id else ""
        return Verdict(base)
    return Verdict(cancel=f"Unknown kind {kind!r}.")


def _evidence_due(reminder: Reminder, base: dict[str, Any], now: dt.datetime) -> Verdict:
    cases = Case.objects.select_related("cycle", "subject_employee", "subject_unit")
    case = cases.filter(pk=reminder.case_id).first() if reminder.case_id is not None else None
    if case is None or not case.is_open:
        return Verdict(cancel="The case was decided or withdrawn before the reminder went out.")
    evaluation = case_checklist(case, today=timezone.localdate(now))
    if evaluation.compliant:
        return Verdict(cancel="The case meets its policy now.")
    deadline = case.cycle.evidence_deadline
    base.update(
        subject=case.subject_name,
        cycle=case.cycle.name,
        deadline=deadline.isoformat(),
        days_left=(deadline - local_date(now, zone(reminder.recipient_timezone))).days,
        unmet=unmet_rows(evaluation),
        met=len(evaluation.results) - len(evaluation.unmet),
        total=len(evaluation.results),
        own_case=case.subject_employee_id is not None and case.subject_employee_id == reminder.recipient_employee_id,
        case_url=absolute_url("portal:case-detail", case.pk),
        add_url=absolute_url("portal:evidence-new"),
    )
    return Verdict(base)


def _step_waiting(reminder: Reminder, base: dict[str, Any], now: dt.datetime) -> Verdict:
    cases = Case.objects.select_related("cycle", "subject_employee")
    case = cases.filter(pk=reminder.case_id).first() if reminder.case_id is not None else None
    if case is None or not case.is_open:
        return Verdict(cancel="The case was decided or withdrawn before the reminder went out.")
    if StepRecord.objects.filter(case=case, order=int(base.get("order") or 0)).exists():
        return Verdict(cancel="Someone decided the step before the reminder went out.")
    # The checklist as it is when the mail goes out, not as it was planned.
    base.update(checklist_summary(case, now=now), case_url=absolute_url("portal:case-detail", case.pk))
    return Verdict(base)


def _exception_waiting(reminder: Reminder, base: dict[str, Any]) -> Verdict:
    exception_id = base.get("exception_id")
    exception = PolicyException.objects.filter(pk=exception_id).first() if exception_id else None
    if exception is None or exception.status != ExceptionStatus.REQUESTED:
        return Verdict(cancel="The exception was decided before the reminder went out.")
    base["exception_url"] = absolute_url("admin:cases_policyexception_change", exception.pk)
    base["case_url"] = absolute_url("portal:case-detail", exception.case_id)
    return Verdict(base)


def _review(reminder: Reminder, base: dict[str, Any]) -> Verdict:
    items = Evidence.objects.select_related("owner")
    evidence = items.filter(pk=reminder.evidence_id).first() if reminder.evidence_id is not None else None
    if evidence is None or evidence.status != EvidenceStatus.SUBMITTED or evidence.submitted_at is None:
        return Verdict(cancel="The item was reviewed (or withdrawn) before the reminder went out.")
    if not reminder.occasion.startswith(submission_stamp(evidence.submitted_at)):
        return Verdict(cancel="The item was submitted again since; that submission has reminders of its own.")
    base.update(
        title=evidence.title, owner=evidence.owner.full_name, review_url=absolute_url("portal:review", evidence.pk)
    )
    return Verdict(base)


def _still_waiting(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The listed items still waiting for review since the same submission, with their review links (one query)."""
    waiting = dict(
        Evidence.objects.filter(pk__in=[item["id"] for item in items], status=EvidenceStatus.SUBMITTED).values_list(
            "pk", "submitted_at"
        )
    )
    return [
        {**item, "review_url": absolute_url("portal:review", item["id"])}
        for item in items
        if waiting.get(item["id"]) is not None
        and waiting[item["id"]] == dt.datetime.fromisoformat(item["submitted_at"])
    ]


def _review_batch(reminder: Reminder, base: dict[str, Any]) -> Verdict:
    """A reviewer's daily batch as it stands now: the listed items not reviewed since, the rest counted."""
    planned = base.get("items", [])
    items = _still_waiting(planned)
    total = int(base.get("total", len(planned))) - (len(planned) - len(items))
    if total <= 0:
        return Verdict(cancel="Every item was reviewed (or withdrawn) before the reminder went out.")
    base.update(items=items, total=total, more=total - len(items), queue_url=absolute_url("portal:review-queue"))
    if total == 1 and items:
        base.update(
            title=items[0]["title"],
            owner=items[0]["owner"],
            waited_days=items[0]["waited_days"],
            review_url=items[0]["review_url"],
        )
    return Verdict(base)


def _hr_digest(reminder: Reminder, base: dict[str, Any]) -> Verdict:
    """HR's daily digest as it stands now: items still unreviewed (counted again), cycles with their short cases."""
    reviews = _still_waiting(base.get("reviews", []))
    count = 0
    if base.get("review_count"):
        start, end = (dt.datetime.fromisoformat(value) for value in base["review_window"])
        count = Evidence.objects.filter(
            status=EvidenceStatus.SUBMITTED, submitted_at__gte=start, submitted_at__lt=end
        ).count()
    cycles = [cycle for cycle in base.get("cycles", []) if cycle.get("short_count")]
    if not count and not cycles:
        return Verdict(cancel="Nothing left to escalate: every item listed was reviewed before the digest went out.")
    for cycle in cycles:
        cycle["cases_url"] = absolute_url(
            "admin:cases_case_changelist",
            query={"cycle__id__exact": cycle["id"], "status__exact": "open", "compliant": "no"},
        )
        for case in cycle.get("cases", []):
            case["url"] = absolute_url("admin:cases_case_change", case["id"])
    base.update(
        reviews=reviews,
        review_count=count,
        more_reviews=max(0, count - len(reviews)),
        reviews_url=absolute_url("admin:evidence_evidence_changelist", query={"status__exact": "submitted"}),
        cycles=cycles,
    )
    return Verdict(base)


def _digest(reminder: Reminder, base: dict[str, Any], now: dt.datetime) -> Verdict:
    manager_id = reminder.recipient_employee_id
    if manager_id is None:
        return Verdict(cancel="The manager's employee record is gone.")
    if ReminderPreference.objects.filter(employee_id=manager_id, weekly_digest=False).exists():
        return Verdict(cancel="The manager opted out of the weekly digest.")
    content = digest_content(manager_id=manager_id, today=timezone.localdate(now))
    if not content["cases"] and not content["waiting"]:
        return Verdict(cancel="Nothing to report this week.")
    return Verdict({**base, **content})


def digest_content(*, manager_id: int, today: dt.date) -> dict[str, Any]:
    """A manager's week: their direct reports' open cases with what is missing, and items waiting for review."""
    cases = list(
        Case.objects.open()
        .filter(subject_employee__manager_id=manager_id)
        .select_related("cycle", "subject_employee")
        .order_by("cycle__evidence_deadline", "subject_employee__full_name", "pk")
    )
    evaluations = case_checklists(cases, today=today) if cases else {}
    waiting = (
        Evidence.objects.filter(status=EvidenceStatus.SUBMITTED, owner__manager_id=manager_id)
        .select_related("owner")
        .order_by("submitted_at", "pk")
    )
    return {
        "cases": [
            {
                "subject": case.subject_name,
                "cycle": case.cycle.name,
                "deadline": case.cycle.evidence_deadline.isoformat(),
                "compliant": evaluations[case.pk].compliant,
                "unmet": [r["label"] for r in unmet_rows(evaluations[case.pk])],
                "url": absolute_url("portal:case-detail", case.pk),
            }
            for case in cases
        ],
        "waiting": [
            {
                "title": item.title,
                "owner": item.owner.full_name,
                "days": (today - timezone.localdate(item.submitted_at)).days if item.submitted_at else 0,
                "url": absolute_url("portal:review", item.pk),
            }
            for item in waiting
        ],
        "queue_url": absolute_url("portal:review-queue"),
    }


@dataclass(frozen=True, slots=True)
class DryRun:
    """What a planner pass and a sweep would do now: new reminders (due now or later today) and due pending rows."""

    planned: list[Planned]
    due_pending: list[Reminder]


def reminders_dry_run(*, now: dt.datetime | None = None) -> DryRun:
    """Plan without writing: the reminders a pass would create now, and the pending rows due to be sent."""
    now = now or timezone.now()
    planned = sorted(plan_candidates(now=now), key=lambda p: (p.due_at, p.kind, p.key))
    due = list(Reminder.objects.due(now).order_by("due_at", "pk")[:500])
    return DryRun(planned=planned, due_pending=due)


# ------------------------------------------------------------------------------------------------ in-app list


def notification_list(*, user: object) -> ReminderQuerySet:
    """Every notification a person gets, newest first: addressed to their login or their employee record.

    Cancelled ones (no longer needed when their time came) are left out; pending ones are shown: the e-mail is on
    its way, and the page says when.
    """
    if not getattr(user, "is_authenticated", False):
        return Reminder.objects.none()
    user_id = user.pk  # type: ignore[attr-defined]
    own = Q(recipient_user_id=user_id) | Q(recipient_employee__in=Employee.objects.filter(user_id=user_id).values("pk"))
    return Reminder.objects.filter(own).exclude(status=ReminderStatus.CANCELLED).order_by("-created_at", "-id")


def notification_unread_count(*, user: object) -> int:
    """How many of the person's notifications they have not seen in the portal yet (one COUNT query)."""
    return notification_list(user=user).filter(read_at__isnull=True).count()


def notification_link(reminder: Reminder) -> str:
    """Where a notification leads in the portal (or the admin, for HR's lists): the item, the case or the list."""
    kind, evidence_id, case_id = reminder.kind, reminder.evidence_id, reminder.case_id
    if kind in (ReminderKind.REVIEW_REQUESTED, ReminderKind.REVIEW_WAITING, ReminderKind.EVIDENCE_RESUBMITTED):
        return reverse("portal:review", args=[evidence_id]) if evidence_id else reverse("portal:review-queue")
    if kind == ReminderKind.ESCALATION and evidence_id:
        return reverse("portal:review", args=[evidence_id])
    if kind == ReminderKind.ESCALATION and reminder.cycle_id:
        return f"{reverse('admin:cases_case_changelist')}?{urlencode({'cycle__id__exact': reminder.cycle_id})}"
    if kind == ReminderKind.ESCALATION and is_batch(reminder):
        cycles = reminder.context.get("cycles") or []
        if cycles and not reminder.context.get("review_count"):
            return f"{reverse('admin:cases_case_changelist')}?{urlencode({'cycle__id__exact': cycles[0]['id']})}"
        return f"{reverse('admin:evidence_evidence_changelist')}?{urlencode({'status__exact': 'submitted'})}"
    if kind == ReminderKind.EVIDENCE_REVIEWED and evidence_id:
        return reverse("portal:evidence-detail", args=[evidence_id])
    if kind == ReminderKind.EXCEPTION_WAITING and reminder.context.get("exception_id"):
        return reverse("admin:cases_policyexception_change", args=[reminder.context["exception_id"]])
    if kind == ReminderKind.DIGEST:
        return reverse("portal:my-cases")
    if kind == ReminderKind.INSIGHTS_DIGEST:
        return str(reminder.context.get("inbox_path") or "")
    if case_id:
        return reverse("portal:case-detail", args=[case_id])
    return ""
