"""Exports: prepare, audit and write them; queue the large ones as jobs, run them, and remove old files."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import uuid
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from apps.audit.constants import AuditAction
from apps.audit.services import audit_record
from apps.common.context import Actor, acting_as, get_request_id

from .constants import ACTIVE_EXPORT_STATUSES, PROGRESS_CACHE_KEY, ExportStatus, ReportKind
from .filters import ReportFilters
from .models import ExportJob
from .renderers import Renderer, Section, renderer_for
from .selectors import Reports, reports_get
from .sizing import ExportEstimate, export_estimate
from .tables import case_sections, report_sections

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class PreparedExport:
    """An export ready to write: its estimated cost, download name and (built when first read) its sections.

    Nothing of the report runs until `sections` is read: the decision to run it as a job (`is_large`) needs only
    the estimate, so a large export costs the request a couple of counts, not the report itself.
    """

    kind: str
    renderer: Renderer
    filters: ReportFilters
    filename: str
    estimate: ExportEstimate
    reports: Reports
    built: list[Section] | None = None
    counted: int | None = None

    @property
    def is_large(self) -> bool:
        """More work than a request should do (REPORTS_ASYNC_EXPORT_ROWS row-equivalents): run it as a job."""
        return self.estimate.work > settings.REPORTS_ASYNC_EXPORT_ROWS

    @property
    def sections(self) -> list[Section]:
        """The report's sections (computed now if not yet); a case detail's rows stay a stream."""
        if self.built is None:
            if self.kind == ReportKind.CASES:
                self.built = case_sections(self.reports.case_detail())
            else:
                self.built = report_sections(self.kind, self.reports)
                self.counted = 0
                for section in self.built:
                    section.rows = listed = list(section.rows)
                    self.counted += len(listed)
        return self.built

    @property
    def rows(self) -> int:
        """The rows written or computed so far, else the rows expected (exact for the case detail)."""
        return self.estimate.rows if self.counted is None else self.counted

    @rows.setter
    def rows(self, value: int) -> None:
        self.counted = value


def export_filename(*, kind: str, filters: ReportFilters, renderer: Renderer, reports: Reports) -> str:
    """A download name that says what is inside, e.g. 'ritual-criteria-cases-promotions-h2-2026-11-25.xlsx'."""
    parts = ["ritual-criteria", kind.replace("_", "-")]
    if filters.cycle_id is not None:
        from apps.cases.models import Cycle

        name = Cycle.objects.filter(pk=filters.cycle_id).values_list("name", flat=True).first()
        parts.append(slugify(name or f"cycle-{filters.cycle_id}"))
    elif filters.cycle_ids:
        parts.append(f"{len(filters.cycle_ids)}-cycles")
    if filters.unit_id is not None:
        parts.append(slugify(reports.tree.name_of.get(filters.unit_id, f"unit-{filters.unit_id}")))
    parts.append(reports.today.isoformat())
    return f"{'-'.join(parts)}.{renderer.extension}"


def export_prepare(*, kind: str, export_format: str, filters: ReportFilters, today: dt.date) -> PreparedExport:
    """Estimate the export's cost and name it; the report itself runs only when its sections are read."""
    if kind not in ReportKind.values:
        raise ValueError(f"Unknown report {kind!r}; choose one of {', '.join(ReportKind.values)}.")
    renderer = renderer_for(export_format)
    reports = reports_get(filters=filters, today=today)
    return PreparedExport(
        kind=kind,
        renderer=renderer,
        filters=filters,
        filename=export_filename(kind=kind, filters=filters, renderer=renderer, reports=reports),
        estimate=export_estimate(kind=kind, export_format=renderer.format, filters=filters, tree=reports.tree),
        reports=reports,
    )


def export_record(*, export: PreparedExport, destination: str, job: ExportJob | None = None, **extra: Any) -> None:
    """Write the EXPORT_MADE audit event: who, which report and filters, how many rows, where to."""
    if export.kind != ReportKind.CASES:
        export.sections  # noqa: B018 - computes the report, so the event carries its exact row count
    audit_record(
        action=AuditAction.EXPORT_MADE,
        obj=job,
        object_type=None if job else "reports.report",
        object_repr=f"{ReportKind(export.kind).label}: {export.rows} rows as {export.renderer.format.upper()}",
        context={
            "report": export.kind,
            "format": export.renderer.format,
            "filters": export.filters.as_json(),
            "rows": export.rows,
            "to": destination,
            "file": export.filename,
            **extra,
        },
    )


def export_write(*, export: PreparedExport, target: IO[bytes], destination: str) -> int:
    """Record the export, then write it to an open binary file (the command's path); return the rows written."""
    with transaction.atomic():
        export_record(export=export, destination=destination)
    return export.renderer.write(export.sections, target)


@transaction.atomic
def export_job_request(*, by: User, export: PreparedExport) -> ExportJob:
    """Queue a large export: the job row now, the Celery task once the row is committed."""
    from .tasks import export_run

    job = ExportJob.objects.create(
        report=export.kind,
        format=export.renderer.format,
        filters=export.filters.as_json(),
        requested_by=by,
        rows_expected=export.rows,
        download_name=export.filename,
    )
    transaction.on_commit(lambda: export_run.delay(job.pk))
    return job


def export_progress(job: ExportJob) -> int | None:
    """Rows written so far by a running job (kept in the cache, not on the audited row), or None."""
    if job.status != ExportStatus.RUNNING:
        return job.rows_written if job.status == ExportStatus.DONE else None
    progress: int | None = cache.get(PROGRESS_CACHE_KEY.format(job_id=job.pk))
    return progress


def _claim(job_id: int) -> ExportJob | None:
    """Mark a queued job running (a redelivered running one is run again: the result is the same file)."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in ACTIVE_EXPORT_STATUSES:
            return None
        job.status = ExportStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
        return job


def _requester(job: ExportJob) -> Actor:
    user = job.requested_by
    if user is None:
        return Actor(user_id=None, name="a former user")
    return Actor(user_id=user.pk, name=user.get_username())


def export_job_run(*, job_id: int, today: dt.date | None = None) -> ExportJob | None:
    """Write a queued export to storage and record it; a missing or finished job is left alone."""
    job = _claim(job_id)
    if job is None:
        return None
    progress_key = PROGRESS_CACHE_KEY.format(job_id=job.pk)
    retention = dt.timedelta(hours=settings.REPORTS_EXPORT_RETENTION_HOURS)
    try:
        export = export_prepare(
            kind=job.report,
            export_format=job.format,
            filters=ReportFilters.from_json(job.filters),
            today=today or timezone.localdate(),
        )
        with tempfile.TemporaryFile() as scratch:
            rows = export.renderer.write(
                export.sections,
                scratch,
                progress=lambda n: cache.set(progress_key, n, timeout=int(retention.total_seconds())),
            )
            size = scratch.tell()
            scratch.seek(0)
            with transaction.atomic():
                job.file.save(f"{uuid.uuid4().hex}.{export.renderer.extension}", File(scratch), save=False)
                job.status = ExportStatus.DONE
                job.rows_written = rows
                job.file_size = size
                job.download_name = export.filename
                job.finished_at = timezone.now()
                job.expires_at = job.finished_at + retention
                job.save()
                export.rows = rows
                with acting_as(_requester(job), request_id=get_request_id()):
                    export_record(export=export, destination="file (asynchronous export)", job=job, job_id=job.pk)
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)
        job.status = ExportStatus.FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = timezone.now()
        job.expires_at = job.finished_at + retention
        job.save()
    finally:
        cache.delete(progress_key)
    return job


def export_jobs_cleanup(*, now: dt.datetime | None = None, only: QuerySet[ExportJob] | None = None) -> int:
    """Remove the files of jobs past their retention (status 'expired'), and fail jobs that never finished
    within the retention period (a lost worker); return how many jobs changed.

    With `only` (HR's "remove now" admin action), those finished jobs lose their file whatever their retention.
    """
    now = now or timezone.now()
    changed = 0
    expired = (
        only.filter(status__in=[ExportStatus.DONE, ExportStatus.FAILED])
        if only is not None
        else ExportJob.objects.past_retention(now)
    )
    for job in expired:
        with transaction.atomic():
            if job.file:
                job.file.delete(save=False)
            job.status = ExportStatus.EXPIRED
            job.save()
        changed += 1
    if only is not None:
        return changed
    retention = dt.timedelta(hours=settings.REPORTS_EXPORT_RETENTION_HOURS)
    for job in ExportJob.objects.active().filter(created_at__lte=now - retention):
        job.status = ExportStatus.FAILED
        job.error = f"Did not finish within {settings.REPORTS_EXPORT_RETENTION_HOURS} hours."
        job.finished_at = now
        job.expires_at = now
        job.save()
        changed += 1
    return changed
