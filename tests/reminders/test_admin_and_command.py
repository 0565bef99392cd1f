"""HR reads the reminder log in the admin (filters, recipient, 'send again now'); `manage.py reminders --dry-run`
lists what would be sent now and why, writing nothing."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import Reminder
from tests.factories.reminders import ReminderFactory, ReminderPreferenceFactory

from .conftest import at, rows


@pytest.fixture
def hr_client(client, world):
    world["hr_user"].is_staff = True
    world["hr_user"].is_superuser = True
    world["hr_user"].save()
    client.force_login(world["hr_user"])
    return client


def test_the_reminder_log_lists_and_filters_by_kind_status_and_recipient(hr_client, world, plan):
    plan("2026-11-06 10:00")
    failed = ReminderFactory(status=ReminderStatus.FAILED, last_error="SMTPServerDisconnected: gone")
    url = reverse("admin:reminders_reminder_changelist")

    page = hr_client.get(url).content.decode()
    assert "Dana Okafor" in page and "Sam Rivera" in page and "SMTPServerDisconnected" in page

    by_status = hr_client.get(url, {"status__exact": "failed"}).content.decode()
    assert failed.to_email in by_status and "Dana Okafor" not in by_status
    by_kind = hr_client.get(url, {"kind__exact": ReminderKind.DIGEST}).content.decode()
    assert "Maya Manager" in by_kind and "Dana Okafor" not in by_kind
    by_recipient = hr_client.get(url, {"to_email": world["sam"].email}).content.decode()
    assert "Sam Rivera" in by_recipient and "Dana Okafor" not in by_recipient


def test_the_log_is_read_only(hr_client, world):
    reminder = ReminderFactory()

    assert hr_client.get(reverse("admin:reminders_reminder_add")).status_code == 403
    response = hr_client.post(reverse("admin:reminders_reminder_change", args=[reminder.pk]), {"status": "sent"})
    assert response.status_code == 403
    assert hr_client.get(reverse("admin:reminders_reminder_change", args=[reminder.pk])).status_code == 200


def test_send_again_now_requeues_failed_reminders_only(hr_client, world, broker, django_capture_on_commit_callbacks):
    failed = ReminderFactory(status=ReminderStatus.FAILED, last_error="boom")
    sent = ReminderFactory(status=ReminderStatus.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        response = hr_client.post(
            reverse("admin:reminders_reminder_changelist"),
            {"action": "send_again_now", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )

    text = response.content.decode()
    assert "1 reminder(s) queued to be sent again now" in text and "1 reminder(s) left alone" in text
    assert broker.published == [failed.pk]
    assert Reminder.objects.get(pk=failed.pk).status == ReminderStatus.PENDING
    assert Reminder.objects.get(pk=sent.pk).status == ReminderStatus.SENT


def test_hr_manages_digest_opt_outs_in_the_admin(hr_client, world):
    preference = ReminderPreferenceFactory(employee=world["maya"])

    page = hr_client.get(reverse("admin:reminders_reminderpreference_changelist")).content.decode()

    assert "Maya Manager" in page
    assert preference.weekly_digest is False


def test_dry_run_lists_what_would_be_sent_now_and_why_and_writes_nothing(world, broker):
    out = StringIO()
    with time_machine.travel(at("2026-11-06 10:00"), tick=False):
        call_command("reminders", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "Would be sent now" in text
    assert "evidence_due      to Dana Okafor" in text
    assert "14 days before the evidence deadline (2026-11-20) of Promotions 2026-H2; 0 of 1 requirements met" in text
    assert "missing: One customer story (0 of 1)" in text
    assert "sent later within the recipient's sending hours" in text
    assert "Sam Rivera" in text and "America/New_York" in text  # 05:00 in New York: at 09:00 local
    assert Reminder.objects.count() == 0 and broker.published == []


def test_dry_run_at_a_given_instant(world, broker):
    out = StringIO()
    call_command("reminders", "--dry-run", "--at", "2026-11-05T12:00:00+00:00", stdout=out)

    assert "Would be sent now (1)" in out.getvalue()  # only the weekly digest: no offset day yet
    assert "evidence_due" not in out.getvalue()


def test_the_command_without_dry_run_plans_and_sweeps(world, broker):
    out = StringIO()
    with time_machine.travel(at("2026-11-06 10:00"), tick=False):
        call_command("reminders", stdout=out)

    assert "reminder(s) created" in out.getvalue()
    assert rows(kind=ReminderKind.EVIDENCE_DUE)
