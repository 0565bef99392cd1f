"""Pages of the leadership dashboard: the first screen, its drill-down tables, downloads and export jobs."""

from .exports import export, job_download, job_status
from .pages import dashboard, table

__all__ = ["dashboard", "export", "job_download", "job_status", "table"]
