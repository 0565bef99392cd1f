"""The policy engine: evaluates a subject's evidence facts against a policy's requirements at a date.

Pure Python with no ORM and no clock: selectors load facts, callers pass `as_of`, and the same input always
gives the same `Evaluation` (or, through `CompiledPolicy.verdict`, the same met / not met per requirement).
See docs/engine.md for the exact semantics of every requirement kind.

- `facts`: inputs and outputs (EvidenceFact, RequirementSpec, SubjectFacts, RequirementResult, Evaluation);
- `rules`: compiled requirements, evaluated with reasons or as bare verdicts;
- `kinds`: what each requirement kind counts (pickers) and says when unmet (explainers);
- `policy`: CompiledPolicy and the functions that compile and evaluate.
"""

from .facts import (
    VERIFIED,
    Evaluation,
    EvidenceFact,
    Fact,
    RequirementResult,
    RequirementSpec,
    SubjectFacts,
    counting_order,
    improvement_pct,
)
from .policy import CompiledPolicy, compile_policy, evaluate, evaluate_many

__all__ = [
    "VERIFIED",
    "CompiledPolicy",
    "Evaluation",
    "EvidenceFact",
    "Fact",
    "RequirementResult",
    "RequirementSpec",
    "SubjectFacts",
    "compile_policy",
    "counting_order",
    "evaluate",
    "evaluate_many",
    "improvement_pct",
]
