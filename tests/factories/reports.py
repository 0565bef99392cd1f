"""Factories for the reports app."""

import factory

from apps.reports.constants import ExportFormat, ExportStatus, ReportKind
from apps.reports.models import ExportJob
from tests.factories.org import UserFactory


class ExportJobFactory(factory.django.DjangoModelFactory):
    """A queued export of the case detail as CSV."""

    class Meta:
        model = ExportJob

    report = ReportKind.CASES
    format = ExportFormat.CSV
    filters = factory.LazyFunction(dict)
    status = ExportStatus.QUEUED
    requested_by = factory.SubFactory(UserFactory)
    rows_expected = 25_000
    download_name = "ritual-criteria-cases-2026-11-25.csv"
