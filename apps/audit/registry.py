"""What the trail captures and which actions it knows: each app registers its own, so the trail names none of them.

An app calls, in its own `AppConfig.ready()`::

    register_tracked_app(self, exclude=["somequeue"])   # every concrete model of the app, but these
    register_actions(MyAuditAction)                     # its domain events (a TextChoices)

The audit app is installed before the apps that register (its admin template must win), so its `ready()` runs
first: registrations only record, and the scan of the models runs again on the first use after a registration
changed (at the latest once every `ready()` has run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.apps import AppConfig, apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Model

from .constants import MASKED_FIELDS, TRACKED_EXTRA_MODELS, AuditAction


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


@dataclass(frozen=True, slots=True)
class _Scan:
    """The audited models as found for one set of registrations."""

    generation: int
    models: dict[type[Model], TrackedModel]
    many_to_many: dict[type[Model], TrackedManyToMany]


# Registered apps: app label -> names of its models that are not audited (lower case, as in `_meta.model_name`).
_tracked_apps: dict[str, frozenset[str]] = {}
# Known actions: value -> label, and which choices class brought each value (a value belongs to one app).
_action_labels: dict[str, str] = {}
_action_owners: dict[str, type[models.TextChoices]] = {}
# Bumped by every registration; a scan made for an older generation is made again on next use.
_generation = 0
_scan: _Scan | None = None
_lock = threading.Lock()


# Actions ----------------------------------------------------------------------------------------------------------


def register_actions(choices: type[models.TextChoices]) -> None:
    """Make an app's audit actions known to `audit_record()` and the admin; registering twice is harmless."""
    with _lock:
        for value in choices.values:
            owner = _action_owners.get(value)
            if owner is not None and owner is not choices:
                raise ImproperlyConfigured(
                    f"Audit action {value!r} of {choices.__qualname__} is already registered by {owner.__qualname__}."
                )
        for value, label in choices.choices:
            _action_owners[value] = choices
            _action_labels[value] = str(label)


def is_known_action(action: str) -> bool:
    """Whether some app registered this action (the trail's own actions are always known)."""
    return action in _action_labels


def action_label(action: str) -> str:
    """The human label of an action; an action no longer registered (an old event) shows as its value."""
    return _action_labels.get(action, action)


def action_choices() -> list[tuple[str, str]]:
    """(value, label) of every known action, by label: what the admin offers to filter on."""
    return sorted(_action_labels.items(), key=lambda item: item[1].lower())


# The trail's own, generic actions; domain events are registered by their apps.
register_actions(AuditAction)


# Tracked models ---------------------------------------------------------------------------------------------------


def register_tracked_app(app_config: AppConfig, *, exclude: Iterable[str] = ()) -> None:
    """Audit every concrete model of this app, models added later included, except the `exclude`d model names.

    Call it from the app's `AppConfig.ready()`. Exclude only what repeats an audited event (a work queue whose
    rows live for seconds), and say why where you call it.
    """
    global _generation
    excluded = frozenset(name.lower() for name in exclude)
    with _lock:
        if _tracked_apps.get(app_config.label) != excluded:
            _tracked_apps[app_config.label] = excluded
            _generation += 1


def tracked_app_labels() -> frozenset[str]:
    """Labels of the apps that registered their models (not those of single extra models such as auth.user)."""
    return frozenset(_tracked_apps)


def label_of(model: type[models.Model] | models.Model) -> str:
    """Return 'app_label.model_name' of a model or instance (of the concrete model for a proxy)."""
    return model._meta.concrete_model._meta.label_lower  # type: ignore[union-attr]


def _concrete(model: type[models.Model]) -> type[models.Model]:
    """The model itself, or a proxy's concrete model (Django sets it on every model that is not abstract)."""
    concrete = model._meta.concrete_model
    if concrete is None:
        raise ImproperlyConfigured(f"{model._meta.label} is abstract: it has no table to audit.")
    return concrete


def _is_tracked(model: type[models.Model]) -> bool:
    opts = model._meta
    if opts.abstract or opts.auto_created or opts.swapped:
        return False
    concrete = _concrete(model)._meta
    if concrete.label_lower in TRACKED_EXTRA_MODELS:
        return True
    excluded = _tracked_apps.get(concrete.app_label)
    return excluded is not None and concrete.model_name not in excluded


def _describe(model: type[models.Model]) -> TrackedModel:
    concrete = _concrete(model)
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


def _check_exclusions() -> None:
    for app_label, excluded in _tracked_apps.items():
        names = {model._meta.model_name for model in apps.get_app_config(app_label).get_models()}
        unknown = sorted(excluded - names)
        if unknown:
            raise ImproperlyConfigured(f"register_tracked_app({app_label!r}) excludes unknown models: {unknown}.")


def _scan_models(generation: int) -> _Scan:
    _check_exclusions()
    found: dict[type[models.Model], TrackedModel] = {}
    for model in apps.get_models():
        if not _is_tracked(model):
            continue
        concrete = _concrete(model)
        spec = found.get(concrete) or _describe(concrete)
        found[concrete] = spec
        found[model] = spec
    many_to_many: dict[type[models.Model], TrackedManyToMany] = {}
    for spec in {id(s): s for s in found.values()}.values():
        for field in spec.model._meta.local_many_to_many:
            through = field.remote_field.through
            if through is None or not through._meta.auto_created:
                continue  # an explicit through model is a tracked model of its own
            # The two columns of an auto-created through model are foreign keys.
            source = cast("models.ForeignKey[Any, Any]", through._meta.get_field(field.m2m_field_name()))
            target = cast("models.ForeignKey[Any, Any]", through._meta.get_field(field.m2m_reverse_field_name()))
            many_to_many[through] = TrackedManyToMany(
                source=spec, field=field, source_attname=source.attname, target_attname=target.attname
            )
    return _Scan(generation=generation, models=found, many_to_many=many_to_many)


def build_registry() -> None:
    """Find the audited models (and their proxies and many-to-many tables) among those registered so far.

    Safe to call from any `ready()`: an app that registers later makes the next use scan again.
    """
    _rebuild()


def _rebuild() -> _Scan:
    global _scan
    with _lock:
        scan = _scan = _scan_models(_generation)
    return scan


def _current() -> _Scan:
    scan = _scan
    if scan is None or scan.generation != _generation:
        scan = _rebuild()
    return scan


def tracked_spec(model: type[models.Model]) -> TrackedModel | None:
    """Return how `model` is captured, or None when it is not audited."""
    return _current().models.get(model)


def tracked_models() -> list[type[models.Model]]:
    """Every audited concrete model, sorted by label."""
    return sorted({spec.model for spec in _current().models.values()}, key=lambda m: m._meta.label_lower)


def tracked_m2m(through: type[models.Model]) -> TrackedManyToMany | None:
    """Return how changes to a many-to-many table are captured, or None."""
    return _current().many_to_many.get(through)


# Personal fields ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonalFields:
    """Which values of a model's events are one person's personal data, and whose (apps.audit.personal)."""

    label: str
    fields: frozenset[str]
    # The person the values belong to, as ('app_label.model_name', primary key); None when there is none.
    person: Callable[[Any], tuple[str, Any] | None]
    # The same for many rows at once, in a fixed number of queries (bulk writes); None: `person` row by row.
    people: Callable[[Sequence[Any]], list[tuple[str, Any] | None]] | None = None


# Model label -> its registrations, in order; read with one dict lookup per event, so unregistered models cost nothing.
_personal: dict[str, tuple[PersonalFields, ...]] = {}


def register_personal_fields(
    model_label: str,
    *,
    fields: Iterable[str],
    person: Callable[[Any], tuple[str, Any] | None],
    people: Callable[[Sequence[Any]], list[tuple[str, Any] | None]] | None = None,
) -> None:
    """Store these fields' values (old and new) encrypted with the person's key on every event of the model, so
    erasing the person (`apps.audit.personal.person_erase`) makes them unreadable while the chain still verifies.

    A model may have several registrations, each for the fields of its own person (a reminder's address is its
    recipient's, its text about the case's subject): a field takes the key of the first registration, in order,
    whose person is known for the row, and the object's text (`object_repr`) the key of the first such
    registration. Registering the same fields again replaces that registration. Call it from `AppConfig.ready()`.

    `model_label` is "app_label.ModelName" in any case; `person(obj)` returns ("app_label.model_name", pk) or None;
    `people(objs)`, if given, the same for many rows in a fixed number of queries (bulk writes use it).
    """
    label = model_label.lower()
    entry = PersonalFields(label=label, fields=frozenset(fields), person=person, people=people)
    with _lock:
        current = list(_personal.get(label, ()))
        same = [i for i, registered in enumerate(current) if registered.fields == entry.fields]
        if same:
            current[same[0]] = entry
        else:
            current.append(entry)
        _personal[label] = tuple(current)


def replace_personal_fields(model_label: str, registrations: Iterable[PersonalFields]) -> None:
    """Make `registrations` the model's only ones, in this order (none: its values are stored as they are)."""
    label = model_label.lower()
    found = tuple(registrations)
    with _lock:
        if found:
            _personal[label] = found
        else:
            _personal.pop(label, None)


def personal_fields(label: str) -> tuple[PersonalFields, ...] | None:
    """The registrations of a model label ('app_label.model_name'), in order, or None when it has none."""
    return _personal.get(label)


def personal_labels() -> frozenset[str]:
    """The labels of every model with personal fields registered."""
    return frozenset(_personal)


def _user_is_the_person(user: Any) -> tuple[str, Any]:
    return ("auth.user", user.pk)


# Django's own users are audited by the trail itself (TRACKED_EXTRA_MODELS), so their personal fields are declared
# here (apps.privacy replaces this with the data map's fuller list); the product's apps declare theirs.
register_personal_fields(
    "auth.User", fields=("username", "first_name", "last_name", "email"), person=_user_is_the_person
)
