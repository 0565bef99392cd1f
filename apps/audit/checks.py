"""System check: every audited model of the product uses AuditedQuerySet, so its bulk writes are audited."""

from __future__ import annotations

from typing import Any

from django.core import checks

from .constants import TRACKED_APP_LABELS


@checks.register()
def check_audited_querysets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn about a product model whose default manager can update() rows without audit events."""
    from .querysets import AuditedQuerySet
    from .registry import tracked_models

    messages: list[checks.CheckMessage] = []
    for model in tracked_models():
        if model._meta.app_label not in TRACKED_APP_LABELS:
            continue  # auth.User and auth.Group keep Django's managers
        if not isinstance(model._default_manager.all(), AuditedQuerySet):
            messages.append(
                checks.Warning(
                    f"{model._meta.label}'s default manager does not use AuditedQuerySet, so its update() and "
                    "bulk_update() would change rows without audit events.",
                    hint="Give the model `objects = <YourQuerySet subclassing AuditedQuerySet>.as_manager()`.",
                    obj=model,
                    id="audit.W001",
                )
            )
    return messages
