"""Factories for the privacy app."""

import factory

from apps.privacy.constants import ErasureCause, RetentionKind
from apps.privacy.models import CandidateErasure, LegalHold, RetentionRule
from tests.factories.cases import CandidateCaseFactory
from tests.factories.org import EmployeeFactory, UserFactory


class RetentionRuleFactory(factory.django.DjangoModelFactory):
    """The reminder-log rule, made afresh (the data migration made one of each kind, and kinds are unique)."""

    class Meta:
        model = RetentionRule

    kind = RetentionKind.REMINDER_LOGS
    keep_days = 400
    note = "Long enough to answer 'did I get that reminder?' within a year."

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        model_class.objects.filter(kind=kwargs["kind"]).delete()
        return super()._create(model_class, *args, **kwargs)


class LegalHoldFactory(factory.django.DjangoModelFactory):
    """An active hold on an employee."""

    class Meta:
        model = LegalHold

    employee = factory.SubFactory(EmployeeFactory)
    reason = "Employment tribunal claim 2026/114"
    placed_by = factory.SubFactory(UserFactory)


class CandidateErasureFactory(factory.django.DjangoModelFactory):
    """A hiring case whose candidate was erased by hand."""

    class Meta:
        model = CandidateErasure

    case = factory.SubFactory(CandidateCaseFactory, status="rejected")
    cause = ErasureCause.BY_HAND
    erased_by = factory.SubFactory(UserFactory)
