"""seed_demo leaves reminders in several states and a digest opt-out, so `make run` shows the log at work."""

import pytest
from django.core.management import call_command

from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import Reminder, ReminderPreference


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.mark.django_db
def test_seed_demo_shows_sent_pending_and_failed_reminders_and_a_digest_opt_out():
    call_command("seed_demo", "--employees", "80")

    statuses = set(Reminder.objects.values_list("status", flat=True))
    assert {ReminderStatus.SENT, ReminderStatus.PENDING, ReminderStatus.FAILED} <= statuses
    kinds = set(Reminder.objects.values_list("kind", flat=True))
    assert {ReminderKind.EVIDENCE_DUE, ReminderKind.REVIEW_WAITING, ReminderKind.EVIDENCE_REVIEWED} <= kinds
    opted_out = ReminderPreference.objects.get(weekly_digest=False).employee
    assert not Reminder.objects.filter(kind=ReminderKind.DIGEST, recipient_employee=opted_out).exists()
