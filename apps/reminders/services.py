"""Writes for reminders: a planner pass, claim-send-mark one reminder, sweep the outbox, resend, preferences.

The notifications of evidence and case events live in `notify.py` (re-exported here, where other apps find them).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.org.models import Employee

from . import outbox
from .constants import MAX_ERROR_LENGTH, ReminderKind, ReminderStatus
from .delivery import is_definite_refusal
from .inserts import write_planned
from .messages import build_email
from .models import Reminder, ReminderPreference
from .notify import (
    evidence_event_queue,
    reminders_drain_events,
    reminders_for_case_event,
    reminders_for_evidence_event,
)
from .planner import PlanConfig, is_batch, plan_batches
from .selectors import Verdict, notification_list, reminder_content

logger = logging.getLogger(__name__)

# Per-item review rows due for the same person go out as one e-mail (at most MAX_GROUP items); rows written before
# the daily batches (planner.daily) still are.
GROUPED_KINDS = frozenset({ReminderKind.REVIEW_REQUESTED, ReminderKind.REVIEW_WAITING, ReminderKind.ESCALATION})
MAX_GROUP = 50


class SendFailed(Exception):
    """Sending a reminder failed (mail server down, bad address); the send task retries it with backoff."""


class ReminderBusy(Exception):
    """The reminder's row is locked by another transaction (a worker sending it, a sweep); the task tries again."""


@dataclass(slots=True)
class PlanResult:
    """What one planner pass wrote and handed over (the rows themselves only when the caller keeps them)."""

    created: list[Reminder] = field(default_factory=list)
    published: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)

    def add(self, rows: Sequence[Reminder], *, keep: bool) -> None:
        if keep:
            self.created.extend(rows)
        self.by_kind.update(str(r.kind) for r in rows)
        self.published += sum(1 for r in rows if r.enqueued_at is not None)

    @property
    def counts(self) -> dict[str, int]:
        return {"created": sum(self.by_kind.values()), "published": self.published, **self.by_kind}


def reminders_plan(*, now: dt.datetime | None = None, keep_rows: bool = True) -> PlanResult:
    """One planner pass: write every reminder that became due; hand the first due ones to the broker after commit.

    Covers every open case of every cycle in its reminder period, in chunks of REMINDERS_EVALUATE_BATCH cases; each
    chunk's new reminders are written in transactions of at most REMINDERS_PLAN_BATCH rows (soonest due first)
    before the next chunk is read, so memory and each transaction stay bounded however large the cycle. At most
    REMINDERS_PUBLISH_BATCH rows are handed over per pass; the sweeper hands over the rest. Safe to run twice at
    once: the unique key lets exactly one pass create (and publish) each reminder. `keep_rows=False` (the beat
    task) keeps counts only.
    """
    now = now or timezone.now()
    result = PlanResult()
    size = max(1, settings.REMINDERS_PLAN_BATCH)
    for batch in plan_batches(now=now, config=PlanConfig.from_settings()):
        ordered = sorted(batch, key=lambda p: (p.due_at, p.key))
        for start in range(0, len(ordered), size):
            with transaction.atomic(durable=True):
                created = write_planned(
                    ordered[start : start + size],
                    now=now,
                    publish_limit=settings.REMINDERS_PUBLISH_BATCH - result.published,
                )
            result.add(created, keep=keep_rows)
    return result


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
    # A daily batch lists its own items; rows grouped at send time list one item each.
    content = contents[0] if is_batch(taken[0]) else {**contents[0], "items": contents}
    return Claim(rows=taken, content=content, claimed_at=now)


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
    "evidence_event_queue",
    "reminders_drain_events",
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
