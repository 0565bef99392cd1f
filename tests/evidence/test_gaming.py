"""Gaming flags: score solicitation and outcome-only claims are pointed out to reviewers."""

import pytest

from apps.evidence.gaming import find_solicitation, gaming_flags


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
    assert "give us a 10" in flags[0].reason


def test_outcome_score_without_operational_metric_is_flagged():
    flags = gaming_flags(texts=["CSAT went up"], is_outcome=True, has_operational_metric=False)
    assert [flag.code for flag in flags] == ["outcome_only"]


def test_survey_claim_in_text_without_a_metric_is_flagged():
    flags = gaming_flags(texts=["Our NPS improved a lot"], is_outcome=False, has_operational_metric=False)
    assert [flag.code for flag in flags] == ["outcome_only"]


def test_operational_evidence_mentioning_nps_is_not_flagged():
    flags = gaming_flags(texts=["NPS followed"], is_outcome=False, has_operational_metric=True)
    assert flags == []
