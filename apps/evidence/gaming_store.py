"""The active score-solicitation phrases, compiled once per process and recompiled when HR changes the list.

A submission normally costs no query here. The process that saves or deletes a phrase recompiles at its next
use; every other process checks the list (one aggregate query: row count and latest `updated_at`) at most every
RECHECK_SECONDS, so HR's change reaches all workers within that time.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

from .gaming import CompiledPhrase, builtin_phrases, phrase_regex

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 30.0

_lock = threading.Lock()
# (checked at (monotonic), list state, compiled phrases); None until first use or after invalidate().
_cache: tuple[float, tuple[Any, ...], tuple[CompiledPhrase, ...]] | None = None


def invalidate() -> None:
    """Forget the compiled phrases of this process (called when a phrase is saved or deleted)."""
    global _cache
    _cache = None


def compile_rows(rows: list[tuple[int, str, bool, str, str]]) -> tuple[CompiledPhrase, ...]:
    """Compile (id, phrase, is_pattern, kind, language) rows; a row that no longer compiles is logged and skipped."""
    compiled: list[CompiledPhrase] = []
    for pk, phrase, is_pattern, kind, language in rows:
        try:
            compiled.append(CompiledPhrase(phrase_regex(phrase, is_pattern=is_pattern), kind, language, pk))
        except re.error:
            logger.warning("Score-solicitation phrase %s does not compile; skipped.", pk)
    return tuple(compiled)


def active_phrases() -> tuple[CompiledPhrase, ...]:
    """The phrases to match now. An empty table (before the seeding migration, or a flushed test database) falls
    back to the built-in list: detection is never silently off."""
    from django.db.models import Count, Max

    from .models import SolicitationPhrase

    global _cache
    cached = _cache
    now = time.monotonic()
    if cached is not None and now - cached[0] < RECHECK_SECONDS:
        return cached[2]
    state = SolicitationPhrase.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
    key = (state["count"], state["latest"])
    if cached is not None and cached[1] == key:
        _cache = (now, key, cached[2])
        return cached[2]
    with _lock:
        if state["count"] == 0:
            phrases = builtin_phrases()
        else:
            rows = list(
                SolicitationPhrase.objects.filter(active=True)
                .order_by("id")
                .values_list("id", "phrase", "is_pattern", "kind", "language")
            )
            phrases = compile_rows(rows)
        _cache = (now, key, phrases)
    return phrases
