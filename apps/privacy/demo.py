"""Demo data for retention: last year's hiring cycle with rejected candidates old enough for the dry run, and a
legal hold on one of them (the default rules come from the migration)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from apps.cases.constants import CaseStatus, CycleStatus
from apps.cases.models import Case, Cycle
from apps.org.models import Employee
from apps.policies.models import RitualType

from .holds import hold_place
from .models import LegalHold

# (name, e-mail, days since the rejection): due now (rejected candidates keep 180 days), held, due within 30 days.
OLD_CANDIDATES = (
    ("Bram Okonkwo-Lind", "bram.ol@example.net", 200),
    ("Ines Sato", "ines.sato@example.net", 190),
    ("Tomasz Reyes", "tomasz.reyes@example.net", 165),
)
HOLD_REASON = "Employment tribunal claim ET-2026-0412 about the hiring decision: keep until the claim is closed."


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(11)))


def seed_privacy(*, hr: Any, hiring_manager: Employee, today: dt.date) -> dict[str, int]:
    """Last year's hiring cycle with three rejected candidates (one due, one held, one due soon); return counts."""
    cycle = Cycle.objects.create(
        ritual_type=RitualType.objects.get(code="hiring"),
        name=f"Hiring {today.year - 1}-Q2",
        opens_on=today - dt.timedelta(days=260),
        evidence_deadline=today - dt.timedelta(days=230),
        decision_deadline=today - dt.timedelta(days=210),
        status=CycleStatus.CLOSED,
    )
    cases = []
    for name, email, days in OLD_CANDIDATES:
        decided = today - dt.timedelta(days=days)
        cases.append(
            Case.objects.create(
                cycle=cycle,
                candidate_name=name,
                candidate_email=email,
                policy_unit=hiring_manager.org_unit,
                nominated_by=hiring_manager,
                opened_at=_at(cycle.opens_on),
                opened_on=cycle.opens_on,
                status=CaseStatus.REJECTED,
                decided_by=hr,
                decided_at=_at(decided),
                decision_note="Not enough evidence of customer focus in the interviews.",
                compliant=False,
            )
        )
    hold_place(case=cases[1], reason=HOLD_REASON, by=hr)
    return {"cases": len(cases), "holds": LegalHold.objects.active().count()}
