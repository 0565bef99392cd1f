"""Retention: rules say how long each kind of personal data is kept; a legal hold keeps it longer.

`plan_retention(today)` lists what is due (and what a hold keeps), `upcoming(today, days)` what becomes due soon, and
`apply_retention(today, dry_run=...)` removes exactly the plan's removable items, in batches, each audited.
"""

from .apply import RetentionResult, apply_retention, candidate_erase_now, delete_case
from .plan import Holds, Removal, RuleSummary, plan_retention, summaries, upcoming

__all__ = [
    "Holds",
    "Removal",
    "RetentionResult",
    "RuleSummary",
    "apply_retention",
    "candidate_erase_now",
    "delete_case",
    "plan_retention",
    "summaries",
    "upcoming",
]
