"""List filters other apps' admins share about the org: a customer layer from its fixed range."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .constants import MAX_CUSTOMER_LAYER


class CustomerLayerFilter(admin.SimpleListFilter):
    """A customer layer from the fixed range 0..MAX_CUSTOMER_LAYER, so listing the choices reads nothing (a filter on
    `…__customer_layer` would run a SELECT DISTINCT over the whole big table). Subclasses set `layer_lookup`, the
    ORM path from the listed model to the layer, and a title."""

    title = "customer layer"
    parameter_name = "layer"
    layer_lookup = "org_unit__customer_layer"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(layer), f"Layer {layer}") for layer in range(MAX_CUSTOMER_LAYER + 1)]

    def queryset(self, request: Any, queryset: Any) -> Any:
        value = self.value()
        if value is not None and value.isdigit():
            return queryset.filter(**{self.layer_lookup: int(value)})
        return queryset
