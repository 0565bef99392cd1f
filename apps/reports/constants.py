"""Choices and fixed values of the compliance reports and their exports."""

from django.db import models


class ReportKind(models.TextChoices):
    """What an export contains: one report, every report, or one row per case."""

    COMPLIANCE = "compliance", "Compliance by cycle, unit and customer layer"
    EVIDENCE_MIX = "evidence_mix", "Evidence mix"
    REVIEW_HEALTH = "review_health", "Review health"
    BOUNDARY = "boundary", "Boundary: units without verified evidence"
    INVENTORY = "inventory", "Requirements inventory (group additions)"
    UNMET = "unmet", "Unmet requirements ranking"
    INSIGHTS = "insights", "Customer insights: responses by unit"
    SUMMARY = "summary", "All reports"
    CASES = "cases", "Case detail (one row per case)"


class ExportFormat(models.TextChoices):
    """File formats of an export."""

    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ExportStatus(models.TextChoices):
    """Life of an asynchronous export: queued, running, then done (file kept for a while) or failed."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file removed)"


ACTIVE_EXPORT_STATUSES = frozenset({ExportStatus.QUEUED, ExportStatus.RUNNING})

# Cells a requirement column shows in the case detail.
MET = "met"
UNMET = "not met"
# Rows read per round trip by the streaming case-detail export (server-side cursors on PostgreSQL).
STREAM_CHUNK_SIZE = 2000
# Progress of a running export is written to the cache every this many rows (not to the audited job row).
PROGRESS_EVERY_ROWS = 1000
PROGRESS_CACHE_KEY = "reports:export-progress:{job_id}"
# Storage folder of export files (default storage, never served publicly: downloads check who asks).
EXPORT_STORAGE_DIR = "exports"
