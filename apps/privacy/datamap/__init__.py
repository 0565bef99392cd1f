"""The data map: every model and field that holds personal data, what it is for, its legal basis and retention.

`DATA_MAP` classifies every concrete field of the product's models and of the framework tables that hold people's
data (users, sessions, tokens, sign-in records, the admin log, the audit trail); `tests/privacy/test_datamap.py`
fails when a field is not classified or the map names one that does not exist, and `docs/privacy.md` is generated
from it (`manage.py privacy_datamap --write docs/privacy.md`). Erasure (`erased_values`), the access export
(`apps.privacy.persons.rows_for`) and the audit trail's encryption (`apps.privacy.audit_personal`) read it.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from .erase import erased_values
from .platform import PLATFORM
from .product import PRODUCT
from .render import render_markdown
from .types import Category, Entry, Erase, Field, Subject

__all__ = [
    "DATA_MAP",
    "Category",
    "Entry",
    "Erase",
    "Field",
    "Subject",
    "entry_for",
    "erased_values",
    "mapped_models",
    "render_markdown",
    "unclassified_fields",
    "unknown_names",
]

DATA_MAP: tuple[Entry, ...] = (*PRODUCT, *PLATFORM)

_BY_LABEL = {entry.model: entry for entry in DATA_MAP}

# Framework and library tables the map covers besides the product's own apps.
_EXTRA_MODELS = frozenset({"auth.user", "auth.group", "admin.logentry", "sessions.session", "authtoken.token"})
_EXTRA_APPS = frozenset({"axes"})


def entry_for(model_or_label: type[models.Model] | models.Model | str) -> Entry | None:
    """The map's entry of a model (class, instance or "app_label.model_name" in any case), or None."""
    if isinstance(model_or_label, str):
        label = model_or_label.lower()
    else:
        label = model_or_label._meta.label_lower
        concrete = model_or_label._meta.concrete_model
        if concrete is not None:  # a proxy is mapped as its concrete model
            label = concrete._meta.label_lower
    return _BY_LABEL.get(label)


def mapped_models() -> list[type[models.Model]]:
    """Every model the map must classify: the product's apps (apps.*), the framework tables that hold people's data
    and the axes models; proxies and auto-created many-to-many tables are not tables of their own."""
    found = []
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or opts.auto_created:
            continue
        if (
            opts.app_config.name.startswith("apps.")
            or opts.label_lower in _EXTRA_MODELS
            or opts.app_label in _EXTRA_APPS
        ):
            found.append(model)
    return sorted(found, key=lambda m: m._meta.label_lower)


def unclassified_fields(entries: tuple[Entry, ...] | None = None) -> list[str]:
    """The "app.model.field" of every concrete field of a mapped model that the map (or `entries`) does not
    classify."""
    by_label = _BY_LABEL if entries is None else {entry.model: entry for entry in entries}
    missing: list[str] = []
    for model in mapped_models():
        entry = by_label.get(model._meta.label_lower)
        named = {field.name for field in entry.fields} if entry else set()
        missing.extend(
            f"{model._meta.label_lower}.{field.name}"
            for field in model._meta.concrete_fields
            if field.name not in named
        )
    return missing


def unknown_names(entries: tuple[Entry, ...] | None = None) -> list[str]:
    """What the map (or `entries`) names that does not exist or cannot be: models, fields (or fields named twice),
    subjects' lookups and fields, erasures a field cannot take."""
    from .checks import entry_problems

    problems = []
    seen: set[str] = set()
    for entry in DATA_MAP if entries is None else entries:
        if entry.model in seen:
            problems.append(f"{entry.model}: mapped twice.")
        seen.add(entry.model)
        problems.extend(entry_problems(entry))
    return problems
