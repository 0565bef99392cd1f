"""Render a reminder as an e-mail: a subject line, a text body and an HTML alternative from templates."""

from __future__ import annotations

import hashlib
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .constants import ReminderKind
from .models import Reminder
from .planner.daily import is_batch


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def subject_for(reminder: Reminder, content: dict[str, Any]) -> str:
    """The subject line: what it is about and what to do, in a few words."""
    kind = reminder.kind
    if kind == ReminderKind.EVIDENCE_DUE:
        days = content.get("days_left", 0)
        when = "today" if days <= 0 else f"in {_plural(days, 'day')}"
        return f"{content['cycle']}: evidence for {content['subject']} is due {when}"
    items = content.get("items") or [content]
    waited = min((item.get("waited_days", 0) for item in items), default=0)
    if kind == ReminderKind.REVIEW_REQUESTED:
        if len(items) > 1:
            return f"{len(items)} items are waiting for your review"
        return f"Please review “{content['title']}” by {content['owner']}"
    if kind == ReminderKind.REVIEW_WAITING:
        total = int(content.get("total") or len(items))
        waited = int(content.get("waited") or waited)
        if total > 1:
            return f"{total} items have waited {_plural(waited, 'day')} or more for your review"
        item = content if "title" in content else items[0]
        return f"“{item['title']}” has waited {_plural(int(item['waited_days']), 'day')} for review"
    if kind == ReminderKind.ESCALATION and "day" in content and not reminder.cycle_id:
        return _hr_digest_subject(content)
    if kind == ReminderKind.ESCALATION and reminder.cycle_id:
        return (
            f"Escalation: {_plural(content['short_count'], 'open case')} short of policy after the "
            f"{content['deadline_kind']} deadline of {content['cycle']}"
        )
    if kind == ReminderKind.ESCALATION:
        if len(items) > 1:
            return f"Escalation: {len(items)} items have waited {_plural(waited, 'day')} or more for review"
        return f"Escalation: “{content['title']}” has waited {_plural(waited, 'day')} for review"
    if kind == ReminderKind.DIGEST:
        return (
            f"Your team this week: {_plural(len(content['cases']), 'open case')}, "
            f"{_plural(len(content['waiting']), 'item')} to review"
        )
    if kind == ReminderKind.EVIDENCE_REVIEWED:
        return f"“{content['title']}”: {content['status_label'].lower()}"
    if kind == ReminderKind.EVIDENCE_RESUBMITTED:
        return f"“{content['title']}” by {content['owner']} is back for review after your request for changes"
    if kind == ReminderKind.STEP_WAITING:
        return f"Your step is waiting: {content['step']} for {content['subject']} ({content['summary']})"
    if kind == ReminderKind.CASE_DECIDED:
        whose = "Your case" if content.get("own_case") else f"The case of {content['subject']}"
        return f"{whose} in {content['cycle']} was {content['status_label'].lower()}"
    if kind == ReminderKind.INSIGHTS_DIGEST:
        return (
            f"{content['unit']} this week: {_plural(int(content['new_count']), 'new customer insight')}, "
            f"{int(content['open_count'])} open"
        )
    if kind == ReminderKind.EXCEPTION_WAITING:
        return f"An exception for {content['subject']} ({content['cycle']}) waits for a second HR decision"
    return "Ritual Criteria notification"


def _hr_digest_subject(content: dict[str, Any]) -> str:
    """HR's daily digest: what it escalates, counted."""
    parts = []
    if content.get("review_count"):
        days = _plural(int(content.get("escalation_days", 0)), "day")
        parts.append(f"{_plural(content['review_count'], 'item')} unreviewed for {days}")
    cycles = content.get("cycles") or []
    if len(cycles) == 1:
        cycle = cycles[0]
        parts.append(
            f"{_plural(cycle['short_count'], 'open case')} short of policy after the {cycle['deadline_kind']} "
            f"deadline of {cycle['name']}"
        )
    elif cycles:
        short = sum(int(cycle["short_count"]) for cycle in cycles)
        parts.append(f"{_plural(short, 'open case')} short of policy in {len(cycles)} cycles past a deadline")
    return f"Escalations of {content['day']}: {'; '.join(parts) or 'nothing left to escalate'}"


# Kinds whose subject line needs only what was stored when the reminder was planned.
PLANNED_SUBJECT_KINDS = frozenset(
    {
        ReminderKind.EVIDENCE_REVIEWED,
        ReminderKind.EVIDENCE_RESUBMITTED,
        ReminderKind.STEP_WAITING,
        ReminderKind.CASE_DECIDED,
        ReminderKind.EXCEPTION_WAITING,
        # Written from what the unit's inbox held when planned (the reminders app reads no insight).
        ReminderKind.INSIGHTS_DIGEST,
    }
)


def notification_title(reminder: Reminder) -> str:
    """The headline of a notification in the portal's list: its e-mail subject, else its kind and occasion.

    Deadline, review, escalation and digest mails are written from what is true when they go out, so the list
    names them by kind (daily batches by what they listed when planned); their `reason` line says the rest.
    """
    context = reminder.context or {}
    if reminder.kind in PLANNED_SUBJECT_KINDS or is_batch(reminder):
        try:
            return " ".join(subject_for(reminder, context).splitlines())[:200]
        except (KeyError, TypeError, AttributeError):  # a row planned before its context had every field
            pass
    if reminder.kind == ReminderKind.EVIDENCE_DUE and context.get("cycle"):
        return (
            f"{context['cycle']}: evidence for {context.get('subject', 'a case')} is due by {context.get('deadline')}"
        )
    if reminder.kind == ReminderKind.DIGEST:
        return f"Your team this week ({context.get('week', '')})".replace(" ()", "")
    return str(reminder.get_kind_display())


def template_name(reminder: Reminder, extension: str) -> str:
    """The template of a kind (escalations about a cycle and about a review differ)."""
    name = str(reminder.kind)
    if reminder.kind == ReminderKind.ESCALATION:
        name = (
            "escalation_cycle"
            if reminder.cycle_id
            else "escalation_review"
            if reminder.evidence_id
            else "escalation_digest"
        )
    return f"reminders/email/{name}.{extension}"


def mail_domain() -> str:
    """The domain of our Message-IDs: the sender address's, else the site's host."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    domain = address.rpartition("@")[2].strip().strip("[]") if "@" in address else ""
    return domain or urlsplit(settings.SITE_URL).hostname or "ritual-criteria.invalid"


def message_id_for(key: str) -> str:
    """The Message-ID of a reminder's e-mail: the same on every attempt and resend of the same key.

    So a copy sent twice (a worker that died after the server took the mail, a resend of a possibly sent one) is
    recognisably the same message: mail clients thread it as one, and some providers drop the second copy.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<reminder-{digest}@{mail_domain()}>"


def build_email(reminder: Reminder, content: dict[str, Any]) -> EmailMultiAlternatives:
    """The e-mail of a reminder, text and HTML, addressed to its recipient, with the key's stable Message-ID."""
    # Every line break goes (a title typed with "\r" would otherwise make the header unsendable: BadHeaderError).
    subject = " ".join(subject_for(reminder, content).splitlines())[:200]
    context = {**content, "mail_subject": subject, "reminder": reminder, "kind": reminder.kind}
    text = render_to_string(template_name(reminder, "txt"), context)
    html = render_to_string(template_name(reminder, "html"), context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((reminder.recipient_name, reminder.to_email))],
        headers={
            "Auto-Submitted": "auto-generated",
            "Message-ID": message_id_for(reminder.key),
            "X-Reminder-Key": reminder.key,
        },
    )
    message.attach_alternative(html, "text/html")
    return message
