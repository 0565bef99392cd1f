"""Reminders that scale to people: HR gets one escalation digest a day, a reviewer one reminder listing every item
waiting, whatever the number of items; a second pass the same day writes none; later items go in the next day's."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from apps.common.roles import Role, ensure_role_groups
from apps.evidence.services import evidence_submit, evidence_verify
from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.messages import notification_title
from apps.reminders.selectors import notification_link, notification_list
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory

from .conftest import at, of_kind, rows

ESCALATION = ReminderKind.ESCALATION
WAITING = ReminderKind.REVIEW_WAITING


@pytest.fixture
def submit(world, broker, django_capture_on_commit_callbacks):
    """Dana submits `count` items at an instant (the reviewers' notices are written at once, as the worker would)."""

    def run(when: str, count: int = 1, title: str = "Story") -> list:  # type: ignore[type-arg]
        with time_machine.travel(at(when), tick=False), django_capture_on_commit_callbacks(execute=True):
            return [
                evidence_submit(
                    evidence=EvidenceFactory(owner=world["dana"], title=f"{title} {n}"), by=world["dana"].user
                )
                for n in range(count)
            ]

    return run


@pytest.fixture
def second_hr(world):
    user = UserFactory(username="hugo", first_name="Hugo", last_name="People")
    user.groups.add(ensure_role_groups()[Role.HR])
    EmployeeFactory(full_name="Hugo People", user=user, timezone="America/New_York")
    return user


def digests_of(user) -> list:  # type: ignore[no-untyped-def,type-arg]
    return rows(kind=ESCALATION, recipient_user=user)


# ------------------------------------------------------------------------------------------------ HR


def test_each_hr_person_gets_one_escalation_digest_a_day_whatever_the_number_of_items(
    world, submit, second_hr, plan, sweep
):
    submit("2026-11-02 10:00", count=30)  # nobody reviews them: 7 days on the 9th

    plan("2026-11-10 00:00")
    plan("2026-11-10 12:00")  # a second pass the same day writes no second digest

    for user in (world["hr_user"], second_hr):
        (digest,) = digests_of(user)
        assert digest.occasion == "2026-11-10" and digest.context["review_count"] == 30
    mails = of_kind(sweep("2026-11-10 08:00") + sweep("2026-11-10 14:00"), ESCALATION)
    assert sorted(m.to[0].split(" <")[0] for m in mails) == ["Hana Resources", "Hugo People"]
    (hana,) = [m for m in mails if "Hana" in m.to[0]]
    assert hana.subject == "Escalations of 2026-11-10: 30 items unreviewed for 7 days"
    assert hana.body.count("waiting 7 days") == 30
    assert f"https://rc.example.com/review/{rows(kind=ReminderKind.REVIEW_REQUESTED)[0].evidence_id}/" in hana.body


def test_items_that_reach_their_moment_later_in_the_day_go_in_the_next_days_digest(world, submit, plan):
    (first,) = submit("2026-11-02 10:00", title="Early")  # 7 days on the 9th at 10:00
    (later,) = submit("2026-11-03 15:00", title="Late")  # 7 days on the 10th at 15:00

    plan("2026-11-10 00:00")
    plan("2026-11-10 16:00")  # the second item waited 7 days an hour ago: it waits for tomorrow's digest
    plan("2026-11-11 00:00")

    digests = digests_of(world["hr_user"])
    assert [d.occasion for d in digests] == ["2026-11-10", "2026-11-11"]
    assert [[item["id"] for item in d.context["reviews"]] for d in digests] == [[first.pk], [later.pk]]


def test_a_planner_stopped_for_days_catches_up_in_one_digest(world, submit, plan):
    submit("2026-11-02 10:00", title="Early")
    submit("2026-11-03 15:00", title="Late")

    plan("2026-11-12 09:00")  # no pass since the 8th

    (digest,) = digests_of(world["hr_user"])
    assert digest.context["review_count"] == 2


def test_the_digest_lists_reviews_and_cycles_past_their_deadline_grouped_with_counts(world, submit, plan, sweep):
    submit("2026-11-13 12:00", count=2, title="Waiting")  # 7 days on the 20th, the evidence deadline

    plan("2026-11-21 00:00")

    (digest,) = digests_of(world["hr_user"])
    assert digest.context["review_count"] == 2
    assert [(c["name"], c["short_count"]) for c in digest.context["cycles"]] == [("Promotions 2026-H2", 2)]
    (mail,) = of_kind(sweep("2026-11-21 08:00"), ESCALATION)
    assert mail.subject == (
        "Escalations of 2026-11-21: 2 items unreviewed for 7 days; 2 open cases short of policy after the evidence "
        "deadline of Promotions 2026-H2"
    )
    assert "Items nobody has reviewed in 7 days (2)" in mail.body
    assert "Dana Okafor: missing One customer story" in mail.body
    html = mail.alternatives[0][0]
    assert "See every item waiting for review" in html and "See every short case" in html


def test_an_item_reviewed_before_the_digest_goes_out_is_left_out_and_no_longer_counted(world, submit, plan, sweep):
    reviewed, waiting = submit("2026-11-02 10:00", count=2)
    plan("2026-11-10 00:00")
    with time_machine.travel(at("2026-11-10 07:00"), tick=False):
        evidence_verify(evidence=reviewed, by=world["maya"].user)

    (mail,) = of_kind(sweep("2026-11-10 08:00"), ESCALATION)

    assert "1 item unreviewed for 7 days" in mail.subject
    assert waiting.title in mail.body and reviewed.title not in mail.body


def test_a_digest_whose_items_were_all_reviewed_is_cancelled_not_sent(world, submit, plan, sweep):
    (item,) = submit("2026-11-02 10:00")
    plan("2026-11-10 00:00")
    with time_machine.travel(at("2026-11-10 07:00"), tick=False):
        evidence_verify(evidence=item, by=world["maya"].user)

    assert of_kind(sweep("2026-11-10 08:00"), ESCALATION) == []
    (digest,) = digests_of(world["hr_user"])
    assert digest.status == ReminderStatus.CANCELLED


def test_hrs_digest_is_one_readable_notification_in_the_portal(world, submit, plan):
    submit("2026-11-02 10:00", count=3)
    plan("2026-11-10 00:00")

    (notice,) = notification_list(user=world["hr_user"]).filter(kind=ESCALATION)

    assert notification_title(notice) == "Escalations of 2026-11-10: 3 items unreviewed for 7 days"
    assert notification_link(notice) == f"{reverse('admin:evidence_evidence_changelist')}?status__exact=submitted"
    assert "3 items unreviewed for 7 days" in notice.reason


# ------------------------------------------------------------------------------------------------ reviewers


def test_a_reviewer_with_many_items_waiting_gets_one_reminder_listing_them(world, submit, plan, sweep, settings):
    settings.REMINDERS_DIGEST_LISTED = 5
    submit("2026-11-02 10:00", count=12)  # 3 days on the 5th

    plan("2026-11-06 00:00")
    plan("2026-11-06 11:00")

    assert {r.recipient_user.username: r.context["total"] for r in rows(kind=WAITING)} == {"maya": 12, "chris": 12}
    (mail,) = [m for m in of_kind(sweep("2026-11-06 08:00"), WAITING) if "Maya" in m.to[0]]
    assert mail.subject == "12 items have waited 3 days or more for your review"
    assert mail.body.count("- “Story") == 5
    assert "...and 7 more in your review queue: https://rc.example.com/review/" in mail.body


def test_a_reviewers_items_reaching_n_days_on_different_days_come_in_one_reminder_a_day(world, submit, plan):
    submit("2026-11-02 10:00", count=2, title="Monday")
    submit("2026-11-03 10:00", count=3, title="Tuesday")

    for when in ("2026-11-06 00:00", "2026-11-06 18:00", "2026-11-07 00:00"):
        plan(when)

    maya = [r for r in rows(kind=WAITING) if r.recipient_user == world["maya"].user]
    assert [(r.occasion, r.context["total"]) for r in maya] == [("2026-11-06", 2), ("2026-11-07", 3)]


def test_a_single_waiting_item_reads_as_before_and_the_notification_leads_to_the_queue(world, submit, plan, sweep):
    (item,) = submit("2026-11-02 10:00", title="Rebuilt the filter")
    plan("2026-11-06 00:00")

    (mail,) = [m for m in of_kind(sweep("2026-11-06 08:00"), WAITING) if "Maya" in m.to[0]]

    assert mail.subject == "“Rebuilt the filter 0” has waited 3 days for review"
    assert f"https://rc.example.com/review/{item.pk}/" in mail.body
    (notice,) = notification_list(user=world["maya"].user).filter(kind=WAITING)
    assert notification_title(notice) == mail.subject
    assert notification_link(notice) == reverse("portal:review-queue")


def test_the_batch_of_a_reviewer_cancels_itself_once_every_item_is_reviewed(world, submit, plan, sweep):
    items = submit("2026-11-02 10:00", count=2)
    plan("2026-11-06 00:00")
    with time_machine.travel(at("2026-11-06 07:00"), tick=False):
        for item in items:
            evidence_verify(evidence=item, by=world["maya"].user)

    assert of_kind(sweep("2026-11-06 08:00"), WAITING) == []
    assert {r.status for r in rows(kind=WAITING, recipient_user=world["maya"].user)} == {ReminderStatus.CANCELLED}


def test_todays_batches_do_not_look_back_past_the_look_back_days(world, plan):
    with time_machine.travel(at("2026-10-20 10:00"), tick=False):
        old = EvidenceFactory(owner=world["dana"], status="submitted")
        old.submitted_at = at("2026-10-20 10:00")
        old.save()

    plan(dt.datetime(2026, 11, 6, 10, tzinfo=dt.UTC))

    assert not rows(kind=WAITING) and not rows(kind=ESCALATION)
