"""Which models the trail captures: every concrete model of the product apps, found when Django starts."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models

from .constants import MASKED_FIELDS, TRACKED_APP_LABELS, TRACKED_EXTRA_MODELS, UNTRACKED_MODELS


@dataclass(frozen=True, slots=True)
class TrackedModel:
    """How one audited model is captured."""

    model: type[models.Model]
    label: str
    fields: tuple[models.Field, ...]
    masked: frozenset[str]
    # A save that changes nothing but these (auto_now timestamps) is not worth an event.
    auto_now: frozenset[str]
    pk_has_default: bool
    attnames: tuple[str, ...]
    # (name, attname) of every field, in `fields` order: what a create event lists.
    names: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TrackedManyToMany:
    """An auto-created many-to-many table whose changes are recorded as updates of the source model."""

    source: TrackedModel
    field: models.ManyToManyField
    source_attname: str
    target_attname: str


_models: dict[type[models.Model], TrackedModel] = {}
_many_to_many: dict[type[models.Model], TrackedManyToMany] = {}


def label_of(model: type[models.Model] | models.Model) -> str:
    """Return 'app_label.model_name' of a model or instance (of the concrete model for a proxy)."""
    return model._meta.concrete_model._meta.label_lower  # type: ignore[union-attr]


def _is_tracked(model: type[models.Model]) -> bool:
    opts = model._meta
    if opts.abstract or opts.auto_created or opts.swapped:
        return False
    concrete = opts.concrete_model._meta
    if concrete.label_lower in UNTRACKED_MODELS:
        return False
    return concrete.app_label in TRACKED_APP_LABELS or concrete.label_lower in TRACKED_EXTRA_MODELS


def _describe(model: type[models.Model]) -> TrackedModel:
    concrete = model._meta.concrete_model
    label = concrete._meta.label_lower
    fields = tuple(concrete._meta.concrete_fields)
    return TrackedModel(
        model=concrete,
        label=label,
        fields=fields,
        masked=MASKED_FIELDS.get(label, frozenset()),
        auto_now=frozenset(f.name for f in fields if getattr(f, "auto_now", False)),
        pk_has_default=concrete._meta.pk.has_default() or bool(getattr(concrete._meta.pk, "db_default", None)),
        attnames=tuple(f.attname for f in fields),
        names=tuple((f.name, f.attname) for f in fields),
    )


def build_registry() -> None:
    """Find the audited models (and their proxies and many-to-many tables); called once at start-up."""
    _models.clear()
    _many_to_many.clear()
    for model in apps.get_models():
        if not _is_tracked(model):
            continue
        concrete = model._meta.concrete_model
        spec = _models.get(concrete) or _describe(concrete)
        _models[concrete] = spec
        _models[model] = spec
    for spec in {id(s): s for s in _models.values()}.values():
        for field in spec.model._meta.local_many_to_many:
            through = field.remote_field.through
            if not through._meta.auto_created:
                continue  # an explicit through model is a tracked model of its own
            _many_to_many[through] = TrackedManyToMany(
                source=spec,
                field=field,
                source_attname=through._meta.get_field(field.m2m_field_name()).attname,
                target_attname=through._meta.get_field(field.m2m_reverse_field_name()).attname,
            )


def tracked_spec(model: type[models.Model]) -> TrackedModel | None:
    """Return how `model` is captured, or None when it is not audited."""
    return _models.get(model)


def tracked_models() -> list[type[models.Model]]:
    """Every audited concrete model, sorted by label."""
    return sorted({spec.model for spec in _models.values()}, key=lambda m: m._meta.label_lower)


def tracked_senders() -> list[type[models.Model]]:
    """Every class whose signals are captured: audited concrete models and their proxies."""
    return list(_models)


def tracked_many_to_many() -> dict[type[models.Model], TrackedManyToMany]:
    """The audited auto-created many-to-many tables, by through model."""
    return dict(_many_to_many)


def tracked_m2m(through: type[models.Model]) -> TrackedManyToMany | None:
    """Return how changes to a many-to-many table are captured, or None."""
    return _many_to_many.get(through)
