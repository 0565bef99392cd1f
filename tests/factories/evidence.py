"""Factories for the evidence app: a complete, valid draft by default."""

import datetime as dt

import factory

from apps.evidence.constants import CustomerType, EvidenceStatus, SourceType
from apps.evidence.models import Attachment, Evidence, SolicitationPhrase
from apps.policies.models import EvidenceCategory
from tests.factories.org import EmployeeFactory


def category(code: str = "customer_story") -> EvidenceCategory:
    """A built-in category (created by the data migration)."""
    return EvidenceCategory.objects.get(code=code)


class EvidenceFactory(factory.django.DjangoModelFactory):
    """A draft customer story ready to submit; pass status=... for other states."""

    class Meta:
        model = Evidence

    owner = factory.SubFactory(EmployeeFactory)
    category = factory.LazyFunction(category)
    title = factory.Sequence(lambda n: f"Fixed the accessible-room booking form #{n}")
    customer_quote = "I could not book a room for my wheelchair on your site."
    source_type = SourceType.SUPPORT_TICKET
    source_reference = factory.Sequence(lambda n: f"TCK-{1000 + n}")
    interpretation = "Accessible rooms were invisible to online guests."
    response = "Rebuilt the filter and called the guest back."
    customer_type = CustomerType.EXTERNAL
    impact_date = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=30))
    status = EvidenceStatus.DRAFT


class OperationalMetricEvidenceFactory(EvidenceFactory):
    """An operational KPI improvement with baseline and result."""

    category = factory.LazyFunction(lambda: category("operational_kpi"))
    title = "First-contact resolution on the phone line"
    metric_name = "First-contact resolution"
    metric_kind = "operational"
    baseline = 61
    result = 74
    metric_unit = "%"
    direction = "increase"
    metric_period = "Q1 vs Q3"


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    evidence = factory.SubFactory(EvidenceFactory)
    file = factory.django.FileField(filename="note.txt", data=b"Customer call notes\n")
    original_name = "note.txt"
    content_type = "text/plain"
    size = 20
    sha256 = "0" * 64


class SolicitationPhraseFactory(factory.django.DjangoModelFactory):
    """A company-specific phrase HR added: plain words, English, a request."""

    class Meta:
        model = SolicitationPhrase

    phrase = factory.Sequence(lambda n: f"please help our team number {n}")
    kind = "request"
    language = "en"
    description = "Company-specific phrasing"
