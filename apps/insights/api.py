"""The insights API for source systems and HR: ingest in batches, list and read (filled in by the ingest work)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
