"""Policy versions: drafting, validation, publishing, immutability and retirement."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from apps.audit.models import AuditEvent
from apps.policies.constants import VersionStatus
from apps.policies.models import PolicyVersion, Requirement, RitualType
from apps.policies.services import (
    policy_create,
    policy_version_create,
    policy_version_draft_from,
    policy_version_publish,
    policy_version_retire,
    requirement_add,
)
from tests.factories.org import OrgUnitFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 25)
STORIES = {"count": 2, "categories": ["customer_story"], "within_days": 365}


@pytest.fixture
def promotion():
    return RitualType.objects.get(code="promotion")


@pytest.fixture
def baseline(promotion):
    return policy_create(ritual_type=promotion, scope=None)


def published(policy, start, specs=(("min_evidence", STORIES),), end=None):
    version = policy_version_create(policy=policy, effective_from=start)
    if end:
        version.effective_to = end
        version.save()
    for kind, params in specs:
        requirement_add(version=version, kind=kind, params=params)
    return policy_version_publish(version=version, today=start)


def test_six_rituals_and_ten_categories_are_there_from_the_start():
    from apps.policies.models import EvidenceCategory

    assert set(RitualType.objects.values_list("code", flat=True)) >= {
        "promotion",
        "raise",
        "hiring",
        "bonus",
        "budget-expansion",
        "recognition",
    }
    assert RitualType.objects.get(code="hiring").subject_kind == "candidate"
    assert RitualType.objects.get(code="budget-expansion").subject_kind == "org_unit"
    assert EvidenceCategory.objects.count() >= 10
    assert EvidenceCategory.objects.get(code="outcome_score").is_outcome is True


def test_second_baseline_for_the_same_ritual_is_refused_with_a_clear_message(baseline, promotion):
    with pytest.raises(ValidationError) as error:
        policy_create(ritual_type=promotion, scope=None)
    assert "already has a company-wide baseline" in str(error.value)


def test_requirement_add_fills_defaults_and_rejects_bad_params(baseline):
    version = policy_version_create(policy=baseline, effective_from=TODAY)

    requirement = requirement_add(version=version, kind="min_evidence", params={"count": 2})
    assert requirement.params["customer_type"] == "any"
    assert requirement.params["within_days"] is None

    with pytest.raises(ValidationError) as error:
        requirement_add(version=version, kind="min_evidence", params={"count": -1, "categories": ["nope"]})
    messages = error.value.message_dict["params"]
    assert any(m.startswith("count:") for m in messages)
    assert any("Unknown category code" in m and "nope" in m for m in messages)


def test_unknown_requirement_kind_is_refused_on_the_kind_field(baseline):
    version = policy_version_create(policy=baseline, effective_from=TODAY)
    with pytest.raises(ValidationError) as error:
        requirement_add(version=version, kind="vibes", params={})
    assert "kind" in error.value.message_dict


def test_publish_makes_a_version_immutable(baseline):
    version = published(baseline, TODAY)

    assert version.status == VersionStatus.PUBLISHED
    version.notes = "sneaky edit"
    with pytest.raises(ValidationError, match="cannot be edited"):
        version.save()
    requirement = version.requirements.get()
    requirement.params = {**requirement.params, "count": 1}
    with pytest.raises(ValidationError, match="cannot be changed"):
        requirement.save()
    with pytest.raises(ValidationError):
        requirement_add(version=version, kind="customer_voice", params={"count": 1})
    with pytest.raises(ValidationError, match="only drafts can be deleted"):
        version.delete()


def test_publishing_writes_an_audit_event(baseline):
    version = published(baseline, TODAY)

    event = AuditEvent.objects.filter(action="policy_published").latest("id")
    assert event.object_id == str(version.pk)


def test_publish_refuses_an_empty_version(baseline):
    version = policy_version_create(policy=baseline, effective_from=TODAY)
    with pytest.raises(ValidationError, match="at least one requirement"):
        policy_version_publish(version=version, today=TODAY)
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_publish_refuses_a_start_date_in_the_past(baseline):
    version = policy_version_create(policy=baseline, effective_from=TODAY - dt.timedelta(days=1))
    requirement_add(version=version, kind="min_evidence", params=STORIES)
    with pytest.raises(ValidationError, match="cannot take effect in the past"):
        policy_version_publish(version=version, today=TODAY)


def test_publishing_next_years_version_ends_the_open_ended_one_the_day_before(baseline):
    current = published(baseline, dt.date(2026, 1, 1))
    nxt = published(baseline, dt.date(2027, 1, 1))

    current.refresh_from_db()
    assert current.effective_to == dt.date(2026, 12, 31)
    assert nxt.status == VersionStatus.PUBLISHED


def test_overlapping_bounded_versions_are_refused(baseline):
    published(baseline, dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    version = policy_version_create(policy=baseline, effective_from=dt.date(2026, 12, 1))
    requirement_add(version=version, kind="min_evidence", params=STORIES)

    with pytest.raises(ValidationError, match="overlap version 1"):
        policy_version_publish(version=version, today=dt.date(2026, 12, 1))
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_new_draft_copies_requirements_and_leaves_the_original_untouched(baseline):
    original = published(baseline, TODAY, specs=[("min_evidence", STORIES), ("outcome_cap", {"max": 1})])

    draft = policy_version_draft_from(version=original, effective_from=dt.date(2027, 1, 1))

    assert draft.status == VersionStatus.DRAFT
    assert draft.number == original.number + 1
    assert draft.based_on == original
    assert [r.kind for r in draft.requirements.all()] == ["min_evidence", "outcome_cap"]
    assert original.requirements.count() == 2


def test_retire_stops_a_version_applying_from_today(baseline):
    version = published(baseline, dt.date(2026, 1, 1))

    policy_version_retire(version=version, today=TODAY)

    version.refresh_from_db()
    assert version.status == VersionStatus.RETIRED
    assert version.effective_to == TODAY - dt.timedelta(days=1)
    assert list(PolicyVersion.objects.in_force(TODAY)) == []
    assert list(PolicyVersion.objects.in_force(TODAY - dt.timedelta(days=1))) == [version]


def test_retiring_a_version_before_it_starts_means_it_never_applies(baseline):
    version = published(baseline, dt.date(2027, 1, 1))

    policy_version_retire(version=version, today=TODAY)

    assert not PolicyVersion.objects.in_force(dt.date(2027, 6, 1)).exists()


def test_retire_refuses_a_draft(baseline):
    version = policy_version_create(policy=baseline, effective_from=TODAY)
    with pytest.raises(ValidationError, match="only published versions can be retired"):
        policy_version_retire(version=version, today=TODAY)


def test_group_policy_scope_must_exist_and_can_coexist_with_baseline(baseline, promotion):
    unit = OrgUnitFactory()
    group = policy_create(ritual_type=promotion, scope=unit)
    assert "additions" in group.name
    assert Requirement.objects.count() == 0
