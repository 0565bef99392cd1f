"""My notifications: every notification a person gets by e-mail, also readable here; opening the page marks the
listed ones read."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET

from apps.reminders.constants import ReminderStatus
from apps.reminders.messages import notification_title
from apps.reminders.models import Reminder
from apps.reminders.selectors import notification_link, notification_list
from apps.reminders.services import notifications_mark_read

from ..selectors import forget_unread_notifications, nav_for
from .base import paginate


def _when(instant: dt.datetime) -> str:
    return dateformat.format(timezone.localtime(instant), "j M Y, H:i")


def _delivery(reminder: Reminder, now: dt.datetime) -> str:
    """What became of the e-mail, in words."""
    if reminder.status == ReminderStatus.SENT and reminder.sent_at:
        return f"E-mailed {_when(reminder.sent_at)}"
    if reminder.status == ReminderStatus.FAILED:
        return "The e-mail could not be sent; HR can send it again"
    if reminder.status == ReminderStatus.UNCERTAIN:
        return "The e-mail may not have reached you; HR is checking"
    if reminder.due_at > now:
        return f"Will be e-mailed {_when(reminder.due_at)}, within your sending hours"
    return "Being e-mailed now"


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The signed-in person's notifications, newest first, a page at a time; the ones shown are marked read."""
    now = timezone.now()
    page = paginate(request, notification_list(user=request.user))
    rows = [
        {
            "reminder": reminder,
            "title": notification_title(reminder),
            "link": notification_link(reminder),
            "delivery": _delivery(reminder, now),
            "new": reminder.read_at is None,
        }
        for reminder in page.object_list
    ]
    # Seen once shown: the page still marks them "new" this time, and the bell counts what is left.
    marked = notifications_mark_read(user=request.user, reminder_ids=[row["reminder"].pk for row in rows if row["new"]])
    if marked:
        forget_unread_notifications(request.user)
    context = {"nav": nav_for(request.user), "rows": rows, "page": page}
    return render(request, "portal/notifications.html", context)
