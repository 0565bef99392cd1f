"""Gaming flags: score solicitation and outcome-only claims are pointed out to reviewers."""

import re

import pytest

from apps.evidence.gaming import CompiledPhrase, find_solicitation, find_solicitations, gaming_flags, phrase_regex
from apps.evidence.gaming_builtin import BUILTIN_PHRASES
from apps.evidence.gaming_normalize import fold


@pytest.mark.parametrize(
    "text",
    [
        "Please give us a 10 on the survey!",
        "I asked: any reason you can't give me a ten?",
        "Rate us 5 stars if you liked your stay",
        "Could you rate us a 10 out of 10",
        "Leave us a five-star review on the app",
        "We asked customers to rate the desk after each call",
    ],
)
def test_score_solicitation_phrases_are_found(text):
    assert find_solicitation(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "CSAT rose from 8 to 9 out of 10 after the change.",
        "The guest gave a 10-minute account of the problem.",
        "We rate limited the booking API to 5 requests per second.",
        "",
    ],
)
def test_ordinary_text_is_not_flagged_as_solicitation(text):
    assert find_solicitation(text) is None


def test_asking_customers_to_give_a_score_is_flagged():
    flags = gaming_flags(texts=["Reminded guests to give us a 10"], is_outcome=False, has_operational_metric=True)
    assert [flag.code for flag in flags] == ["score_solicitation"]
    assert "\u201cReminded guests to give us a 10\u201d" in flags[0].reason


def test_outcome_score_without_operational_metric_is_flagged():
    flags = gaming_flags(texts=["CSAT went up"], is_outcome=True, has_operational_metric=False)
    assert [flag.code for flag in flags] == ["outcome_only"]


def test_survey_claim_in_text_without_a_metric_is_flagged():
    flags = gaming_flags(texts=["Our NPS improved a lot"], is_outcome=False, has_operational_metric=False)
    assert [flag.code for flag in flags] == ["outcome_only"]


def test_operational_evidence_mentioning_nps_is_not_flagged():
    flags = gaming_flags(texts=["NPS followed"], is_outcome=False, has_operational_metric=True)
    assert flags == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Plеase gіve us а 10", "please give us a 10"),  # Cyrillic look-alikes
        ("g\u200bive us a ten", "give us a ten"),  # zero-width space
        ("ＲＡＴＥ ＵＳ １０/１０", "rate us 10/10"),  # fullwidth
        ("Très   SATISFAIT", "tres satisfait"),
        ("Straße", "strasse"),
        ("أعطِنا ١٠", "اعطنا 10"),  # harakat dropped, hamza alef plain, Arabic-Indic digits
    ],
)
def test_text_is_normalised_before_matching(text, expected):
    assert fold(text) == expected


def test_the_reviewer_sees_the_words_as_written_not_the_normalised_form():
    assert find_solicitation("Plеase gіve us а 10 next time") == "Plеase gіve us а 10"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("We'd love a 10 if you have a minute", "wish"),
        ("If you were happy, please rate us 10.", "condition"),
        ("Anything less than 9 counts as a fail.", "condition"),
        ("When asked, say you are very satisfied.", "survey_answer"),
        ("10/10 please!", "request"),
    ],
)
def test_each_kind_of_solicitation_is_named(text, kind):
    [hit] = find_solicitations([("Customer quote", text)])
    assert hit.kind == kind
    assert hit.where == "Customer quote"


def test_a_solicitation_flag_says_which_words_and_where():
    [flag] = gaming_flags(
        texts=[("Attachment letter.pdf", "Dear guest, we'd love a 10 from you.")],
        is_outcome=False,
        has_operational_metric=True,
    )
    assert flag.reason.startswith("Wishes for a score: \u201cwe'd love a 10\u201d in Attachment letter.pdf.")
    assert flag.as_dict() == {
        "code": "score_solicitation",
        "reason": flag.reason,
        "matched": "we'd love a 10",
        "where": "Attachment letter.pdf",
        "kind": "wish",
    }


def test_an_unreadable_attachment_is_flagged_for_the_reviewer_to_open():
    flags = gaming_flags(texts=["Fixed it"], is_outcome=False, has_operational_metric=True, unread=["scan.pdf"])
    assert [flag.code for flag in flags] == ["attachment_unread"]
    assert "scan.pdf could not be read" in flags[0].reason


def test_a_plain_phrase_matches_whatever_the_case_accents_and_spacing():
    phrase = CompiledPhrase(phrase_regex("Un dix, s'il vous plaît", is_pattern=False), "request", "fr")
    assert find_solicitation("UN  DIX, S'IL VOUS PLAIT", phrases=[phrase]) is not None
    assert find_solicitation("un dixieme", phrases=[phrase]) is None


def test_every_builtin_pattern_compiles_and_matches_its_own_example():
    for row in BUILTIN_PHRASES:
        regex = re.compile(row.pattern)
        example = row.description.split(" / ")[0]
        assert regex.search(fold(example)), row.description
