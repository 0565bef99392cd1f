"""Score-solicitation detection on the corpus: requests, wishes, conditions and survey-answer wording in five
languages are caught; reported scores and ordinary numbers are not. bench/gaming.py prints the same figures."""

from apps.evidence.gaming import builtin_phrases, find_solicitations
from tests.evidence.gaming_corpus import CORPUS, HELD_OUT_2, Sample


def precision_recall(samples: list[Sample]) -> tuple[float, float, list[str]]:
    phrases = builtin_phrases()
    tp = fp = fn = 0
    wrong: list[str] = []
    for sample in samples:
        hit = bool(find_solicitations([("text", sample.text)], phrases=phrases))
        tp += hit and sample.solicits
        fp += hit and not sample.solicits
        fn += sample.solicits and not hit
        if hit != sample.solicits:
            wrong.append(sample.text)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), wrong


def test_the_corpus_holds_at_least_100_phrasings_in_every_planned_language():
    assert len(CORPUS) >= 100
    assert {sample.language for sample in CORPUS} == {"en", "de", "fr", "es", "ar"}
    assert sum(not sample.solicits for sample in CORPUS) >= 40


def test_solicitation_is_found_with_high_precision_and_recall_on_the_corpus():
    precision, recall, wrong = precision_recall(CORPUS)
    assert precision >= 0.95, wrong
    assert recall >= 0.9, wrong


def test_text_written_after_the_list_was_tuned_is_still_mostly_judged_right():
    # Measured once, never tuned against: 0.85 precision, 0.61 recall. The floor keeps a regression visible.
    precision, recall, wrong = precision_recall(HELD_OUT_2)
    assert precision >= 0.8, wrong
    assert recall >= 0.55, wrong
