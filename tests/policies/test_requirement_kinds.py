"""Requirement kinds: params validation, help texts and descriptions (no database)."""

import json
import math
import re
from decimal import Decimal
from typing import Any

import pytest

from apps.policies.engine.requirement_kinds import (
    ATTESTATION_ROLES,
    KIND_CHOICES,
    KIND_HELP,
    KIND_LABELS,
    MAX_WINDOW_DAYS,
    ParamsError,
    RequirementKind,
    describe,
    validate_params,
)

CATEGORIES = {"customer_story", "operational_metric", "outcome_metric"}
TOUCHPOINTS = {"onboarding", "support"}


def clean(kind: str, params: object) -> dict[str, Any]:
    return validate_params(kind, params, category_codes=CATEGORIES, touchpoint_codes=TOUCHPOINTS)


def errors_of(kind: str, params: object) -> dict[str, list[str]]:
    with pytest.raises(ParamsError) as info:
        clean(kind, params)
    return info.value.errors


# --- defaults and normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        (
            "min_evidence",
            {"count": 2},
            {"count": 2, "categories": [], "customer_type": "any", "touchpoints": [], "within_days": None},
        ),
        (
            "metric_improvement",
            {"count": 1},
            {"count": 1, "min_improvement_pct": 0, "categories": [], "within_days": None},
        ),
        ("distinct_categories", {"count": 3}, {"count": 3, "within_days": None}),
        ("customer_voice", {"count": 1}, {"count": 1, "within_days": None}),
        ("internal_customer", {"count": 1}, {"count": 1, "within_days": None}),
        ("outcome_cap", {"max": 0}, {"max": 0}),
        ("attestation", {"role": "hr"}, {"role": "hr"}),
    ],
)
def test_validate_fills_every_default(kind: str, params: dict[str, Any], expected: dict[str, Any]) -> None:
    assert clean(kind, params) == expected


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        (
            "min_evidence",
            {
                "count": 2,
                "categories": ["customer_story"],
                "customer_type": "internal",
                "touchpoints": ["support"],
                "within_days": 365,
            },
        ),
        ("metric_improvement", {"count": 1, "min_improvement_pct": 12.5, "within_days": 30}),
        ("outcome_cap", {"max": 2}),
    ],
)
def test_cleaned_params_validate_again_unchanged(kind: str, params: dict[str, Any]) -> None:
    once = clean(kind, params)
    assert clean(kind, once) == once


def test_integral_float_and_decimal_counts_are_normalised_to_int() -> None:
    cleaned = clean("min_evidence", {"count": 2.0, "within_days": Decimal("30")})
    assert cleaned["count"] == 2 and type(cleaned["count"]) is int
    assert cleaned["within_days"] == 30 and type(cleaned["within_days"]) is int


def test_whole_improvement_pct_is_kept_as_int_and_fraction_as_float() -> None:
    whole = clean("metric_improvement", {"count": 1, "min_improvement_pct": 10.0})["min_improvement_pct"]
    fraction = clean("metric_improvement", {"count": 1, "min_improvement_pct": 12.5})["min_improvement_pct"]
    assert whole == 10 and type(whole) is int
    assert fraction == 12.5


def test_duplicate_codes_are_dropped_keeping_first_order() -> None:
    categories = ["outcome_metric", "customer_story", "outcome_metric"]
    cleaned = clean("min_evidence", {"count": 1, "categories": categories})
    assert cleaned["categories"] == ["outcome_metric", "customer_story"]


def test_null_lists_and_window_mean_the_defaults() -> None:
    nulls = {"categories": None, "touchpoints": None, "within_days": None}
    cleaned = clean("min_evidence", {"count": 1, **nulls})
    assert cleaned["categories"] == [] and cleaned["touchpoints"] == [] and cleaned["within_days"] is None


def test_kind_may_be_given_as_enum_member() -> None:
    assert clean(RequirementKind.CUSTOMER_VOICE, {"count": 1}) == {"count": 1, "within_days": None}


# --- error messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3", None, [], float("nan")])
def test_count_must_be_a_whole_number_of_at_least_one(bad: object) -> None:
    assert errors_of("min_evidence", {"count": bad}) == {"count": ["Must be a whole number of at least 1."]}


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("min_evidence", {"count": True}, "count"),
        ("outcome_cap", {"max": False}, "max"),
        ("customer_voice", {"count": 1, "within_days": True}, "within_days"),
        ("metric_improvement", {"count": 1, "min_improvement_pct": True}, "min_improvement_pct"),
    ],
)
def test_bool_is_never_accepted_as_a_number(kind: str, params: dict[str, Any], field: str) -> None:
    assert list(errors_of(kind, params)) == [field]


def test_missing_required_field_is_reported() -> None:
    assert errors_of("distinct_categories", {}) == {"count": ["This field is required."]}
    assert errors_of("attestation", {}) == {"role": ["This field is required."]}
    assert errors_of("outcome_cap", {}) == {"max": ["This field is required."]}


def test_unknown_param_is_rejected_with_a_message_naming_it() -> None:
    errors = errors_of("customer_voice", {"count": 1, "categories": ["customer_story"]})
    message = "Unknown parameter 'categories' for customer_voice. Allowed: count, within_days."
    assert errors == {"categories": [message]}


def test_unknown_kind_lists_every_valid_kind() -> None:
    errors = errors_of("x", {"count": 1})
    assert errors == {
        "kind": [
            "Unknown requirement kind 'x'. Choose one of: min_evidence, metric_improvement, "
            "distinct_categories, customer_voice, internal_customer, outcome_cap, attestation, responds_to_insights."
        ]
    }


@pytest.mark.parametrize("bad", [[1, 2], "count=2", None, 3])
def test_params_that_are_not_an_object_are_reported_under_all(bad: object) -> None:
    errors = errors_of("min_evidence", bad)
    assert list(errors) == ["__all__"]
    assert errors["__all__"][0].startswith("Parameters must be a JSON object")


def test_non_text_param_names_are_reported_under_all() -> None:
    assert list(errors_of("min_evidence", {1: 2})) == ["__all__"]


def test_unknown_category_codes_are_listed_with_the_known_ones() -> None:
    with pytest.raises(ParamsError) as info:
        validate_params(
            "min_evidence",
            {"count": 1, "categories": ["foo", "a"]},
            category_codes=["c", "a", "b"],
            touchpoint_codes=[],
        )
    assert info.value.errors == {"categories": ["Unknown category code(s): foo. Known: a, b, c."]}


def test_unknown_touchpoint_codes_are_listed_with_the_known_ones() -> None:
    errors = errors_of("min_evidence", {"count": 1, "touchpoints": ["phone", "mail"]})
    assert errors == {"touchpoints": ["Unknown touchpoint code(s): phone, mail. Known: onboarding, support."]}


def test_unknown_codes_message_says_none_are_known_when_list_is_empty() -> None:
    with pytest.raises(ParamsError) as info:
        validate_params(
            "metric_improvement",
            {"count": 1, "categories": ["x"]},
            category_codes=(),
            touchpoint_codes=(),
        )
    assert info.value.errors == {"categories": ["Unknown category code(s): x. Known: (none)."]}


@pytest.mark.parametrize("bad", ["customer_story", [1], {"a": 1}])
def test_categories_must_be_a_list_of_codes(bad: object) -> None:
    assert errors_of("min_evidence", {"count": 1, "categories": bad}) == {
        "categories": ["Must be a list of category codes."]
    }


def test_customer_type_must_be_one_of_the_choices() -> None:
    assert errors_of("min_evidence", {"count": 1, "customer_type": "partner"}) == {
        "customer_type": ["Must be one of: any, external, internal."]
    }


@pytest.mark.parametrize("bad", [0, -5, 2.5, "30", MAX_WINDOW_DAYS + 1])
def test_window_must_be_whole_days_within_bounds(bad: object) -> None:
    assert errors_of("internal_customer", {"count": 1, "within_days": bad}) == {
        "within_days": [f"Must be a whole number of days from 1 to {MAX_WINDOW_DAYS}, or null for no window."]
    }


def test_window_accepts_its_bounds() -> None:
    assert clean("customer_voice", {"count": 1, "within_days": 1})["within_days"] == 1
    longest = clean("customer_voice", {"count": 1, "within_days": MAX_WINDOW_DAYS})
    assert longest["within_days"] == MAX_WINDOW_DAYS


@pytest.mark.parametrize("bad", [-1, 1000.5, 1001, "10", math.inf, math.nan, Decimal("sNaN"), None])
def test_min_improvement_pct_must_be_between_0_and_1000(bad: object) -> None:
    assert errors_of("metric_improvement", {"count": 1, "min_improvement_pct": bad}) == {
        "min_improvement_pct": ["Must be a number between 0 and 1000 (percent)."]
    }


@pytest.mark.parametrize("good", [0, 1000, 0.5, Decimal("7.5")])
def test_min_improvement_pct_accepts_its_range(good: int | float | Decimal) -> None:
    cleaned = clean("metric_improvement", {"count": 1, "min_improvement_pct": good})
    assert cleaned["min_improvement_pct"] == float(good)


def test_outcome_cap_max_may_be_zero_but_not_negative() -> None:
    assert clean("outcome_cap", {"max": 0}) == {"max": 0}
    assert errors_of("outcome_cap", {"max": -1}) == {"max": ["Must be a whole number of at least 0."]}


@pytest.mark.parametrize("role", ATTESTATION_ROLES)
def test_attestation_accepts_every_known_role(role: str) -> None:
    assert clean("attestation", {"role": role}) == {"role": role}


def test_attestation_role_must_be_known() -> None:
    assert errors_of("attestation", {"role": "ceo"}) == {
        "role": ["Must be one of: manager, hr, leadership, skip_level_manager."]
    }


def test_all_field_errors_are_collected_before_raising() -> None:
    params = {"count": 0, "categories": ["nope"], "customer_type": "x", "colour": "red"}
    errors = errors_of("min_evidence", params)
    assert set(errors) == {"count", "categories", "customer_type", "colour"}


def test_params_error_message_names_each_field() -> None:
    with pytest.raises(ParamsError) as info:
        clean("outcome_cap", {"max": -1, "min": 2})
    assert "max: Must be a whole number of at least 0." in str(info.value)
    assert "min: Unknown parameter 'min'" in str(info.value)


# --- labels, help and choices ------------------------------------------------------------------------


def test_every_kind_has_a_label_and_a_choice() -> None:
    assert set(KIND_LABELS) == set(RequirementKind)
    assert [value for value, _ in KIND_CHOICES] == [kind.value for kind in RequirementKind]


@pytest.mark.parametrize("kind", list(RequirementKind))
def test_every_kind_help_has_an_example_that_validates(kind: RequirementKind) -> None:
    found = re.search(r"Example: (\{.*?\}) = ", KIND_HELP[kind])
    assert found, f"{kind} help has no example"
    example = json.loads(found.group(1))
    assert clean(kind, example)


# --- describe ----------------------------------------------------------------------------------------


def test_describe_min_evidence_with_codes() -> None:
    params = clean("min_evidence", {"count": 2, "categories": ["customer_story"], "within_days": 365})
    assert describe("min_evidence", params) == "2 verified customer_story items within 365 days"


def test_describe_renders_category_names_when_given() -> None:
    params = clean("min_evidence", {"count": 1, "categories": ["customer_story", "outcome_metric"]})
    names = {"customer_story": "customer story", "outcome_metric": "survey score"}
    expected = "1 verified customer story or survey score item"
    assert describe("min_evidence", params, category_names=names) == expected


def test_describe_min_evidence_mentions_customer_type_and_touchpoints() -> None:
    raw = {"count": 3, "customer_type": "external", "touchpoints": ["onboarding", "support"]}
    params = clean("min_evidence", raw)
    assert describe("min_evidence", params) == (
        "3 verified items for external customers via touchpoints onboarding or support"
    )


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        (
            "metric_improvement",
            {"count": 1, "min_improvement_pct": 10, "within_days": 365},
            "1 operational-metric improvement of at least 10% within 365 days",
        ),
        ("metric_improvement", {"count": 2}, "2 operational-metric improvements"),
        (
            "metric_improvement",
            {"count": 1, "min_improvement_pct": 12.5},
            "1 operational-metric improvement of at least 12.5%",
        ),
        (
            "distinct_categories",
            {"count": 3, "within_days": 1},
            "3 distinct categories covered by verified evidence within 1 day",
        ),
        ("distinct_categories", {"count": 1}, "1 distinct category covered by verified evidence"),
        ("customer_voice", {"count": 1}, "1 verified customer quote with a named source"),
        ("internal_customer", {"count": 2}, "2 verified items for internal customers in other units"),
        ("internal_customer", {"count": 1}, "1 verified item for an internal customer in another unit"),
        ("outcome_cap", {"max": 0}, "Survey-score items do not count toward any requirement"),
        ("outcome_cap", {"max": 1}, "At most 1 survey-score item counts toward each requirement"),
        ("outcome_cap", {"max": 2}, "At most 2 survey-score items count toward each requirement"),
        ("attestation", {"role": "skip_level_manager"}, "Attestation by the skip-level manager"),
        ("attestation", {"role": "hr"}, "Attestation by HR"),
    ],
)
def test_describe_reads_as_a_sentence(kind: str, params: dict[str, Any], expected: str) -> None:
    assert describe(kind, clean(kind, params)) == expected
