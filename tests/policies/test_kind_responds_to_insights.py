"""The requirement kind `responds_to_insights`: verified evidence answering customer insights of the person's own
group, by example, by property (hypothesis), and through the stored evaluation of an open case."""

import datetime as dt
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from apps.cases.models import CaseRequirementResult
from apps.cases.services import case_open
from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from apps.evidence.selectors import evidence_facts_by_owner
from apps.evidence.services import evidence_verify
from apps.policies.engine import EvidenceFact, RequirementSpec, SubjectFacts, evaluate
from apps.policies.engine.requirement_kinds import (
    KIND_HELP,
    KIND_LABELS,
    ParamsError,
    RequirementKind,
    describe,
    validate_params,
)
from apps.policies.forms import KIND_PARAMS
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.cases import CycleFactory
from tests.factories.evidence import EvidenceFactory
from tests.factories.insights import InsightRouteFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory
from tests.policies.admin_post import version_post
from tests.policies.test_engine_properties import PROPERTY_SETTINGS, UNITS, evidence_lists

AS_OF = date(2026, 11, 25)
OWN = 10
OTHER = 20
KIND = "responds_to_insights"


def response(
    id: int, *, unit: int | None = OWN, days_ago: int = 10, status: str = "verified", **kw: Any
) -> EvidenceFact:
    """A verified item answering an insight routed to `unit`, ten days ago unless told otherwise."""
    return EvidenceFact(
        id=id,
        category_code=kw.pop("category", "customer_story"),
        is_outcome=kw.pop("is_outcome", False),
        status=status,
        impact_date=AS_OF - timedelta(days=days_ago),
        insight_unit_id=unit,
        **kw,
    )


def spec(count: int = 1, within_days: int | None = None, id: int = 1) -> RequirementSpec:
    params = validate_params(KIND, {"count": count, "within_days": within_days}, category_codes=(), touchpoint_codes=())
    return RequirementSpec(id=id, kind=KIND, params=params)


def result(facts: list[EvidenceFact], *specs: RequirementSpec, unit: int | None = OWN):
    evaluation = evaluate(list(specs) or [spec()], SubjectFacts(unit, facts), AS_OF)
    return evaluation.results[-1] if len(specs) > 1 else evaluation.results[0]


def errors(params: object) -> dict[str, list[str]]:
    with pytest.raises(ParamsError) as caught:
        validate_params(KIND, params, category_codes=(), touchpoint_codes=())
    return caught.value.errors


# Params


def test_params_need_a_count_of_at_least_one() -> None:
    assert errors({}) == {"count": ["This field is required."]}
    assert errors({"count": 0}) == {"count": ["Must be a whole number of at least 1."]}
    assert errors({"count": True}) == {"count": ["Must be a whole number of at least 1."]}


def test_params_window_is_optional_and_bounded_like_the_other_kinds() -> None:
    assert validate_params(KIND, {"count": 2}, category_codes=(), touchpoint_codes=()) == {
        "count": 2,
        "within_days": None,
    }
    assert errors({"count": 1, "within_days": 0}) == {
        "within_days": ["Must be a whole number of days from 1 to 36500, or null for no window."]
    }


def test_params_refuse_filters_the_kind_does_not_have() -> None:
    assert errors({"count": 1, "categories": ["customer_story"]}) == {
        "categories": ["Unknown parameter 'categories' for responds_to_insights. Allowed: count, within_days."]
    }


# Sentence, label and help


def test_sentence_reads_as_plain_language() -> None:
    assert describe(KIND, {"count": 2, "within_days": 90}) == (
        "At least 2 verified responses to customer insights sent to the person's group, from the last 90 days"
    )
    assert describe(KIND, {"count": 1, "within_days": None}) == (
        "At least 1 verified response to customer insights sent to the person's group"
    )


def test_kind_has_a_label_a_help_text_and_the_workbench_fields() -> None:
    kind = RequirementKind.RESPONDS_TO_INSIGHTS
    assert KIND_LABELS[kind] == "Responses to customer insights"
    assert "insight" in KIND_HELP[kind]
    assert KIND_PARAMS[KIND] == ["count", "within_days"]


# Met and unmet


def test_met_by_enough_verified_responses_to_the_own_units_insights() -> None:
    r = result([response(1), response(2)], spec(count=2))
    assert (r.met, r.have, r.counted_ids) == (True, 2, (1, 2))
    assert r.reason == "Met: 2 of 2 verified responses to customer insights sent to the person's group."


def test_unmet_when_too_few_responses() -> None:
    r = result([response(1)], spec(count=2))
    assert (r.met, r.have) == (False, 1)
    assert r.reason.startswith("Not met: 1 of 2 verified responses")


def test_responses_to_another_units_insights_do_not_count_and_the_reason_says_so() -> None:
    r = result([response(1, unit=OTHER), response(2, unit=OTHER)])
    assert (r.met, r.have) == (False, 0)
    assert "2 responses answer insights sent to another group" in r.reason


def test_evidence_that_answers_no_insight_does_not_count() -> None:
    assert result([response(1, unit=None)]).met is False


def test_a_subject_without_a_unit_never_meets_it() -> None:
    assert result([response(1, unit=None)], unit=None).met is False


def test_only_verified_responses_count_and_pending_ones_earn_a_hint() -> None:
    r = result([response(1, status="submitted"), response(2, status="rejected"), response(3, status="draft")])
    assert (r.met, r.have) == (False, 0)
    assert "2 matching items not yet verified" in r.reason


def test_window_counts_both_edges_and_nothing_older() -> None:
    inside, edge, old = response(1, days_ago=5), response(2, days_ago=90), response(3, days_ago=91)
    r = result([inside, edge, old], spec(count=3, within_days=90))
    assert (r.met, r.have, r.counted_ids) == (False, 2, (1, 2))
    assert "1 matching item is older than the 90-day window" in r.reason


def test_future_dated_responses_do_not_count_yet() -> None:
    assert result([response(1, days_ago=-1)]).met is False


def test_outcome_cap_limits_survey_score_responses_as_for_other_count_kinds() -> None:
    cap = RequirementSpec(id=9, kind="outcome_cap", params={"max": 1})
    scores = [response(i, is_outcome=True, days_ago=i) for i in (1, 2, 3)]
    r = result(scores, cap, spec(count=2))
    assert (r.met, r.have, r.counted_ids) == (False, 1, (1,))
    assert "2 survey-score items not counted (cap 1)" in r.reason


# Properties


@PROPERTY_SETTINGS
@given(evidence=evidence_lists(), unit=st.sampled_from(UNITS), count=st.integers(1, 4))
def test_have_is_the_number_of_verified_responses_to_the_units_insights(
    evidence: list[EvidenceFact], unit: int | None, count: int
) -> None:
    r = evaluate([spec(count=count)], SubjectFacts(unit, evidence), AS_OF).results[0]
    expected = {
        f.id
        for f in evidence
        if f.status == "verified" and f.impact_date <= AS_OF and f.insight_unit_id is not None
        and f.insight_unit_id == unit
    }  # fmt: skip
    assert set(r.counted_ids) == expected
    assert r.met == (len(expected) >= count)


@PROPERTY_SETTINGS
@given(evidence=evidence_lists(), unit=st.sampled_from(UNITS), moved=st.sampled_from(UNITS))
def test_moving_a_response_to_another_units_insight_never_adds_to_the_count(
    evidence: list[EvidenceFact], unit: int | None, moved: int | None
) -> None:
    before = evaluate([spec()], SubjectFacts(unit, evidence), AS_OF).results[0].have
    shifted = [
        EvidenceFact(**{**{name: getattr(f, name) for name in f.__slots__}, "insight_unit_id": moved})
        if f.insight_unit_id == unit else f
        for f in evidence
    ]  # fmt: skip
    after = evaluate([spec()], SubjectFacts(unit, shifted), AS_OF).results[0].have
    assert after == before if moved == unit else after == 0


# Facts and stored evaluations (database)


@pytest.fixture
def org(db):
    """Dana in the Front Desk unit, and an HR reviewer."""
    groups = ensure_role_groups()
    unit = OrgUnitFactory(name="Front Desk")
    dana = EmployeeFactory(org_unit=unit, full_name="Dana Okafor", user=UserFactory(username="dana"))
    hr_a = UserFactory(username="hr-a")
    hr_a.groups.add(groups[Role.HR])
    return {"unit": unit, "dana": dana, "hr_a": hr_a}


@pytest.fixture
def response_policy(db):
    """A promotion baseline that asks for one verified response to the group's insights in 90 days."""
    policy = policy_create(ritual_type=RitualType.objects.get(code="promotion"), scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=60))
    requirement_add(version=version, kind=KIND, params={"count": 1, "within_days": 90})
    return policy_version_publish(version=version, today=version.effective_from)


def test_facts_carry_the_unit_of_the_insight_a_response_answers(org) -> None:
    route = InsightRouteFactory(unit=org["unit"])
    answer = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED, responds_to=route)
    plain = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)

    facts = {f.id: f for f in evidence_facts_by_owner(owner_ids=[org["dana"].pk])[org["dana"].pk]}

    assert facts[answer.pk].insight_unit_id == org["unit"].pk
    assert facts[plain.pk].insight_unit_id is None


def test_verifying_a_response_refreshes_its_owners_open_case(
    org, response_policy, django_capture_on_commit_callbacks
) -> None:
    case = case_open(cycle=CycleFactory(), subject_employee=org["dana"])
    assert list(CaseRequirementResult.objects.filter(case=case).values_list("met", flat=True)) == [False]
    answer = EvidenceFactory(
        owner=org["dana"],
        status=EvidenceStatus.SUBMITTED,
        submitted_at=timezone.now(),
        responds_to=InsightRouteFactory(unit=org["unit"]),
    )

    with django_capture_on_commit_callbacks(execute=True):
        evidence_verify(evidence=answer, by=org["hr_a"], acknowledge_flags=True)

    row = CaseRequirementResult.objects.get(case=case)
    assert (row.met, row.have, row.counted_ids) == (True, 1, [answer.pk])
    case.refresh_from_db()
    assert case.compliant is True


# The HR workbench (admin policy version page)


@pytest.fixture
def draft(db):
    policy = policy_create(ritual_type=RitualType.objects.get(code="promotion"), scope=None)
    return policy_version_create(policy=policy, effective_from=timezone.localdate())


def test_hr_adds_the_kind_with_its_count_and_window_fields_and_sees_its_sentence(admin_client, draft) -> None:
    url = reverse("admin:policies_policyversion_change", args=[draft.pk])
    row = {"kind": KIND, "count": "2", "within_days": "90", "max": "3"}

    response = admin_client.post(url, version_post(draft, [row], _continue="1"))

    assert response.status_code == 302
    assert draft.requirements.get().params == {"count": 2, "within_days": 90}
    page = admin_client.get(url).content.decode()
    assert "Responses to customer insights" in page
    assert (
        "At least 2 verified responses to customer insights sent to the person&#x27;s group, from the last 90" in page
    )


def test_hr_sees_a_missing_count_next_to_the_field(admin_client, draft) -> None:
    url = reverse("admin:policies_policyversion_change", args=[draft.pk])

    response = admin_client.post(url, version_post(draft, [{"kind": KIND, "count": "", "within_days": "90"}]))

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "count" in errors and not draft.requirements.exists()
