"""The stock equivalent of the evidence API, the baseline bench/load.py measures the product's API against.

What a DRF tutorial would write over the same `Evidence` model: a `ModelViewSet` with a plain `ModelSerializer`,
the project's default authentication, permission and pagination (same page size), the list cut to the caller's
own items. A partial update of `status` stands in for the product's submit. Bench code only: no service, no
visibility rules, no review flow; served beside the product's urls by bench/stock_urls.py.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets

from apps.evidence.models import Evidence


class StockEvidenceSerializer(serializers.ModelSerializer):
    """Every field of the model; the owner is the caller."""

    class Meta:
        model = Evidence
        fields = "__all__"
        read_only_fields = ("owner",)


class StockEvidenceViewSet(viewsets.ModelViewSet):
    """Create, read, update, delete and list the caller's own evidence items."""

    serializer_class = StockEvidenceSerializer

    def get_queryset(self) -> Any:
        return Evidence.objects.filter(owner=self.request.user.employee)

    def perform_create(self, serializer: StockEvidenceSerializer) -> None:
        serializer.save(owner=self.request.user.employee)
