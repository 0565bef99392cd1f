"""Notifications of evidence and case events: who is asked to review, told of a review, of a waiting step, a decision.

Evidence events are queued in the transaction of the change and written by the worker's drain moments later; case
events are written once the case's change committed (`receivers.py`). Each notice is one row under its unique key.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence

from . import outbox
from .constants import ReminderKind
from .inserts import write_planned as _insert
from .models import PendingEvidenceEvent, Reminder
from .planner import ITEM_FIELDS, SUBMISSION_KINDS, PlanConfig, Planned, review_planned
from .planner.cases import case_event_planned
from .recipients import cx_reviewers, employee_recipient
from .timing import send_time, zone

logger = logging.getLogger(__name__)

REVIEW_EVENTS = frozenset({EvidenceStatus.VERIFIED, EvidenceStatus.CHANGES_REQUESTED, EvidenceStatus.REJECTED})


def write_planned(planned: Sequence[Planned], now: dt.datetime) -> list[Reminder]:
    """Insert the new notices in the caller's transaction; publish the due ones after its commit."""
    return _insert(planned, now=now, publish_limit=settings.REMINDERS_PUBLISH_BATCH)


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
                    write_planned(_planned_for(events, now), now)
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
            planned += review_planned(row, now=now, config=config, cx=cx, kinds=SUBMISSION_KINDS)
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
        return write_planned(_planned_for([queued], now), now)


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
        return write_planned(planned, now)
