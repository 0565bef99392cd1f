"""A test-only API endpoint that records a domain event, next to the real URLs."""

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import audit_record
from apps.evidence.constants import EvidenceAuditAction
from ritualcriteria.urls import urlpatterns as real_urlpatterns


class SubmitEvidenceView(APIView):
    """Stands in for a real service call made from the API."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        event = audit_record(
            action=EvidenceAuditAction.EVIDENCE_SUBMITTED,
            object_type="evidence.evidence",
            object_id="42",
            object_repr="Faster onboarding",
            context={"via": "api"},
        )
        return Response({"id": event.pk}, status=201)


urlpatterns = [path("test-api/submit/", SubmitEvidenceView.as_view()), *real_urlpatterns]
