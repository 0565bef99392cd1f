"""HR edits requirements field by field (counts, categories by name, windows), never as JSON."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.policies.models import EvidenceCategory, Requirement, RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.org import TouchpointFactory
from tests.policies.admin_post import version_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    policy = policy_create(ritual_type=RitualType.objects.get(code="promotion"), scope=None)
    return policy_version_create(policy=policy, effective_from=timezone.localdate())


def change_url(version):
    return reverse("admin:policies_policyversion_change", args=[version.pk])


def row_errors(response, index=0):
    return response.context["inline_admin_formsets"][0].formset.forms[index].errors


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"kind": "min_evidence", "count": "2", "categories": ["customer_story"], "within_days": "365"},
            {
                "count": 2,
                "categories": ["customer_story"],
                "customer_type": "any",
                "touchpoints": [],
                "within_days": 365,
            },
        ),
        (
            {"kind": "min_evidence", "count": "1", "customer_type": "internal", "within_days": ""},
            {"count": 1, "categories": [], "customer_type": "internal", "touchpoints": [], "within_days": None},
        ),
        (
            {"kind": "metric_improvement", "count": "1", "min_improvement_pct": "12.5", "within_days": "180"},
            {"count": 1, "min_improvement_pct": 12.5, "categories": [], "within_days": 180},
        ),
        ({"kind": "distinct_categories", "count": "3", "within_days": "730"}, {"count": 3, "within_days": 730}),
        ({"kind": "customer_voice", "count": "1", "within_days": "365"}, {"count": 1, "within_days": 365}),
        ({"kind": "internal_customer", "count": "2", "within_days": ""}, {"count": 2, "within_days": None}),
        ({"kind": "outcome_cap", "max": "1", "count": "5", "within_days": "30"}, {"max": 1}),
        ({"kind": "attestation", "role": "skip_level_manager", "count": "4"}, {"role": "skip_level_manager"}),
    ],
)
def test_each_kind_saves_the_params_of_its_own_fields_and_ignores_the_others(admin_client, draft, row, expected):
    response = admin_client.post(change_url(draft), version_post(draft, [row], _continue="1"))

    assert response.status_code == 302, row_errors(response)
    assert draft.requirements.get().params == expected


def test_touchpoints_are_picked_by_name_and_stored_as_codes(admin_client, draft):
    chat = TouchpointFactory(name="Support chat", code="support-chat")
    page = admin_client.get(change_url(draft)).content.decode()
    assert "Support chat" in page

    row = {"kind": "min_evidence", "count": "1", "touchpoints": [chat.code], "within_days": "90"}
    admin_client.post(change_url(draft), version_post(draft, [row]))

    assert draft.requirements.get().params["touchpoints"] == ["support-chat"]


def test_categories_are_offered_by_name_not_code(admin_client, draft):
    page = admin_client.get(change_url(draft)).content.decode()

    assert "Customer story" in page
    assert 'value="customer_story"' in page


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"kind": "min_evidence", "count": "0"}, "count", "Must be a whole number of at least 1."),
        ({"kind": "min_evidence", "count": ""}, "count", "This field is required."),
        ({"kind": "min_evidence", "count": "1", "within_days": "99999"}, "within_days", "days from 1 to 36500"),
        (
            {"kind": "metric_improvement", "count": "1", "min_improvement_pct": "5000"},
            "min_improvement_pct",
            "between 0 and 1000",
        ),
        ({"kind": "attestation", "role": ""}, "role", "This field is required."),
        ({"kind": "outcome_cap", "max": "-1"}, "max", "at least 0"),
        ({"kind": "min_evidence", "count": "two"}, "count", "Enter a whole number."),
    ],
)
def test_a_bad_value_shows_its_message_next_to_its_field_and_writes_nothing(admin_client, draft, row, field, message):
    data = version_post(draft, [row])
    data["notes"] = "Changed notes that must not be saved"

    response = admin_client.post(change_url(draft), data)

    assert response.status_code == 200
    assert any(message in text for text in row_errors(response)[field])
    assert message in response.content.decode()
    draft.refresh_from_db()
    assert draft.notes == ""
    assert not draft.requirements.exists()


def test_an_existing_requirement_shows_its_params_in_the_fields(admin_client, draft):
    requirement_add(
        version=draft, kind="min_evidence", params={"count": 2, "categories": ["customer_story"], "within_days": 365}
    )

    response = admin_client.get(change_url(draft))

    form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert form["count"].value() == 2
    assert form["categories"].value() == ["customer_story"]
    assert form["within_days"].value() == 365
    assert re.search(r'<input[^>]*value="customer_story"[^>]*checked', str(form["categories"]))


def test_editing_an_existing_requirement_changes_its_params(admin_client, draft):
    requirement = requirement_add(
        version=draft, kind="min_evidence", params={"count": 2, "categories": ["customer_story"], "within_days": 365}
    )
    row = {"id": str(requirement.pk), "kind": "min_evidence", "count": "3", "categories": ["customer_story"]}

    admin_client.post(change_url(draft), version_post(draft, [row]))

    requirement.refresh_from_db()
    assert requirement.params["count"] == 3
    assert requirement.params["within_days"] is None


def test_each_saved_row_shows_its_plain_language_sentence(admin_client, draft):
    requirement_add(
        version=draft, kind="min_evidence", params={"count": 2, "categories": ["customer_story"], "within_days": 365}
    )

    page = admin_client.get(change_url(draft)).content.decode()

    assert "2 verified Customer story items within 365 days" in page


def test_a_published_version_lists_its_requirements_as_sentences(admin_client, draft):
    requirement_add(version=draft, kind="metric_improvement", params={"count": 1, "min_improvement_pct": 10})
    requirement_add(version=draft, kind="outcome_cap", params={"max": 1})
    policy_version_publish(version=draft)

    page = admin_client.get(change_url(draft)).content.decode()

    assert "1 operational-metric improvement of at least 10%" in page
    assert "At most 1 survey-score item counts toward each requirement" in page
    assert 'name="requirements-0-count"' not in page


def test_preview_page_shows_each_requirement_sentence(admin_client, draft):
    requirement_add(version=draft, kind="min_evidence", params={"count": 2, "categories": ["customer_story"]})

    page = admin_client.get(reverse("admin:cases_case_preview", args=[draft.pk])).content.decode()

    assert "2 verified Customer story items" in page


def test_without_javascript_every_field_says_which_kinds_use_it(admin_client, draft):
    page = admin_client.get(change_url(draft)).content.decode()

    assert "policies/requirement_editor.js" in page
    assert "Used by: Minimum verified evidence, Operational metric improvements." in page
    assert "data-kind-params" in page


def test_draft_page_query_count_does_not_grow_with_requirements(admin_client, draft, django_assert_max_num_queries):
    for count in range(1, 16):
        requirement_add(version=draft, kind="min_evidence", params={"count": count, "categories": ["customer_story"]})

    with django_assert_max_num_queries(15):
        response = admin_client.get(change_url(draft))

    assert response.status_code == 200
    assert "15 verified Customer story items" in response.content.decode()


def test_requirement_rows_keep_an_inactive_category_they_already_use(admin_client, draft):
    requirement_add(version=draft, kind="min_evidence", params={"count": 1, "categories": ["silo_bridging"]})
    EvidenceCategory.objects.filter(code="silo_bridging").audited_update(active=False)
    requirement = Requirement.objects.get()
    row = {"id": str(requirement.pk), "kind": "min_evidence", "count": "1", "categories": ["silo_bridging"]}

    response = admin_client.post(change_url(draft), version_post(draft, [row]))

    assert response.status_code == 302
    requirement.refresh_from_db()
    assert requirement.params["categories"] == ["silo_bridging"]


def test_published_page_query_count_does_not_grow_with_requirements(admin_client, draft, django_assert_max_num_queries):
    for count in range(1, 16):
        requirement_add(version=draft, kind="customer_voice", params={"count": count})
    policy_version_publish(version=draft)

    with django_assert_max_num_queries(12):
        response = admin_client.get(change_url(draft))

    assert "15 verified customer quotes with a named source" in response.content.decode()
