"""Ritual Criteria: business-ritual criteria that demand customer-impact evidence."""

from .celery import app as celery_app

__all__ = ("celery_app",)
