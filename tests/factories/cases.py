"""Factories and helpers for cycles, cases and routes."""

import datetime as dt

import factory
from django.utils import timezone

from apps.cases.models import (
    ApprovalRoute,
    ApprovalStep,
    Attestation,
    Case,
    CaseEvidence,
    Cycle,
    Delegation,
    PolicyException,
    PreviewJob,
    StepRecord,
)
from apps.policies.models import RitualType
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory


class CycleFactory(factory.django.DjangoModelFactory):
    """An open promotion cycle around today."""

    class Meta:
        model = Cycle

    ritual_type = factory.LazyFunction(lambda: RitualType.objects.get(code="promotion"))
    name = factory.Sequence(lambda n: f"Promotions 2026-H2 #{n}")
    opens_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=30))
    evidence_deadline = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=30))
    decision_deadline = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=60))


def two_step_route(ritual_type: RitualType) -> ApprovalRoute:
    """Manager recommends, then HR approves."""
    route = ApprovalRoute.objects.create(ritual_type=ritual_type, name=f"{ritual_type} route")
    ApprovalStep.objects.create(route=route, order=1, name="Manager recommends", role="manager")
    ApprovalStep.objects.create(route=route, order=2, name="HR approves", role="hr")
    return route


class CandidateCaseFactory(factory.django.DjangoModelFactory):
    """An open hiring case about a candidate, nominated by a hiring manager."""

    class Meta:
        model = Case

    cycle = factory.SubFactory(
        CycleFactory, ritual_type=factory.LazyFunction(lambda: RitualType.objects.get(code="hiring"))
    )
    candidate_name = factory.Sequence(lambda n: f"Candidate {n}")
    candidate_email = factory.Sequence(lambda n: f"candidate{n}@example.com")
    nominated_by = factory.SubFactory(EmployeeFactory)
    policy_unit = factory.LazyAttribute(lambda o: o.nominated_by.org_unit)
    opened_at = factory.LazyFunction(timezone.now)
    opened_on = factory.LazyFunction(lambda: timezone.localdate())


class CaseEvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseEvidence

    case = factory.SubFactory(CandidateCaseFactory)
    evidence = factory.SubFactory(EvidenceFactory)
    note = "Shows the candidate's service mindset."


class AttestationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attestation

    case = factory.SubFactory(CandidateCaseFactory)
    role = "hr"
    by = factory.SubFactory(UserFactory)
    note = "HR checked the references."


class PolicyExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyException

    case = factory.SubFactory(CandidateCaseFactory)
    justification = "The candidate built the customer programme at their last company; no stories apply yet."
    requested_by = factory.SubFactory(UserFactory)


class ApprovalRouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalRoute
        django_get_or_create = ("ritual_type",)

    ritual_type = factory.LazyFunction(lambda: RitualType.objects.get(code="recognition"))
    name = "Recognition route"


class ApprovalStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalStep

    route = factory.SubFactory(ApprovalRouteFactory)
    order = factory.Sequence(lambda n: n + 1)
    name = "HR approves"
    role = "hr"


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delegation

    principal = factory.SubFactory(UserFactory)
    delegate = factory.SubFactory(UserFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate())
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))
    reason = "Parental leave"


class StepRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StepRecord

    case = factory.SubFactory(CandidateCaseFactory)
    order = 1
    step_name = "HR approves"
    decision = "approve"
    by = factory.SubFactory(UserFactory)
    comment = "Strong references."


class PreviewJobFactory(factory.django.DjangoModelFactory):
    """A queued preview of a draft version, asked for by a user."""

    class Meta:
        model = PreviewJob

    version = factory.SubFactory("tests.factories.policies.PolicyVersionFactory")
    requested_by = factory.SubFactory(UserFactory)
    as_of = factory.LazyFunction(timezone.localdate)
