"""Benchmark of the policy engine: bulk evaluation of a cycle's subjects against a six-requirement policy.

Run from the repository root: `python bench/engine.py [--subjects N] [--facts N] [--repeat N]`. Pure Python, no
database, one process, the interpreter as it comes (the cycle collector running). Target: at least 20,000
evaluations/s on a quiet machine; the last line is the verdict.
"""

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

# Run as a plain script from the repo root without installing the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.policies.engine import (  # noqa: E402
    EvidenceFact,
    RequirementSpec,
    SubjectFacts,
    evaluate_many,
)

TARGET_PER_SECOND = 20_000
AS_OF = date(2026, 11, 25)
SEED = 20261125
CATEGORIES = ("customer_story", "operational_metric", "outcome_metric", "handoff", "collaboration", "voice")
TOUCHPOINTS = ("onboarding", "support", "billing", "renewal")
STATUSES = ("verified",) * 6 + ("submitted", "draft", "changes_requested", "rejected")

POLICY = [
    RequirementSpec(
        1,
        "min_evidence",
        {
            "count": 2,
            "categories": ["customer_story", "handoff"],
            "customer_type": "any",
            "touchpoints": [],
            "within_days": 365,
        },
    ),
    RequirementSpec(
        2, "metric_improvement", {"count": 1, "min_improvement_pct": 10, "categories": [], "within_days": 730}
    ),
    RequirementSpec(3, "distinct_categories", {"count": 3, "within_days": 730}),
    RequirementSpec(4, "customer_voice", {"count": 1, "within_days": 365}),
    RequirementSpec(5, "internal_customer", {"count": 1, "within_days": None}),
    RequirementSpec(6, "outcome_cap", {"max": 1}),
]


def make_fact(rng: random.Random, fact_id: int, unit: int) -> EvidenceFact:
    """Build one random but plausible evidence fact."""
    category = rng.choice(CATEGORIES)
    is_outcome = category == "outcome_metric"
    internal = rng.random() < 0.3
    metric_kind = "operational" if category == "operational_metric" else ("outcome" if is_outcome else None)
    quoted = rng.random() < 0.4
    return EvidenceFact(
        id=fact_id,
        category_code=category,
        is_outcome=is_outcome,
        status=rng.choice(STATUSES),
        impact_date=AS_OF - timedelta(days=rng.randint(-30, 900)),
        customer_type="internal" if internal else "external",
        internal_customer_unit_id=rng.choice((unit, unit + 1, None)) if internal else None,
        touchpoint_code=rng.choice(TOUCHPOINTS),
        quote="They said onboarding took a day, not a week." if quoted else "",
        source_type="interview" if quoted and rng.random() < 0.7 else "",
        source_reference="INT-42" if quoted else "",
        metric_kind=metric_kind,
        baseline=rng.uniform(0, 100) if metric_kind else None,
        result=rng.uniform(0, 120) if metric_kind else None,
        direction=rng.choice(("increase", "decrease")) if metric_kind else None,
    )


def make_subjects(count: int, facts_each: int) -> list[SubjectFacts]:
    """Build `count` subjects with a fixed seed so every run measures the same work."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not security
    subjects = []
    next_id = 1
    for _ in range(count):
        unit = rng.randint(1, 50)
        evidence = []
        for _ in range(facts_each):
            evidence.append(make_fact(rng, next_id, unit))
            next_id += 1
        attestations = frozenset({"manager"}) if rng.random() < 0.5 else frozenset()
        subjects.append(SubjectFacts(unit, tuple(evidence), attestations))
    return subjects


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """Best wall time of `repeat` runs; each run's results are freed outside the timed section."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
        del result
    return best


def main() -> None:
    """Time evaluate_many over the whole batch, best of N, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--facts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    subjects = make_subjects(args.subjects, args.facts)
    best = best_of(args.repeat, lambda: evaluate_many(POLICY, subjects, AS_OF))

    evaluations = evaluate_many(POLICY, subjects, AS_OF)
    n = len(subjects)
    per_second = n / best
    compliant = sum(e.compliant for e in evaluations)
    print(f"python     {platform.python_version()} ({platform.python_implementation()})")
    system = f"{platform.system()} {platform.release()}"
    print(f"machine    {platform.machine()}, {os.cpu_count()} CPUs, {system}, {platform.processor() or '-'}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load       {load} (1, 5, 15 min averages; other work on the machine skews wall time)")
    print(f"workload   {n} subjects x {args.facts} facts x {len(POLICY)} requirements, {compliant} compliant")
    print(f"batch      evaluate_many, best of {args.repeat}: {best:.3f} s")
    verdict = "met" if per_second >= TARGET_PER_SECOND else "missed"
    print(
        f"engine: {per_second:,.0f} evaluations/s, {best / n * 1e6:.1f} us each, load {os.getloadavg()[0]:.2f} "
        f"(target >= {TARGET_PER_SECOND:,}/s) {verdict}"
    )


if __name__ == "__main__":
    main()
