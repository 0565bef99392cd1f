"""Policy preview jobs: queue a preview, run it in chunks with progress, and read its flips."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.policies.models import PolicyVersion

from ..constants import ACTIVE_PREVIEW_STATUSES, PREVIEW_CHUNK_SIZE, PREVIEW_PROGRESS_CACHE_KEY, PreviewStatus
from ..models import Case, PreviewFlip, PreviewJob
from .compute import preview_chunk, preview_chunk_ids, preview_plan, preview_scope

logger = logging.getLogger(__name__)
# A running job's progress outlives any reasonable run; the key is deleted when the job ends.
PROGRESS_TIMEOUT = 24 * 3600


def preview_case_count(*, version: PolicyVersion) -> int:
    """How many open cases a preview of `version` would examine (decides inline or background)."""
    return preview_scope(preview_plan(version=version)).count()


@transaction.atomic
def preview_job_request(*, version: PolicyVersion, by: User, today: dt.date) -> PreviewJob:
    """Queue a preview of `version`: the job row now, the Celery task once the row is committed."""
    from ..tasks import preview_run

    job = PreviewJob.objects.create(version=version, requested_by=by, as_of=today)
    transaction.on_commit(lambda: preview_run.delay(job.pk))
    return job


def preview_progress(job: PreviewJob) -> int | None:
    """Cases evaluated so far by a running job (kept in the cache, not on the audited row), or None."""
    if job.status == PreviewStatus.DONE:
        return job.examined
    if job.status != PreviewStatus.RUNNING:
        return None
    done: int | None = cache.get(PREVIEW_PROGRESS_CACHE_KEY.format(job_id=job.pk))
    return done if done is not None else 0


def _claim(job_id: int) -> PreviewJob | None:
    """Mark a queued job running and count its cases (a redelivered running job starts again from scratch)."""
    with transaction.atomic():
        job = PreviewJob.objects.select_for_update().select_related("version__policy").filter(pk=job_id).first()
        if job is None or job.status not in ACTIVE_PREVIEW_STATUSES:
            return None
        job.flip_rows.all().delete()
        job.status = PreviewStatus.RUNNING
        job.started_at = timezone.now()
        job.total = preview_case_count(version=job.version)
        job.save(update_fields=["status", "started_at", "total"])
        return job


def preview_job_run(*, job_id: int, chunk_size: int = PREVIEW_CHUNK_SIZE) -> PreviewJob | None:
    """Run a queued preview chunk by chunk, storing each chunk's flips; a missing or finished job is left alone.

    Memory holds one chunk of cases; the job row is written at the start and at the end (progress goes to the
    cache), and an error ends the job as failed with its message, keeping no partial result.
    """
    job = _claim(job_id)
    if job is None:
        return None
    key = PREVIEW_PROGRESS_CACHE_KEY.format(job_id=job.pk)
    try:
        plan = preview_plan(version=job.version)
        examined = would_fail = would_pass = 0
        for ids in preview_chunk_ids(plan, chunk_size=chunk_size):
            flips = preview_chunk(plan, ids, today=job.as_of)
            where = {
                pk: (cycle_id, unit_id)
                for pk, cycle_id, unit_id in Case.objects.filter(pk__in=[f.case_id for f in flips]).values_list(
                    "pk", "cycle_id", "policy_unit_id"
                )
            }
            PreviewFlip.objects.bulk_create(
                PreviewFlip(
                    job=job,
                    case_id=flip.case_id,
                    cycle_id=where[flip.case_id][0],
                    unit_id=where[flip.case_id][1],
                    would_be_compliant=flip.would_be_compliant,
                    newly_unmet=list(flip.newly_unmet),
                    newly_met=list(flip.newly_met),
                )
                for flip in flips
            )
            examined += len(ids)
            would_pass += sum(1 for flip in flips if flip.would_be_compliant)
            would_fail += sum(1 for flip in flips if not flip.would_be_compliant)
            cache.set(key, examined, timeout=PROGRESS_TIMEOUT)
        with transaction.atomic():
            job.status = PreviewStatus.DONE
            job.examined, job.would_fail, job.would_pass = examined, would_fail, would_pass
            job.total = max(job.total, examined)
            job.finished_at = timezone.now()
            job.save()
    except Exception as exc:
        logger.exception("preview job %s failed", job.pk)
        PreviewFlip.objects.filter(job=job).delete()
        job.status = PreviewStatus.FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = timezone.now()
        job.save()
    finally:
        cache.delete(key)
    return job


@dataclass(frozen=True, slots=True)
class FlipFilters:
    """Filters of a preview's result page: direction ('fail' or 'pass'), policy unit, cycle."""

    direction: str = ""
    unit_id: int | None = None
    cycle_id: int | None = None


def preview_flips(*, job: PreviewJob, filters: FlipFilters) -> QuerySet[PreviewFlip]:
    """A job's flips, filtered, with what a row shows loaded (a page is one query plus its count)."""
    flips = PreviewFlip.objects.filter(job=job)
    if filters.direction in ("fail", "pass"):
        flips = flips.filter(would_be_compliant=filters.direction == "pass")
    if filters.unit_id is not None:
        flips = flips.filter(unit_id=filters.unit_id)
    if filters.cycle_id is not None:
        flips = flips.filter(cycle_id=filters.cycle_id)
    return flips.select_related("case__subject_employee", "case__subject_unit", "cycle", "unit").order_by("case_id")
