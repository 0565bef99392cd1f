"""Demo policies for `seed_demo`: a baseline per ritual over three years, and group additions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apps.org.models import OrgUnit

from .models import Policy, PolicyVersion, RitualType
from .services import (
    policy_create,
    policy_version_create,
    policy_version_draft_from,
    policy_version_publish,
    requirement_add,
)

STORY = ["customer_story"]
Spec = tuple[str, dict, str]

BASELINES: dict[str, list[Spec]] = {
    "promotion": [
        ("min_evidence", {"count": 2, "categories": STORY, "within_days": 365}, ""),
        ("metric_improvement", {"count": 1, "min_improvement_pct": 5, "within_days": 365}, ""),
        ("distinct_categories", {"count": 2, "within_days": 730}, ""),
        ("customer_voice", {"count": 1, "within_days": 365}, ""),
        ("outcome_cap", {"max": 1}, "Survey scores count at most once"),
        ("attestation", {"role": "manager"}, ""),
    ],
    "raise": [
        ("min_evidence", {"count": 2, "within_days": 365}, ""),
        ("outcome_cap", {"max": 1}, "Survey scores count at most once"),
    ],
    "hiring": [
        ("min_evidence", {"count": 1, "categories": ["customer_story", "customer_voice"], "within_days": 730}, ""),
        ("attestation", {"role": "hr"}, ""),
    ],
    "bonus": [
        ("metric_improvement", {"count": 1, "within_days": 180}, ""),
        ("min_evidence", {"count": 1, "within_days": 180}, ""),
        ("outcome_cap", {"max": 1}, "Survey scores count at most once"),
    ],
    "budget-expansion": [
        ("customer_voice", {"count": 3, "within_days": 365}, ""),
        ("metric_improvement", {"count": 2, "min_improvement_pct": 10, "within_days": 365}, ""),
        ("distinct_categories", {"count": 3, "within_days": 365}, ""),
    ],
    "recognition": [
        ("min_evidence", {"count": 1, "categories": STORY, "within_days": 180}, ""),
    ],
}

# Last year's promotion baseline was weaker: one story, and no cap on survey scores.
PROMOTION_2025: list[Spec] = [
    ("min_evidence", {"count": 1, "categories": STORY, "within_days": 365}, ""),
    ("attestation", {"role": "manager"}, ""),
]

GROUP_ADDITIONS: list[tuple[str, str, list[Spec]]] = [
    (
        "contact-centre",
        "promotion",
        [
            (
                "metric_improvement",
                {"count": 1, "min_improvement_pct": 10, "categories": ["operational_kpi"], "within_days": 365},
                "First-contact resolution or handle-time improvement",
            )
        ],
    ),
    ("billing", "promotion", [("internal_customer", {"count": 1, "within_days": 365}, "")]),
    ("it-services", "promotion", [("internal_customer", {"count": 1, "within_days": 365}, "")]),
    ("procurement", "promotion", [("internal_customer", {"count": 1, "within_days": 365}, "")]),
    ("digital", "bonus", [("customer_voice", {"count": 1, "within_days": 180}, "")]),
]


@dataclass(slots=True)
class PolicySeed:
    """What the policy seeding created."""

    rituals: dict[str, RitualType]
    baselines: dict[str, Policy]
    versions: list[PolicyVersion]


def _version(policy: Policy, start: dt.date, specs: list[Spec], notes: str, publish: bool) -> PolicyVersion:
    version = policy_version_create(policy=policy, effective_from=start, notes=notes)
    for order, (kind, params, label) in enumerate(specs):
        requirement_add(version=version, kind=kind, params=params, label=label, order=order)
    if publish:
        version = policy_version_publish(version=version, today=start)
    return version


def seed_policies(*, units: dict[str, OrgUnit], today: dt.date) -> PolicySeed:
    """Create the demo policies around `today`: last year's, this year's and next year's criteria."""
    rituals = {ritual.code: ritual for ritual in RitualType.objects.all()}
    this_year = dt.date(today.year, 1, 1)
    baselines: dict[str, Policy] = {}
    versions: list[PolicyVersion] = []
    for code, specs in BASELINES.items():
        policy = policy_create(ritual_type=rituals[code], scope=None)
        baselines[code] = policy
        if code == "promotion":
            versions.append(
                _version(
                    policy,
                    this_year.replace(year=today.year - 1),
                    PROMOTION_2025,
                    "First customer-impact criteria.",
                    publish=True,
                )
            )
        versions.append(_version(policy, this_year, specs, "Company baseline for the year.", publish=True))
    # Next year's promotion criteria are being drafted from this year's.
    promotion_now = next(v for v in versions if v.policy == baselines["promotion"] and v.effective_from == this_year)
    versions.append(
        policy_version_draft_from(version=promotion_now, effective_from=this_year.replace(year=today.year + 1))
    )
    for unit_code, ritual_code, specs in GROUP_ADDITIONS:
        policy = policy_create(ritual_type=rituals[ritual_code], scope=units[unit_code])
        versions.append(_version(policy, this_year, specs, f"{units[unit_code]} additions.", publish=True))
    return PolicySeed(rituals=rituals, baselines=baselines, versions=versions)
