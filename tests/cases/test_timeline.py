"""One timeline per case: everything that happened, in time order, with names; the subject sees no internal entries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.cases.models import Case, PolicyException
from apps.cases.services import (
    case_attest,
    case_attestation_withdraw,
    case_exception_decide,
    case_exception_request,
    case_open,
    case_step_decide,
)
from apps.cases.timeline import TimelineKind, case_timeline
from apps.common.context import Actor, acting_as
from apps.evidence.constants import EvidenceStatus
from apps.policies.models import Requirement
from apps.policies.services import policy_version_create, policy_version_publish, requirement_add
from tests.factories.cases import two_step_route
from tests.factories.evidence import EvidenceFactory

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Dana ran the desk alone for a quarter and wrote none of it down; the team vouches for her."


def as_actor(user):
    return acting_as(Actor(user_id=user.pk, name=user.username))


@pytest.fixture
def attesting_baseline(baseline):
    """The promotion baseline's next version adds the manager's attestation."""
    version = policy_version_create(policy=baseline.policy, effective_from=timezone.localdate() - dt.timedelta(days=1))
    for requirement in baseline.requirements.all():
        requirement_add(version=version, kind=requirement.kind, params=requirement.params, label=requirement.label)
    requirement_add(version=version, kind="attestation", params={"role": "manager"}, label="Manager attests")
    return policy_version_publish(version=version, today=version.effective_from)


@pytest.fixture
def case(cycle, org, attesting_baseline) -> Case:
    with as_actor(org["hr_a"]):
        return case_open(cycle=cycle, subject_employee=org["dana"])


def texts(entries) -> list[str]:
    return [entry.text for entry in entries]


def test_the_timeline_tells_the_case_in_time_order_with_names(case, org, promotion):
    two_step_route(promotion)
    story = EvidenceFactory(
        owner=org["dana"], status=EvidenceStatus.VERIFIED, title="Rebuilt the booking form", submitted_at=timezone.now()
    )
    manager = org["manager"].user
    manager.first_name, manager.last_name = "Maria", "Head"
    manager.save()
    case_attest(case=case, by=manager, role="manager", note="She runs the desk.")
    case_step_decide(case=case, by=manager, decision="approve", comment="Recommend")

    entries = case_timeline(Case.objects.get(pk=case.pk), viewer=org["hr_b"])

    assert entries == sorted(entries, key=lambda entry: entry.at)
    assert entries[0].kind == TimelineKind.OPENED
    assert entries[0].actor == "hr-a"
    assert "v2 of" in entries[0].text
    by_text = {entry.text: entry for entry in entries}
    assert by_text["Submitted evidence “Rebuilt the booking form” (version 1)."].url.endswith(f"/evidence/{story.pk}/")
    assert by_text["Attested as manager: “She runs the desk.”"].actor == "Maria Head"
    assert by_text["Approved step 1, Manager recommends: “Recommend”"].actor == "Maria Head"
    assert texts(entries).index("Attested as manager: “She runs the desk.”") < texts(entries).index(
        "Approved step 1, Manager recommends: “Recommend”"
    )
    assert "The case now meets its policy." in texts(entries)


def test_the_subject_sees_the_exception_state_but_not_its_justification(case, org):
    waived = list(Requirement.objects.filter(version__pinned_cases=case).values_list("pk", flat=True))
    exception = case_exception_request(
        case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=waived
    )
    case_exception_decide(exception=exception, by=org["hr_b"], grant=False, note="Stories first, please.")

    hr_view = " ".join(texts(case_timeline(case, viewer=org["hr_b"])))
    subject_view = case_timeline(case, viewer=org["dana"].user)
    subject_text = " ".join(texts(subject_view))

    assert JUSTIFICATION in hr_view and "Stories first, please." in hr_view
    assert JUSTIFICATION not in subject_text and "Stories first, please." not in subject_text
    assert "Exception requested; a second HR person decides it." in subject_text
    assert "Exception refused." in subject_text
    assert all(entry.actor == "" for entry in subject_view if entry.kind == TimelineKind.EXCEPTION)


def test_the_subject_reads_the_justification_when_the_ritual_shares_it(case, org, promotion):
    promotion.share_exception_justification = True
    promotion.save()
    waived = list(Requirement.objects.filter(version__pinned_cases=case).values_list("pk", flat=True))
    case_exception_request(case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=waived)

    assert JUSTIFICATION in " ".join(texts(case_timeline(Case.objects.get(pk=case.pk), viewer=org["dana"].user)))


def test_refused_attempts_by_others_are_internal(case, org):
    with as_actor(org["hr_a"]), pytest.raises(PermissionDenied):
        case_attest(case=case, by=org["hr_a"], role="manager")

    hr_entries = case_timeline(case, viewer=org["hr_b"])
    refused = [entry for entry in hr_entries if entry.kind == TimelineKind.EVENT]
    assert refused and refused[0].internal and refused[0].actor == "hr-a"
    assert "Only the case's manager can attest" in refused[0].text
    assert not [entry for entry in case_timeline(case, viewer=org["dana"].user) if entry.kind == TimelineKind.EVENT]


def test_a_withdrawn_attestation_shows_once_with_its_note(case, org):
    manager = org["manager"].user
    with as_actor(manager):
        attestation = case_attest(case=case, by=manager, role="manager")
        case_attestation_withdraw(attestation=attestation, by=manager, note="Wrong case, sorry.")

    entries = case_timeline(case, viewer=org["dana"].user)

    withdrawals = [entry for entry in entries if "Withdrew" in entry.text]
    assert [entry.text for entry in withdrawals] == ["Withdrew the manager attestation: “Wrong case, sorry.”"]
    assert withdrawals[0].actor == "manager"
    assert not [entry for entry in entries if entry.text.startswith("Removed")]


def test_the_timeline_takes_a_fixed_number_of_queries(case, org, django_assert_max_num_queries):
    def build(n: int) -> None:
        for i in range(n):
            EvidenceFactory(
                owner=org["dana"], status=EvidenceStatus.VERIFIED, submitted_at=timezone.now(), title=f"S{i}"
            )

    build(1)
    # 13: one of them reads the person keys of the events' encrypted values (apps.audit.personal).
    with django_assert_max_num_queries(13):
        short = case_timeline(Case.objects.select_related("cycle__ritual_type").get(pk=case.pk), viewer=org["hr_b"])
    build(20)
    case_attest(case=case, by=org["manager"].user, role="manager")
    waived = list(Requirement.objects.filter(version__pinned_cases=case).values_list("pk", flat=True))
    case_exception_request(case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=waived)
    PolicyException.objects.get()
    with django_assert_max_num_queries(13):
        long = case_timeline(Case.objects.select_related("cycle__ritual_type").get(pk=case.pk), viewer=org["hr_b"])

    assert len(long) > len(short) + 20


def test_the_opener_is_named_like_everyone_else_and_the_decision_follows_its_step(case, org):
    hr = org["hr_a"]
    hr.first_name, hr.last_name = "Hana", "Admin"
    hr.save()
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED, submitted_at=timezone.now())
    case_attest(case=case, by=org["manager"].user, role="manager")
    case_step_decide(case=case, by=org["hr_b"], decision="approve", comment="Criteria met.")

    entries = case_timeline(Case.objects.get(pk=case.pk), viewer=org["hr_b"])

    assert entries[0].kind == TimelineKind.OPENED and entries[0].actor == "Hana Admin"
    kinds = [entry.kind for entry in entries]
    assert kinds[-1] == TimelineKind.DECISION
    assert kinds.index(TimelineKind.STEP) < kinds.index(TimelineKind.DECISION)
