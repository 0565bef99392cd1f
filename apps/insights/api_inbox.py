"""The inbox API: a unit's insights, taking one, closing with no action, responding with evidence."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
