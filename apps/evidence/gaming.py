"""Flags for evidence that may game the criteria: soliciting scores, or resting on an outcome score alone.

Pure functions over text and a few facts, so they are easy to test and to extend with new phrasings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .constants import FlagCode

_NUMBER = r"(?:10|ten|9|nine|5|five|top|perfect|full)"
_STARS = r"(?:\s*(?:-|\s)?\s*stars?|\s*out of\s*(?:10|ten|5|five)|\s*/\s*(?:10|5))?"
SOLICITATION_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        rf"\bgive\s+(?:us|me|him|her|them)\s+(?:an?\s+|the\s+)?{_NUMBER}{_STARS}",
        rf"\brate\s+(?:us|me|him|her|them|our \w+)\s+(?:an?\s+|a\s+full\s+)?{_NUMBER}{_STARS}",
        rf"\bscore\s+(?:us|me)\s+(?:an?\s+)?{_NUMBER}",
        r"\bany\s+reason\s+(?:why\s+)?(?:you\s+)?(?:can'?t|cannot|couldn'?t|wouldn'?t|won'?t)\s+give",
        r"\b(?:leave|write|post)\s+(?:us\s+|me\s+)?an?\s+(?:5|five)[\s-]*star",
        r"\b(?:ask(?:ed|ing)?|remind(?:ed|ing)?|told)\s+(?:the\s+)?(?:guests?|customers?|clients?)\s+to\s+"
        r"(?:give|rate|score)\b",
        r"\bonly\s+(?:a\s+)?(?:10|ten|9|nine)\s+counts\b",
    )
)
OUTCOME_WORDS = re.compile(r"\b(?:nps|csat|net promoter|satisfaction score|survey score|star rating)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason for a reviewer to look twice."""

    code: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


def find_solicitation(text: str) -> str | None:
    """Return the first phrase that solicits a score, or None."""
    for pattern in SOLICITATION_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(0)
    return None


def gaming_flags(*, texts: list[str], is_outcome: bool, has_operational_metric: bool) -> list[Flag]:
    """Flags for an evidence item, from its free texts and what kind of metric backs it."""
    flags: list[Flag] = []
    joined = "\n".join(text for text in texts if text)
    phrase = find_solicitation(joined)
    if phrase:
        flags.append(
            Flag(
                FlagCode.SCORE_SOLICITATION,
                f'Asks the customer for a score ("{phrase.strip()}"). Soliciting scores games the survey; '
                "verify only if the evidence stands on what was done for the customer.",
            )
        )
    if is_outcome and not has_operational_metric:
        flags.append(
            Flag(
                FlagCode.OUTCOME_ONLY,
                "Rests on an outcome score (NPS, CSAT) alone. Scores can be moved without helping customers; "
                "look for what changed operationally.",
            )
        )
    elif not has_operational_metric and OUTCOME_WORDS.search(joined):
        flags.append(
            Flag(
                FlagCode.OUTCOME_ONLY,
                "Claims a survey-score change without an operational metric; ask for the operational change behind it.",
            )
        )
    return flags
