"""Keep stored case compliance fresh when evidence is reviewed (registered once, at start-up)."""

from __future__ import annotations

from apps.evidence import hooks
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence

from .models import Case, CaseEvidence
from .services import case_refresh_compliance

REFRESH_EVENTS = frozenset({EvidenceStatus.VERIFIED, EvidenceStatus.REJECTED})


@hooks.register
def refresh_cases_after_review(evidence_id: int, event: str) -> None:
    """Re-evaluate the open cases that count this item once it is verified or rejected."""
    if event not in REFRESH_EVENTS:
        return
    owner_id = Evidence.objects.filter(pk=evidence_id).values_list("owner_id", flat=True).first()
    case_ids = set(Case.objects.open().filter(subject_employee_id=owner_id).values_list("pk", flat=True))
    case_ids |= set(
        CaseEvidence.objects.filter(evidence_id=evidence_id, case__status="open").values_list("case_id", flat=True)
    )
    if case_ids:
        case_refresh_compliance(case_ids=sorted(case_ids))
