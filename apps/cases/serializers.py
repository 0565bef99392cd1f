"""Serializers of the cases API: cycles, cases with their checklist, steps and timeline, and the bodies of the
decision actions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.common.limits import MAX_DATABASE_ID
from apps.org.models import Employee, OrgUnit
from apps.policies.engine import Evaluation

from .constants import AttestationRole, StepDecision
from .models import Case, Cycle, PolicyException
from .selectors import checklist_rows


class CycleSerializer(serializers.ModelSerializer):
    ritual_type: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Cycle
        fields = ["id", "name", "ritual_type", "status", "opens_on", "evidence_deadline", "decision_deadline",
                  "reminder_offsets"]  # fmt: skip


class ChecklistRowSerializer(serializers.Serializer):
    requirement_id = serializers.IntegerField()
    kind = serializers.CharField()
    # A field named like Field.label: the serializer's metaclass takes declared fields off the class.
    label = serializers.CharField()  # type: ignore[assignment]
    met = serializers.BooleanField()
    have = serializers.IntegerField()
    need = serializers.IntegerField()
    counted_ids = serializers.ListField(child=serializers.IntegerField())
    reason = serializers.CharField()
    weight = serializers.IntegerField()


class StepSerializer(serializers.Serializer):
    """One decided step of the case's approval route (the schema of CaseDetail.steps)."""

    order = serializers.IntegerField()
    step = serializers.CharField()
    decision = serializers.CharField()
    by = serializers.CharField()
    on_behalf_of = serializers.CharField(allow_null=True)
    comment = serializers.CharField()
    at = serializers.DateTimeField()


class AttestationSerializer(serializers.Serializer):
    """An attestation standing on the case (the schema of CaseDetail.attestations); its id names it to withdraw it."""

    id = serializers.IntegerField()
    role = serializers.CharField()
    by = serializers.CharField()
    note = serializers.CharField()
    at = serializers.DateTimeField()


class CaseSerializer(serializers.ModelSerializer):
    """A case with its compliance; the detail view adds the checklist rows."""

    subject = serializers.CharField(source="subject_name", read_only=True)
    subject_kind = serializers.SerializerMethodField()
    cycle = serializers.CharField(source="cycle.name", read_only=True)
    ritual_type = serializers.CharField(source="cycle.ritual_type.code", read_only=True)
    policy_unit = serializers.CharField(source="policy_unit.name", read_only=True)
    compliant = serializers.SerializerMethodField()
    requirements_met = serializers.SerializerMethodField()
    requirements_total = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "subject", "subject_kind", "subject_employee", "subject_unit", "candidate_name", "cycle",
            "ritual_type", "policy_unit", "status", "opened_on", "decided_at", "decision_note", "compliant",
            "requirements_met", "requirements_total",
        ]  # fmt: skip
        read_only_fields = fields

    def _rows(self, case: Case) -> list[dict[str, Any]]:
        evaluations: dict[int, Evaluation] = self.context.get("evaluations", {})
        return checklist_rows(case, evaluations.get(case.pk))

    @extend_schema_field(OpenApiTypes.STR)
    def get_subject_kind(self, case: Case) -> str:
        return case.cycle.ritual_type.subject_kind

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_compliant(self, case: Case) -> bool | None:
        if not case.is_open and case.frozen_evaluation:
            return bool(case.frozen_evaluation.get("compliant"))
        evaluation = self.context.get("evaluations", {}).get(case.pk)
        return evaluation.compliant if evaluation is not None else case.compliant

    @extend_schema_field(OpenApiTypes.INT)
    def get_requirements_met(self, case: Case) -> int:
        return sum(1 for row in self._rows(case) if row["met"])

    @extend_schema_field(OpenApiTypes.INT)
    def get_requirements_total(self, case: Case) -> int:
        return len(self._rows(case))


class CaseDetailSerializer(CaseSerializer):
    checklist = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    attestations = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "checklist", "steps", "attestations", "frozen_evaluation"]
        read_only_fields = fields

    @extend_schema_field(ChecklistRowSerializer(many=True))
    def get_checklist(self, case: Case) -> list[dict[str, Any]]:
        return self._rows(case)

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, case: Case) -> list[dict[str, Any]]:
        return [
            {
                "order": r.order,
                "step": r.step_name,
                "decision": r.decision,
                "by": r.by.get_username(),
                "on_behalf_of": r.on_behalf_of.get_username() if r.on_behalf_of else None,
                "comment": r.comment,
                "at": r.at.isoformat(),
            }
            for r in case.step_records.all()
        ]

    @extend_schema_field(AttestationSerializer(many=True))
    def get_attestations(self, case: Case) -> list[dict[str, Any]]:
        return [
            {"id": a.pk, "role": a.role, "by": a.by.get_username(), "note": a.note, "at": a.at.isoformat()}
            for a in sorted(case.attestations.all(), key=lambda a: a.pk)
        ]


class TimelineEntrySerializer(serializers.Serializer):
    """One moment of a case's story; `internal` entries are shown only to those who see HR-internal detail."""

    at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="Display name; empty when not shown to you.")
    kind = serializers.CharField(
        help_text="opened, evidence, link, attestation, exception, step, decision, compliance, change or event."
    )
    text = serializers.CharField()
    url = serializers.CharField(allow_null=True, help_text="A page to read more (a path of this site), or null.")
    internal = serializers.BooleanField()


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=StepDecision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000)


class AttestSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=AttestationRole.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class CaseOpenSerializer(serializers.Serializer):
    """The subject of a new case, named as in the nominations CSV: employee number, unit code, or a candidate."""

    subject_employee = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Employee number (promotion, raise, bonus, ...)."
    )
    subject_unit = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Org unit code (budget expansion)."
    )
    candidate_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    candidate_email = serializers.CharField(
        required=False, allow_blank=True, max_length=254, default="", help_text="One live case per e-mail and cycle."
    )
    nominated_by = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Employee number of the nominator (required for hiring: the hiring manager).",
    )

    def validate_subject_employee(self, number: str) -> Employee | None:
        # Inactive people are found here so the service can say that they are not active.
        if not number.strip():
            return None
        employee = Employee.objects.select_related("org_unit").filter(employee_number=number.strip()).first()
        if employee is None:
            raise serializers.ValidationError(f"No employee numbered '{number.strip()}'.")
        return employee

    def validate_subject_unit(self, code: str) -> OrgUnit | None:
        if not code.strip():
            return None
        unit = OrgUnit.objects.active().filter(code=code.strip()).first()
        if unit is None:
            raise serializers.ValidationError(f"No active org unit with code '{code.strip()}'.")
        return unit

    def validate_nominated_by(self, number: str) -> Employee | None:
        if not number.strip():
            return None
        employee = Employee.objects.active().select_related("org_unit").filter(employee_number=number.strip()).first()
        if employee is None:
            raise serializers.ValidationError(f"No active employee numbered '{number.strip()}'.")
        return employee


class ExceptionRequestSerializer(serializers.Serializer):
    justification = serializers.CharField(max_length=5000)
    waived_requirements = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID), min_length=1, max_length=50
    )


class ExceptionSerializer(serializers.ModelSerializer):
    waived_requirements: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)

    class Meta:
        model = PolicyException
        fields = ["id", "case", "status", "justification", "waived_requirements", "requested_by", "requested_at",
                  "decided_by", "decided_at", "decision_note"]  # fmt: skip
        read_only_fields = fields


class ExceptionDecisionSerializer(serializers.Serializer):
    grant = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
