"""REST API of privacy requests: erase one employee, or download everything about them (HR only)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.users import signed_in_user
from apps.org.models import Employee

from .access import EXPORT_PERMISSION, export_person
from .erasure import ERASE_PERMISSION, erase_person
from .persons import Person


class _HasPermission(BasePermission):
    permission = ""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(self.permission))


class CanErase(_HasPermission):
    """DRF: holders of privacy.erase_person (HR) only; others get 403, anonymous 401."""

    permission = ERASE_PERMISSION
    message = "Erasing a person's personal data is for HR (permission privacy.erase_person)."


class CanExport(_HasPermission):
    """DRF: holders of privacy.export_person (HR) only; others get 403, anonymous 401."""

    permission = EXPORT_PERMISSION
    message = "Exporting a person's personal data is for HR (permission privacy.export_person)."


class ErasureRequestSerializer(serializers.Serializer):
    """An erasure request: why, and the employee number typed again."""

    reason = serializers.CharField(max_length=2000, help_text="The request and its date; stored only as its length.")
    confirm = serializers.CharField(max_length=150, help_text="The employee's number, to confirm the right person.")

    def validate_confirm(self, value: str) -> str:
        expected = self.context["expected"]
        if value.strip() != expected:
            raise serializers.ValidationError(f"This is not {expected}: send the employee number to confirm.")
        return value.strip()


ERASURE_RESULT = inline_serializer(
    "ErasureResult",
    {
        "erased": serializers.CharField(),
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "files_deleted": serializers.IntegerField(),
        "summary": serializers.CharField(),
    },
)


class EmployeeErasureView(APIView):
    permission_classes = [CanErase]

    @extend_schema(
        summary="Erase an employee's personal data (with their login)",
        request=ErasureRequestSerializer,
        responses={
            200: ERASURE_RESULT,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Wrong confirmation, no reason, legal hold, open cases, or one's own data.",
            ),  # fmt: skip
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="Without privacy.erase_person."),
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such employee."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        employee = get_object_or_404(Employee.objects.select_related("user"), pk=pk)
        serializer = ErasureRequestSerializer(data=request.data, context={"expected": employee.employee_number})
        serializer.is_valid(raise_exception=True)
        report = erase_person(
            person=Person.for_employee(employee),
            by=signed_in_user(request.user),
            reason=serializer.validated_data["reason"],
        )
        return Response(
            {
                "erased": report.label,
                "counts": report.counts,
                "files_deleted": report.files_deleted,
                "summary": report.summary(),
            }
        )


class EmployeeExportView(APIView):
    permission_classes = [CanExport]

    @extend_schema(
        summary="Everything about an employee as one zip archive (manifest, JSON per model, files, audit events)",
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="Without privacy.export_person."),
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such employee."),
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        employee = get_object_or_404(Employee.objects.select_related("user"), pk=pk)
        archive = export_person(person=Person.for_employee(employee), by=signed_in_user(request.user))
        return FileResponse(archive.file, as_attachment=True, filename=archive.filename, content_type="application/zip")
