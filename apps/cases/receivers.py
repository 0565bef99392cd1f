"""Keep stored evaluations fresh when evidence is reviewed (registered once, at start-up)."""

from __future__ import annotations

from django.db.models import Q

from apps.evidence import hooks
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence

from .constants import CaseStatus
from .evaluations import case_refresh_compliance
from .models import Case, CaseEvidence

REFRESH_EVENTS = frozenset({EvidenceStatus.VERIFIED, EvidenceStatus.REJECTED})


@hooks.register
def refresh_cases_after_review(evidence_id: int, event: str) -> None:
    """Re-evaluate the open cases that may count this item once it is verified, rejected or revoked.

    Runs after the review commits, in a transaction of its own (`case_refresh_compliance` locks the cases and reads
    what is committed). A verified correction replaces the version cases linked to, so those cases are refreshed too.
    """
    if event not in REFRESH_EVENTS:
        return
    item = Evidence.objects.filter(pk=evidence_id).values("owner_id", "previous_id").first()
    if item is None:
        return
    case_ids = set(Case.objects.open().filter(subject_employee_id=item["owner_id"]).values_list("pk", flat=True))
    linked = Q(evidence_id=evidence_id) | (Q(evidence_id=item["previous_id"]) if item["previous_id"] else Q())
    case_ids |= set(CaseEvidence.objects.filter(linked, case__status=CaseStatus.OPEN).values_list("case_id", flat=True))
    if case_ids:
        case_refresh_compliance(case_ids=sorted(case_ids))
