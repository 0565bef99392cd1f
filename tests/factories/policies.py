"""Factories for the policies app."""

import datetime as dt

import factory

from apps.policies.constants import CategoryKind, SubjectKind
from apps.policies.models import (
    EvidenceCategory,
    Policy,
    PolicyVersion,
    Requirement,
    RequirementTemplate,
    RitualType,
)


class RitualTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RitualType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ritual-{n}")
    name = factory.Sequence(lambda n: f"Ritual {n}")
    subject_kind = SubjectKind.EMPLOYEE


class EvidenceCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvidenceCategory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category_{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    kind = CategoryKind.STORY


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    ritual_type = factory.SubFactory(RitualTypeFactory)
    scope = None
    name = factory.Sequence(lambda n: f"Policy {n}")


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    """A draft version; publish it with the service to get a published one."""

    class Meta:
        model = PolicyVersion

    policy = factory.SubFactory(PolicyFactory)
    effective_from = factory.LazyFunction(lambda: dt.date.today())


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    version = factory.SubFactory(PolicyVersionFactory)
    kind = "min_evidence"
    params = factory.LazyFunction(
        lambda: {"count": 1, "categories": [], "customer_type": "any", "touchpoints": [], "within_days": None}
    )


class RequirementTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequirementTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    kind = "customer_voice"
    params = factory.LazyFunction(lambda: {"count": 1, "within_days": 365})
