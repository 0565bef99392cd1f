"""seed_demo fills the customer-insight stream: inboxes with insights in every state, responses verified, the
digest planned, the monitor with something to show, a group requirement to respond; and a second run adds nothing."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.insights.constants import Channel, InboxStatus
from apps.insights.models import Insight, InsightRoute, RoutingRule
from apps.policies.models import Requirement
from apps.reminders.constants import ReminderKind
from apps.reminders.models import Reminder
from apps.reports.filters import ReportFilters
from apps.reports.selectors.insights import insight_monitor


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.mark.django_db
def test_seed_demo_shows_insights_in_inboxes_some_responded_and_a_digest(capsys):
    call_command("seed_demo", "--employees", "80")

    assert RoutingRule.objects.count() >= 10
    assert 300 <= Insight.objects.count() <= 400
    assert Insight.objects.filter(is_score_only=True).exists()
    assert Insight.objects.exclude(gaming_flags=[]).exists()
    assert Insight.objects.filter(channel=Channel.INTERNAL, from_unit__isnull=False).count() == 3
    statuses = set(InsightRoute.objects.values_list("status", flat=True))
    assert statuses == {InboxStatus.NEW, InboxStatus.IN_PROGRESS, InboxStatus.RESPONDED, InboxStatus.NO_ACTION}
    # Every responded insight is answered by verified evidence linked to it.
    responded = InsightRoute.objects.filter(status=InboxStatus.RESPONDED)
    assert responded.count() > 20
    assert all(
        Evidence.objects.filter(responds_to=route, status=EvidenceStatus.VERIFIED).exists() for route in responded
    )
    front = InsightRoute.objects.filter(unit__code="front-desk")
    assert front.filter(status=InboxStatus.RESPONDED).exists() and front.filter(status=InboxStatus.NEW).exists()
    assert Reminder.objects.filter(kind=ReminderKind.INSIGHTS_DIGEST).exists()
    assert Requirement.objects.filter(kind="responds_to_insights", version__status="published").exists()
    monitor = insight_monitor(filters=ReportFilters(), as_of=timezone.localdate())
    assert monitor.total.responded > 0 and monitor.total.in_time > 0
    assert "procurement" in {row.code for row in monitor.unanswered}
    assert "Insights: " in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_twice_adds_no_insight():
    call_command("seed_demo", "--employees", "50")
    before = (Insight.objects.count(), InsightRoute.objects.count())

    call_command("seed_demo", "--employees", "50")

    assert (Insight.objects.count(), InsightRoute.objects.count()) == before
