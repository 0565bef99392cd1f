"""Flags for evidence that may game the criteria: soliciting scores, or resting on an outcome score alone.

Pure functions over text and a few facts. The phrasings are data (`SolicitationPhrase` rows, built-ins in
gaming_builtin.py) compiled once per process (gaming_store.py); matching runs on normalised text
(gaming_normalize.py) and reports the words as written, where they were found and what kind of request they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .constants import FlagCode, SolicitationKind
from .gaming_builtin import BUILTIN_PHRASES, SENTENCE_RULE_PREFIX
from .gaming_normalize import fold, normalize

OUTCOME_WORDS = re.compile(r"\b(?:nps|csat|net promoter|satisfaction score|survey score|star rating)\b")
# Text beyond this many characters per field or attachment is not scanned (attachments are cut at extraction).
MAX_SCAN_CHARS = 200_000
MAX_SOLICITATION_FLAGS = 5
_QUOTE_CHARS = 120


@dataclass(frozen=True, slots=True)
class CompiledPhrase:
    """One active phrasing, ready to match normalised text."""

    regex: re.Pattern[str]
    kind: str
    language: str
    phrase_id: int | None = None


@dataclass(frozen=True, slots=True)
class Solicitation:
    """Where a phrasing matched: the words as written, the field or attachment, and the kind of request."""

    matched: str
    where: str
    kind: str
    language: str
    phrase_id: int | None = None


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason for a reviewer to look twice; solicitation flags say which words, where and what kind."""

    code: str
    reason: str
    matched: str = ""
    where: str = ""
    kind: str = ""

    def as_dict(self) -> dict[str, str]:
        data = {"code": self.code, "reason": self.reason}
        if self.matched:
            data |= {"matched": self.matched, "where": self.where, "kind": self.kind}
        elif self.where:
            data["where"] = self.where
        return data


def phrase_regex(phrase: str, *, is_pattern: bool) -> re.Pattern[str]:
    """Compile a phrase for matching normalised text: a pattern as written, a plain phrase normalised with flexible
    spaces and whole-word ends. Raises re.error for a bad pattern."""
    if is_pattern:
        return re.compile(phrase, re.IGNORECASE)
    words = fold(phrase).split(" ")
    body = r"\s+".join(re.escape(word) for word in words if word)
    if not body:
        raise re.error("The phrase is empty once normalised.")
    start = r"\b" if re.match(r"\w", words[0]) else ""
    end = r"\b" if re.search(r"\w$", words[-1]) else ""
    return re.compile(f"{start}{body}{end}")


def builtin_phrases() -> tuple[CompiledPhrase, ...]:
    """The built-in list, compiled: used when no phrase table exists yet (before the seeding migration)."""
    return tuple(CompiledPhrase(re.compile(row.pattern), row.kind, row.language) for row in BUILTIN_PHRASES)


def find_solicitations(
    sources: Iterable[tuple[str, str]], *, phrases: Sequence[CompiledPhrase] | None = None, first_only: bool = True
) -> list[Solicitation]:
    """The solicitations in (where, text) pairs: the first match per source (earliest in the text), in order."""
    compiled = builtin_phrases() if phrases is None else phrases
    found: list[Solicitation] = []
    for where, text in sources:
        if not text:
            continue
        normalized = normalize(text[:MAX_SCAN_CHARS])
        hits: list[tuple[bool, int, int, CompiledPhrase]] = []
        for phrase in compiled:
            match = phrase.regex.search(normalized.text)
            if match and match.end() > match.start():
                broad = phrase.regex.pattern.startswith(SENTENCE_RULE_PREFIX)
                hits.append((broad, match.start(), -match.end(), phrase))
        # The earliest specific phrasing first; a broad sentence rule only when nothing specific matched.
        hits.sort(key=lambda hit: hit[:3])
        for _, start, negative_end, phrase in hits[:1] if first_only else hits:
            end = -negative_end
            words = normalized.original(start, end).strip(" ,.;:!?-\n\t")
            found.append(Solicitation(words[:_QUOTE_CHARS], where, phrase.kind, phrase.language, phrase.phrase_id))
    return found


def find_solicitation(text: str, *, phrases: Sequence[CompiledPhrase] | None = None) -> str | None:
    """The words of the first phrase that solicits a score, or None."""
    found = find_solicitations([("text", text)], phrases=phrases)
    return found[0].matched if found else None


_KIND_VERB = {
    SolicitationKind.REQUEST: "Asks for a score",
    SolicitationKind.WISH: "Wishes for a score",
    SolicitationKind.CONDITION: "Makes a score a condition",
    SolicitationKind.SURVEY_ANSWER: "Tells the customer what to answer",
}


def solicitation_flag(hit: Solicitation) -> Flag:
    """The reviewer's flag for one match: 'Asks for a score: “we'd love a 10” in Attachment letter.pdf.'"""
    verb = _KIND_VERB.get(hit.kind, "Asks for a score")  # type: ignore[call-overload]
    where = f" in {hit.where}" if hit.where else ""
    return Flag(
        FlagCode.SCORE_SOLICITATION,
        f"{verb}: \u201c{hit.matched}\u201d{where}. Soliciting scores games the survey; verify only if the evidence "
        "stands on what was done for the customer.",
        matched=hit.matched,
        where=hit.where,
        kind=hit.kind,
    )


def gaming_flags(
    *,
    texts: Sequence[str | tuple[str, str]],
    is_outcome: bool,
    has_operational_metric: bool,
    phrases: Sequence[CompiledPhrase] | None = None,
    unread: Sequence[str] = (),
) -> list[Flag]:
    """Flags for an evidence item, from its texts ((where, text) pairs, or bare strings), the kind of metric behind
    it, and the attachments whose text could not be read (`unread`)."""
    sources = [item if isinstance(item, tuple) else ("", item) for item in texts]
    flags = [solicitation_flag(hit) for hit in find_solicitations(sources, phrases=phrases)][:MAX_SOLICITATION_FLAGS]
    for name in unread:
        flags.append(
            Flag(
                FlagCode.ATTACHMENT_UNREAD,
                f"The text of {name} could not be read, so it was not checked for score requests; open it before "
                "verifying.",
                where=name,
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
    elif not has_operational_metric and any(OUTCOME_WORDS.search(fold(text[:MAX_SCAN_CHARS])) for _, text in sources):
        flags.append(
            Flag(
                FlagCode.OUTCOME_ONLY,
                "Claims a survey-score change without an operational metric; ask for the operational change behind it.",
            )
        )
    return flags
