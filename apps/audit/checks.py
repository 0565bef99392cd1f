"""System checks: the product's models are audited, through AuditedQuerySet for their default and base managers so
bulk writes are too, and so are the many-to-many tables of audited models."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks

# The product's apps live beside this one (in the same top-level package); Django's and third parties' do not.
_PRODUCT_PACKAGE = __name__.split(".")[0] + "."


@checks.register()
def check_audited_querysets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn about a product model whose default manager can update() rows without audit events."""
    from .querysets import AuditedQuerySet
    from .registry import tracked_app_labels, tracked_models

    registered = tracked_app_labels()
    messages: list[checks.CheckMessage] = []
    for model in tracked_models():
        if model._meta.app_label not in registered:
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


@checks.register()
def check_product_apps_registered(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn about a product app with models that never said what the trail captures of it."""
    from .registry import tracked_app_labels

    registered = tracked_app_labels()
    messages: list[checks.CheckMessage] = []
    for config in apps.get_app_configs():
        if not config.name.startswith(_PRODUCT_PACKAGE) or config.name == __package__:
            continue
        if config.label in registered or next(config.get_models(), None) is None:
            continue
        messages.append(
            checks.Warning(
                f"The app {config.label!r} has models but did not register them with the audit trail, so their "
                "changes escape it.",
                hint="Call apps.audit.registry.register_tracked_app(self) in its AppConfig.ready().",
                obj=config.name,
                id="audit.W002",
            )
        )
    return messages


@checks.register()
def check_audited_models_save_in_a_transaction(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn about a product model whose save outside a transaction could commit without its audit event."""
    from .models import AuditedModel
    from .registry import tracked_app_labels, tracked_models

    registered = tracked_app_labels()
    return [
        checks.Warning(
            f"{model._meta.label} does not derive from AuditedModel, so a save outside a transaction commits the "
            "change before its audit event is written.",
            hint="Derive the model from apps.audit.models.AuditedModel instead of models.Model.",
            obj=model,
            id="audit.W003",
        )
        for model in tracked_models()
        if model._meta.app_label in registered and not issubclass(model, AuditedModel)
    ]


@checks.register()
def check_audited_base_managers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn about a product model whose base manager (`Model._base_manager`) can update() rows without events."""
    from .querysets import AuditedQuerySet
    from .registry import tracked_app_labels, tracked_models

    registered = tracked_app_labels()
    return [
        checks.Warning(
            f"{model._meta.label}'s base manager ({model._base_manager.name}) does not use AuditedQuerySet, so "
            "`_base_manager.update()`, a reverse foreign key's add() and on_delete=SET_NULL would change rows "
            "without audit events.",
            hint="Derive the model from AuditedModel (its base manager is `objects`), or set "
            "Meta.base_manager_name to a manager whose queryset subclasses AuditedQuerySet.",
            obj=model,
            id="audit.W004",
        )
        for model in tracked_models()
        if model._meta.app_label in registered and not isinstance(model._base_manager.all(), AuditedQuerySet)
    ]


@checks.register()
def check_many_to_many_tables_audited(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn about a many-to-many table of an audited model whose rows could change without an event."""
    from .registry import tracked_m2m, tracked_spec

    messages: list[checks.CheckMessage] = []
    seen: set[type] = set()
    for model in apps.get_models():
        if tracked_spec(model) is None:
            continue
        fields = [f for f in model._meta.get_fields(include_hidden=True) if f.many_to_many]
        for field in fields:
            through = field.remote_field.through if field.concrete else field.through  # type: ignore[union-attr]
            if through is None or through in seen:
                continue
            seen.add(through)
            covered = tracked_m2m(through) is not None if through._meta.auto_created else tracked_spec(through)
            if covered:
                continue
            messages.append(
                checks.Warning(
                    f"The many-to-many table {through._meta.db_table} of {model._meta.label} is not audited: "
                    "adding or removing its links leaves no event.",
                    hint="Declare the field on an audited model (its auto-created table is then captured), or give "
                    "it an explicit through model in an app registered with the audit trail.",
                    obj=through,
                    id="audit.W005",
                )
            )
    return messages
