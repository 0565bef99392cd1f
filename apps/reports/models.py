"""Asynchronous exports: a large export runs as a Celery task and leaves a file for a while."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from apps.audit.models import AuditedModel
from apps.audit.querysets import AuditedQuerySet

from .constants import ACTIVE_EXPORT_STATUSES, ExportFormat, ExportStatus, ReportKind


class ExportJobQuerySet(AuditedQuerySet["ExportJob"]):
    """Reusable filters for export jobs."""

    def active(self) -> ExportJobQuerySet:
        return self.filter(status__in=ACTIVE_EXPORT_STATUSES)

    def of_user(self, user: object) -> ExportJobQuerySet:
        return self.filter(requested_by_id=getattr(user, "pk", None))

    def past_retention(self, now: dt.datetime) -> ExportJobQuerySet:
        """Finished jobs whose file should be gone by `now`."""
        return self.filter(status__in=[ExportStatus.DONE, ExportStatus.FAILED], expires_at__lte=now)


class ExportJob(AuditedModel):
    """An export too large to stream in a request: queued, written by a worker, downloaded, then removed."""

    report = models.CharField(max_length=20, choices=ReportKind.choices)
    format = models.CharField(max_length=5, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True, help_text="The report filters, as JSON.")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    rows_expected = models.PositiveIntegerField(null=True, blank=True, help_text="Rows counted when it was asked for.")
    rows_written = models.PositiveIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    download_name = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When the beat task removes the file.")

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.get_report_display()} as {self.get_format_display()} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_EXPORT_STATUSES

    @property
    def is_ready(self) -> bool:
        return self.status == ExportStatus.DONE and bool(self.file)
