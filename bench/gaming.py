"""Benchmark of score-solicitation detection: precision and recall of the built-in phrase list on the test corpus.

Run from the repository root: `python bench/gaming.py [--verbose]`. Pure Python, no database: it compiles the
built-in list (apps/evidence/gaming_builtin.py, what migration 0002 seeds) and matches each phrasing of
tests/evidence/gaming_corpus.py, printing misses and false alarms, the figures per language, and the time to scan a
200 KB attachment-sized text. The corpus was written alongside the list, so the figures are an upper bound for
unseen text.

The last line is the verdict: `gaming: precision P, recall R on N phrasings (target precision >= 0.95,
recall >= 0.9) met|missed`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.test")

TARGET_PRECISION = 0.95
TARGET_RECALL = 0.9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every match")
    args = parser.parse_args()

    from apps.evidence.gaming import builtin_phrases, find_solicitations
    from tests.evidence.gaming_corpus import CORPUS, HELD_OUT, HELD_OUT_2

    phrases = builtin_phrases()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # language: true positives, false positives, misses
    started = time.perf_counter()
    for sample in CORPUS:
        hits = find_solicitations([("text", sample.text)], phrases=phrases)
        row = counts[sample.language]
        if hits and sample.solicits:
            row[0] += 1
        elif hits:
            row[1] += 1
            print(f"false alarm [{sample.language}]: {sample.text!r} matched {hits[0].matched!r}")
        elif sample.solicits:
            row[2] += 1
            print(f"missed [{sample.language}]: {sample.text!r}")
        if args.verbose and hits:
            print(f"  {hits[0].kind:<13} {hits[0].matched!r}")
    per_item_ms = (time.perf_counter() - started) * 1000 / len(CORPUS)

    filler = "The guest called about a booking that failed on the second step of the form. " * 2600
    letter = filler[:199_000] + " We'd love a 10 from you."
    started = time.perf_counter()
    found = find_solicitations([("Attachment letter.txt", letter)], phrases=phrases)
    scan_ms = (time.perf_counter() - started) * 1000

    def ratio(numerator: int, denominator: int) -> float:
        return numerator / denominator if denominator else 1.0

    print(f"{len(phrases)} built-in phrases; {len(CORPUS)} phrasings, {per_item_ms:.2f} ms each")
    print("language  phrasings  precision  recall")
    for language in sorted(counts):
        tp, fp, fn = counts[language]
        total = sum(1 for sample in CORPUS if sample.language == language)
        print(f"{language:<9} {total:>9}  {ratio(tp, tp + fp):>9.2f}  {ratio(tp, tp + fn):>6.2f}")
    for name, samples in (
        ("held-out 1 (used to add the sentence rules)", HELD_OUT),
        ("held-out 2 (never tuned)", HELD_OUT_2),
    ):
        hits_of = [(sample, bool(find_solicitations([("text", sample.text)], phrases=phrases))) for sample in samples]
        h_tp = sum(1 for sample, hit in hits_of if hit and sample.solicits)
        h_fp = sum(1 for sample, hit in hits_of if hit and not sample.solicits)
        h_fn = sum(1 for sample, hit in hits_of if not hit and sample.solicits)
        print(
            f"{name}: precision {ratio(h_tp, h_tp + h_fp):.2f}, recall {ratio(h_tp, h_tp + h_fn):.2f} on {len(samples)}"
        )
        if args.verbose:
            for sample, hit in hits_of:
                if hit != sample.solicits:
                    print(f"  {'false alarm' if hit else 'missed'}: {sample.text!r}")
    print(f"200 KB text scanned in {scan_ms:.0f} ms; solicitation at its end found: {bool(found)}")
    tp = sum(row[0] for row in counts.values())
    fp = sum(row[1] for row in counts.values())
    fn = sum(row[2] for row in counts.values())
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    met = precision >= TARGET_PRECISION and recall >= TARGET_RECALL and bool(found)
    print(
        f"gaming: precision {precision:.2f}, recall {recall:.2f} on {len(CORPUS)} phrasings "
        f"(target precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}) {'met' if met else 'missed'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
