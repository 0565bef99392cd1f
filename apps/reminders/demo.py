"""Demo reminders for `seed_demo`: a digest opt-out, a planner pass (pending rows), a few sent ones, a failed one and a
possibly sent one."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.cases.models import Case
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.models import Employee

from .constants import ReminderKind, ReminderStatus
from .inserts import insert_new
from .models import PendingEvidenceEvent, Reminder
from .planner import plan_candidates, reminder_key
from .services import digest_preference_set, reminders_for_evidence_event

FAILED_ERROR = (
    "Attempt 1: SMTPRecipientsRefused: {'%s': (550, b'5.1.1 Mailbox unavailable')} (refused by the mail server: not "
    "sent). "
    "Check the address in the employee record, then use 'send again now'."
)
UNCERTAIN_ERROR = (
    "Attempt 9: SMTPServerDisconnected: Connection unexpectedly closed (no definite answer). "
    "The e-mail may have gone out: ask the recipient before using 'send again now'."
)


def _historic(kind: str, object_ref: str, person: Employee, occasion: str, when: dt.datetime, **fields) -> Reminder:
    return Reminder.objects.create(
        key=reminder_key(kind, object_ref, f"employee-{person.pk}", occasion),
        kind=kind,
        occasion=occasion,
        recipient_employee=person,
        to_email=person.email,
        recipient_name=person.full_name,
        recipient_timezone=person.timezone,
        due_at=when,
        enqueued_at=when,
        created_at=when,
        **fields,
    )


def seed_reminders(*, heads: dict[str, Employee], now: dt.datetime | None = None) -> dict[str, int]:
    """Create the demo's reminder log and one digest opt-out; return counts by status."""
    now = now or timezone.now()
    digest_preference_set(
        employee=heads["contact-centre"], weekly_digest=False, note="Asked HR to stop the weekly digest (demo)."
    )
    # What the first planner pass would write; the sweeper hands the due ones to the worker once it runs.
    insert_new(plan_candidates(now=now), now=now, enqueue_keys=set())
    # The reviews the demo made through the services (Dana's verified item) queued their events for the worker; its
    # first drain would tell the owners. Writing those notices now shows them in the portal before any worker runs;
    # the drain later finds them written (same key) and only clears its queue. Case events need no such step: their
    # hook writes the notifications when the seed commits.
    for queued in PendingEvidenceEvent.objects.order_by("pk"):
        reminders_for_evidence_event(evidence_id=queued.evidence_id, event=queued.event, now=now)

    # Last week's reminders of the bonus cycle, already sent.
    week_ago = now - dt.timedelta(days=7)
    bonus_cases = Case.objects.open().filter(cycle__name__startswith="Bonuses", subject_employee__isnull=False)
    for case in bonus_cases.select_related("cycle", "subject_employee")[:4]:
        person = case.subject_employee
        if person is None:  # not with subject_employee__isnull=False
            continue
        _historic(
            ReminderKind.EVIDENCE_DUE, f"case-{case.pk}", person, "d-14", week_ago,
            status=ReminderStatus.SENT, sent_at=week_ago, attempts=1, cycle=case.cycle, case=case,
            reason=f"14 days before the evidence deadline ({case.cycle.evidence_deadline}) of {case.cycle.name}",
            context={"cycle": case.cycle.name, "subject": person.full_name},
        )  # fmt: skip
    # A review notice the mail server refused until the retries ran out: HR sees it and can send it again.
    reviewed = (
        Evidence.objects.filter(status=EvidenceStatus.REJECTED, reviewed_at__isnull=False)
        .select_related("owner")
        .order_by("pk")
        .first()
    )
    if reviewed is not None and reviewed.reviewed_at is not None:
        stamp = f"{reviewed.reviewed_at.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}"
        _historic(
            ReminderKind.EVIDENCE_REVIEWED, f"evidence-{reviewed.pk}", reviewed.owner, f"rejected-{stamp}",
            now - dt.timedelta(hours=3), status=ReminderStatus.FAILED, attempts=1, evidence=reviewed,
            last_error=FAILED_ERROR % reviewed.owner.email, reason=f"“{reviewed.title}” was reviewed: rejected",
            context={"title": reviewed.title, "status": "rejected", "status_label": "Rejected",
                     "comment": reviewed.review_comment, "reviewer": ""},
        )  # fmt: skip
    # A deadline reminder whose mail server dropped the connection at every attempt: possibly sent, for HR to check.
    for case in bonus_cases.select_related("cycle", "subject_employee")[4:5]:
        person = case.subject_employee
        if person is None:
            continue
        _historic(
            ReminderKind.EVIDENCE_DUE, f"case-{case.pk}", person, "d-14", week_ago,
            status=ReminderStatus.UNCERTAIN, attempts=9, cycle=case.cycle, case=case, last_error=UNCERTAIN_ERROR,
            reason=f"14 days before the evidence deadline ({case.cycle.evidence_deadline}) of {case.cycle.name}",
            context={"cycle": case.cycle.name, "subject": person.full_name},
        )  # fmt: skip
    counts: dict[str, int] = {}
    for status in Reminder.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts
