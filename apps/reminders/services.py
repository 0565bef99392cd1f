"""Writes for reminders: plan, notify on evidence events, claim-send-mark one reminder, sweep the outbox, resend."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.models import Employee

from . import outbox
from .constants import MAX_ERROR_LENGTH, ReminderKind, ReminderStatus
from .delivery import is_definite_refusal
from .inserts import insert_new
from .messages import build_email
from .models import PendingEvidenceEvent, Reminder, ReminderPreference
from .planner import ITEM_FIELDS, PlanConfig, Planned, plan_candidates, review_planned
from .planner.cases import case_event_planned
from .recipients import cx_reviewers, employee_recipient
from .selectors import Verdict, notification_list, reminder_content
from .timing import send_time, zone

logger = logging.getLogger(__name__)

# Reminders of these kinds about evidence, due for the same person, go out as one e-mail (at most MAX_GROUP items).
GROUPED_KINDS = frozenset({ReminderKind.REVIEW_REQUESTED, ReminderKind.REVIEW_WAITING, ReminderKind.ESCALATION})
MAX_GROUP = 50
REVIEW_EVENTS = frozenset({EvidenceStatus.VERIFIED, EvidenceStatus.CHANGES_REQUESTED, EvidenceStatus.REJECTED})
# What a submission asks at once: reviewers to review it; after a request for changes, that reviewer to look again.
SUBMISSION_KINDS = (ReminderKind.REVIEW_REQUESTED, ReminderKind.EVIDENCE_RESUBMITTED)


class SendFailed(Exception):
    """Sending a reminder failed (mail server down, bad address); the send task retries it with backoff."""


class ReminderBusy(Exception):
    """The reminder's row is locked by another transaction (a worker sending it, a sweep); the task tries again."""


@dataclass(slots=True)
class PlanResult:
    """What one planner pass wrote and handed over, and how many due reminders it left for the next pass."""

    created: list[Reminder] = field(default_factory=list)
    published: int = 0
    deferred: int = 0

    @property
    def counts(self) -> dict[str, int]:
        by_kind = Counter(str(r.kind) for r in self.created)
        return {"created": len(self.created), "published": self.published, "deferred": self.deferred, **by_kind}


def _write(planned: Sequence[Planned], now: dt.datetime) -> list[Reminder]:
    """Insert the new ones; stamp and publish (after commit) up to a batch of those due now."""
    due_keys = [p.key for p in planned if p.due_at <= now and not p.cancelled]
    enqueue = set(due_keys[: settings.REMINDERS_PUBLISH_BATCH])
    created = insert_new(planned, now=now, enqueue_keys=enqueue)
    outbox.publish_after_commit([r.pk for r in created if r.enqueued_at is not None])
    return created


def reminders_plan(*, now: dt.datetime | None = None) -> PlanResult:
    """One planner pass: write the reminders that became due; hand the due ones to the broker after commit.

    At most REMINDERS_PLAN_BATCH new reminders per pass, soonest due first, so a pass stays short however many
    cases reach an occasion on the same day; the next passes write the rest (the outbox drains at
    REMINDERS_PUBLISH_BATCH a sweep anyway). Safe to run twice at once: the unique key lets exactly one pass
    create (and publish) each reminder.
    """
    now = now or timezone.now()
    planned = sorted(plan_candidates(now=now), key=lambda p: (p.due_at, p.key))
    batch = planned[: settings.REMINDERS_PLAN_BATCH]
    with transaction.atomic(durable=True):
        created = _write(batch, now)
    return PlanResult(
        created=created,
        published=sum(1 for r in created if r.enqueued_at is not None),
        deferred=len(planned) - len(batch),
    )


def evidence_event_queue(*, evidence_id: int, event: str) -> None:
    """Queue an evidence event for the worker in the caller's transaction; publish a drain task after commit.

    One INSERT in the request: the reminders themselves (who reviews, their sending hours, the rows and their audit
    events) are written by the drain moments later, off the request's path. A drain the broker did not take is
    replaced by the sweeper's.
    """
    PendingEvidenceEvent.objects.create(evidence_id=evidence_id, event=event)
    transaction.on_commit(outbox.publish_drain)


def reminders_drain_events(*, now: dt.datetime | None = None, batch: int | None = None) -> int:
    """Write the notifications of the queued evidence events, oldest first; return how many events were taken.

    A batch per transaction: the events are locked (skipping those another drain holds), their reminders written,
    the events deleted, all committed together, then the due reminders published. An event whose notifications
    fail is logged and dropped, never retried forever (the planner's next pass still asks reviewers of an item
    submitted in the last days). The state of the item decides, as it is now: a submission reviewed before the
    drain ran asks nobody to review it.
    """
    batch = batch or settings.REMINDERS_DRAIN_BATCH
    now = now or timezone.now()
    taken = 0
    while True:
        with transaction.atomic(durable=True):
            events = list(PendingEvidenceEvent.objects.select_for_update(skip_locked=True).order_by("pk")[:batch])
            try:
                with transaction.atomic():  # the whole batch at once: one read of the items, one insert
                    _write(_planned_for(events, now), now)
            except Exception:  # then event by event, so that one broken event does not hold up the others
                logger.warning("reminders: a drain batch failed; writing its %d events one by one", len(events))
                for queued in events:
                    try:
                        with transaction.atomic():
                            reminders_for_evidence_event(evidence_id=queued.evidence_id, event=queued.event, now=now)
                    except Exception:
                        logger.exception("reminders: the notifications of %s could not be written", queued)
            PendingEvidenceEvent.objects.filter(pk__in=[queued.pk for queued in events]).delete()
        taken += len(events)
        if len(events) < batch:
            return taken


def _planned_for(events: Sequence[PendingEvidenceEvent], now: dt.datetime) -> list[Planned]:
    """The notifications of a batch of queued events: the submitted items read at once, the reviewers once."""
    config = PlanConfig.from_settings()
    planned: list[Planned] = []
    submitted = {queued.evidence_id for queued in events if queued.event == EvidenceStatus.SUBMITTED}
    if submitted:
        rows = Evidence.objects.filter(pk__in=submitted, status=EvidenceStatus.SUBMITTED).order_by("pk")
        cx = cx_reviewers()
        for row in rows.values_list(*ITEM_FIELDS):
            planned += review_planned(row, now=now, config=config, cx=cx, hr=[], kinds=SUBMISSION_KINDS)
    for queued in events:
        if queued.event in REVIEW_EVENTS:
            planned += _reviewed_notice(queued.evidence_id, queued.event, now, config)
    return planned


def reminders_for_evidence_event(*, evidence_id: int, event: str, now: dt.datetime | None = None) -> list[Reminder]:
    """Write the notifications of an evidence event in the caller's transaction (published after its commit).

    Submitted: each reviewer is asked to review (the one who asked for changes hears it is back). Verified, changes
    requested, rejected: the owner is told.
    """
    now = now or timezone.now()
    queued = PendingEvidenceEvent(evidence_id=evidence_id, event=event)  # one event, planned as the drain plans a batch
    # No savepoint of its own: the drain runs each event in one.
    with transaction.atomic(savepoint=False):
        return _write(_planned_for([queued], now), now)


def _reviewed_notice(evidence_id: int, event: str, now: dt.datetime, config: PlanConfig) -> list[Planned]:
    evidence = Evidence.objects.select_related("owner", "reviewer").filter(pk=evidence_id, status=event).first()
    if evidence is None or evidence.reviewed_at is None:
        return []
    owner = evidence.owner
    recipient = employee_recipient(owner.pk, owner.full_name, owner.email, owner.timezone, owner.active)
    if recipient is None:
        return []
    reviewer = evidence.reviewer
    status = EvidenceStatus(event)
    return [
        Planned(
            kind=ReminderKind.EVIDENCE_REVIEWED,
            object_ref=f"evidence-{evidence.pk}",
            occasion=f"{event}-{evidence.reviewed_at.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}",
            recipient=recipient,
            due_at=send_time(now, zone(recipient.timezone), config.hours),
            reason=f"“{evidence.title}” was reviewed: {status.label.lower()}"[:300],
            context={
                "title": evidence.title,
                "status": str(event),
                "status_label": status.label,
                "comment": evidence.review_comment[:2000],
                "reviewer": (reviewer.get_full_name() or reviewer.get_username()) if reviewer else "",
            },
            evidence_id=evidence.pk,
        )
    ]


def reminders_for_case_event(
    *, case_id: int, event: str, context: Mapping[str, Any] | None = None, now: dt.datetime | None = None
) -> list[Reminder]:
    """Write the notifications of a case event; publish the due ones after commit. Return the rows created.

    Step waiting: whoever can act on the step (and their delegates). Decided: the subject and the nominator.
    Exception requested: every HR but the requester. Each once (its key), due in the recipient's sending hours.
    Run by the receiver after the case's change committed, in a transaction of its own (or the caller's).
    """
    now = now or timezone.now()
    with transaction.atomic():
        planned = case_event_planned(
            case_id=case_id, event=event, context=context or {}, now=now, config=PlanConfig.from_settings()
        )
        return _write(planned, now)


# ------------------------------------------------------------------------------------------------ in-app list


@transaction.atomic
def notifications_mark_read(*, user: object, reminder_ids: Sequence[int], now: dt.datetime | None = None) -> int:
    """Mark the user's own unread notifications among these as read (others' are left alone); return how many."""
    if not reminder_ids:
        return 0
    unread = notification_list(user=user).filter(pk__in=list(reminder_ids), read_at__isnull=True)
    return unread.audited_update(read_at=now or timezone.now())


# ------------------------------------------------------------------------------------------------ sending


@dataclass(slots=True)
class Claim:
    """Rows taken for one e-mail: a reminder and, for review kinds, the same person's other due ones of its kind."""

    rows: list[Reminder]
    content: dict[str, Any]
    claimed_at: dt.datetime

    @property
    def primary(self) -> Reminder:
        return self.rows[0]


def _verdict(reminder: Reminder, now: dt.datetime) -> Verdict | None:
    """What the row's e-mail shows now; None when the row was cancelled or failed instead (saved as such)."""
    try:
        with transaction.atomic():
            verdict = reminder_content(reminder, now=now)
    except Exception as exc:  # a broken row or template must not loop: HR sees it and can send it again
        logger.exception("reminder %s: could not prepare the e-mail", reminder.pk)
        reminder.status = ReminderStatus.FAILED
        reminder.last_error = f"Could not prepare the e-mail: {type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
        reminder.save(update_fields=["status", "last_error", "updated_at"])
        return None
    if verdict.cancel:
        reminder.status = ReminderStatus.CANCELLED
        reminder.last_error = verdict.cancel[:MAX_ERROR_LENGTH]
        reminder.save(update_fields=["status", "last_error", "updated_at"])
        return None
    return verdict


def _claim(reminder_id: int, now: dt.datetime) -> Claim | str:
    """Take the row (and its grouped siblings) for sending, committed before the e-mail goes out; or say why not."""
    with transaction.atomic(durable=True):
        reminder = Reminder.objects.select_for_update(skip_locked=True).filter(pk=reminder_id).first()
        if reminder is None:
            return "locked" if Reminder.objects.filter(pk=reminder_id).exists() else "gone"
        if reminder.status != ReminderStatus.PENDING:
            return f"already {reminder.status}"
        if reminder.due_at > now:
            return "not due yet"
        group = [reminder]
        if reminder.kind in GROUPED_KINDS and reminder.evidence_id:
            # One e-mail lists every item waiting for this person; their own tasks then find them sent.
            group += list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(kind=reminder.kind, to_email=reminder.to_email, evidence__isnull=False)
                .due(now)
                .exclude(pk=reminder.pk)
                .order_by("due_at", "pk")[: MAX_GROUP - 1]
            )
        taken: list[Reminder] = []
        contents: list[dict[str, Any]] = []
        for row in group:
            verdict = _verdict(row, now)
            if verdict is not None:
                taken.append(row)
                contents.append(verdict.content)
        if not taken:
            return str(reminder.status)
        for row in taken:
            row.status = ReminderStatus.SENDING
            row.claimed_at = now
            row.attempts += 1
            row.save(update_fields=["status", "claimed_at", "attempts", "updated_at"])
    return Claim(rows=taken, content={**contents[0], "items": contents}, claimed_at=now)


def _finish(claim: Claim, *, status: str, error: str = "", now: dt.datetime) -> str:
    """Record how a claimed send ended, for the rows still claimed by this worker; return the primary row's status.

    A row to try again whose attempts ran out (REMINDERS_MAX_ATTEMPTS) ends possibly sent instead.
    """
    final = str(status)
    with transaction.atomic(durable=True):
        rows = Reminder.objects.select_for_update().filter(pk__in=[r.pk for r in claim.rows]).order_by("pk")
        for row in rows:
            if row.status != ReminderStatus.SENDING or row.claimed_at != claim.claimed_at:
                logger.warning("reminder %s changed while being sent (now %s); leaving it", row.pk, row.status)
                continue
            row.status = status
            if status == ReminderStatus.PENDING and row.attempts >= settings.REMINDERS_MAX_ATTEMPTS:
                row.status = ReminderStatus.UNCERTAIN
            fields = ["status", "updated_at"]
            if error:  # a success keeps the error of an earlier attempt, for the record
                row.last_error = error[:MAX_ERROR_LENGTH]
                fields.append("last_error")
            if status == ReminderStatus.SENT:
                row.sent_at = now
                fields.append("sent_at")
            else:
                # The task's own retry is on its way: the sweeper leaves the row alone for a while.
                row.enqueued_at = now
                fields.append("enqueued_at")
            row.save(update_fields=fields)
            if row.pk == claim.primary.pk:
                final = str(row.status)
    return final


def reminder_send(*, reminder_id: int, final_attempt: bool = False, now: dt.datetime | None = None) -> str:
    """Send one reminder at least once, a copy recognisable by its Message-ID: claim, send, mark; say what happened.

    The claim commits before the e-mail goes out, so a redelivered task or a second worker finds the row 'sending'
    and leaves it. A worker that dies mid-send leaves the row 'sending': the sweeper puts it back to pending once
    its claim is REMINDERS_SENDING_TIMEOUT old and it is sent again, with the same Message-ID (the first copy may
    have gone out). Review reminders due for the same person go out together, in one e-mail.

    Returns "sent"; "failed" when the mail server definitely refused it (5xx: not retried); "uncertain" when the
    attempts ran out without a definite answer (`final_attempt`, or REMINDERS_MAX_ATTEMPTS claims).
    Raises SendFailed when the send should be tried again (the rows are pending again).
    Raises ReminderBusy when another transaction holds the row; the retry then finds it sent, or sends it.
    """
    now = now or timezone.now()
    claim = _claim(reminder_id, now)
    if claim == "locked":
        raise ReminderBusy(f"Reminder {reminder_id} is locked by another transaction; trying again shortly.")
    if isinstance(claim, str):
        return claim
    attempt = f"Attempt {claim.primary.attempts}"
    try:
        message = build_email(claim.primary, claim.content)
    except Exception as exc:  # nothing went out, and trying again renders the same: HR sees it
        logger.exception("reminder %s: could not render the e-mail", reminder_id)
        error = f"{attempt}: {type(exc).__name__}: {exc} (could not prepare the e-mail: not sent)"
        return _finish(claim, status=ReminderStatus.FAILED, error=error, now=timezone.now())
    try:
        message.send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if is_definite_refusal(exc):
            return _finish(
                claim,
                status=ReminderStatus.FAILED,
                error=f"{attempt}: {error} (refused by the mail server: not sent)",
                now=timezone.now(),
            )
        status = ReminderStatus.UNCERTAIN if final_attempt else ReminderStatus.PENDING
        outcome = _finish(claim, status=status, error=f"{attempt}: {error} (no definite answer)", now=timezone.now())
        if outcome == ReminderStatus.PENDING:
            raise SendFailed(error) from exc
        return outcome
    return _finish(claim, status=ReminderStatus.SENT, now=timezone.now())


# ------------------------------------------------------------------------------------------------ outbox


@dataclass(slots=True)
class SweepResult:
    """What one sweep drained, took back from dead workers, gave up on and handed over."""

    published: int = 0
    recovered: int = 0
    uncertain: int = 0
    drained: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "drained": self.drained,
            "recovered": self.recovered,
            "uncertain": self.uncertain,
            "published": self.published,
        }


POSSIBLY_SENT_NOTE = (
    "Attempt {attempt}: the worker stopped while sending (claimed {claimed}); the e-mail may have gone out. "
)
RETRYING_NOTE = "Sending it again, with the same Message-ID."
GAVE_UP_NOTE = "No more attempts ({attempts}): ask the recipient before sending it again."


def _recover_stuck(now: dt.datetime) -> tuple[int, int]:
    """Rows claimed by a worker that never finished: pending again (possibly sent), or for HR once attempts ran out.

    A pending row loses its hand-over stamp, so the same sweep publishes it. Return (recovered, given up).
    """
    stuck_before = now - dt.timedelta(seconds=settings.REMINDERS_SENDING_TIMEOUT)
    recovered = given_up = 0
    with transaction.atomic(durable=True):
        stuck = Reminder.objects.stuck_sending(stuck_before).select_for_update(skip_locked=True).order_by("pk")
        for reminder in stuck[: settings.REMINDERS_PUBLISH_BATCH]:
            note = POSSIBLY_SENT_NOTE.format(
                attempt=reminder.attempts, claimed=f"{reminder.claimed_at:%Y-%m-%d %H:%M:%S %Z}"
            )
            if reminder.attempts >= settings.REMINDERS_MAX_ATTEMPTS:
                reminder.status = ReminderStatus.UNCERTAIN
                note += GAVE_UP_NOTE.format(attempts=reminder.attempts)
                given_up += 1
            else:
                reminder.status = ReminderStatus.PENDING
                note += RETRYING_NOTE
                recovered += 1
            reminder.last_error = note[:MAX_ERROR_LENGTH]
            reminder.enqueued_at = None
            reminder.save(update_fields=["status", "last_error", "enqueued_at", "updated_at"])
    return recovered, given_up


def reminders_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Write the notifications of queued evidence events whose drain task never ran (the broker was down, the
    message lost); take back rows whose worker died mid-send (pending again, possibly sent); hand the due pending
    rows not handed over (or handed over long ago) to the broker."""
    now = now or timezone.now()
    result = SweepResult(drained=reminders_drain_events(now=now))
    result.recovered, result.uncertain = _recover_stuck(now)
    republish_before = now - dt.timedelta(seconds=settings.REMINDERS_REPUBLISH_AFTER)
    # Stamp first, publish after: a worker may take a row the moment its task is published.
    with transaction.atomic(durable=True):
        ids = list(
            Reminder.objects.to_publish(now, republish_before)
            .select_for_update(skip_locked=True)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[: settings.REMINDERS_PUBLISH_BATCH]
        )
        if ids:
            Reminder.objects.filter(pk__in=ids).audited_update(enqueued_at=now)
    accepted = outbox.publish(ids, force=True)
    outbox.unstamp([pk for pk in ids if pk not in set(accepted)])
    result.published = len(accepted)
    return result


RESENDABLE = (ReminderStatus.FAILED, ReminderStatus.UNCERTAIN)


def reminders_resend(*, reminder_ids: Sequence[int], now: dt.datetime | None = None) -> list[int]:
    """Send failed or possibly sent reminders again now (HR's 'send again now'): pending, due at once, a fresh count
    of attempts, published after commit. A possibly sent one may reach the person twice, with the same Message-ID.
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        rows = list(Reminder.objects.select_for_update().filter(pk__in=list(reminder_ids), status__in=RESENDABLE))
        for row in rows:
            row.status = ReminderStatus.PENDING
            row.due_at = now
            row.enqueued_at = now
            row.claimed_at = None
            row.attempts = 0
            row.save(update_fields=["status", "due_at", "enqueued_at", "claimed_at", "attempts", "updated_at"])
        outbox.publish_after_commit([row.pk for row in rows])
    return [row.pk for row in rows]


# ------------------------------------------------------------------------------------------------ preferences


@transaction.atomic
def digest_preference_set(*, employee: Employee, weekly_digest: bool, note: str = "") -> ReminderPreference:
    """Turn an employee's weekly digest on or off (deadline, review and escalation mail cannot be turned off)."""
    preference, _ = ReminderPreference.objects.select_for_update().get_or_create(employee=employee)
    if preference.weekly_digest != weekly_digest or note:
        preference.weekly_digest = weekly_digest
        preference.note = note[:200]
        preference.save()
    return preference


__all__ = [
    "RESENDABLE",
    "PlanResult",
    "ReminderBusy",
    "SendFailed",
    "SweepResult",
    "digest_preference_set",
    "notifications_mark_read",
    "reminder_send",
    "reminders_for_case_event",
    "reminders_for_evidence_event",
    "reminders_plan",
    "reminders_resend",
    "reminders_sweep",
]
