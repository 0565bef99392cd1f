"""Policy preview: which open cases would flip if a draft were in force; inline for small scopes, else as a job."""

from .compute import Preview, PreviewRow, policy_preview
from .jobs import FlipFilters, preview_case_count, preview_flips, preview_job_request, preview_job_run, preview_progress

__all__ = [
    "FlipFilters",
    "Preview",
    "PreviewRow",
    "policy_preview",
    "preview_case_count",
    "preview_flips",
    "preview_job_request",
    "preview_job_run",
    "preview_progress",
]
