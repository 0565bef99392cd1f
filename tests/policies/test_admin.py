"""HR works on policies in the admin: versions with inline requirements, publish, new draft, retire, inventory."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.policies.constants import VersionStatus
from apps.policies.models import PolicyVersion, RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.org import OrgUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def promotion():
    return RitualType.objects.get(code="promotion")


@pytest.fixture
def draft(promotion):
    policy = policy_create(ritual_type=promotion, scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate())
    requirement_add(version=version, kind="min_evidence", params={"count": 2, "categories": ["customer_story"]})
    return version


def inline_post(version, rows, **extra):
    """The POST body of the version change form with requirement rows."""
    data = {
        "effective_from": version.effective_from.isoformat(),
        "effective_to": "",
        "notes": "",
        "requirements-TOTAL_FORMS": str(len(rows)),
        "requirements-INITIAL_FORMS": "0",
        "requirements-MIN_NUM_FORMS": "0",
        "requirements-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"requirements-{i}-{key}"] = value
        data[f"requirements-{i}-version"] = str(version.pk)
    return data


def test_admin_publish_button_publishes_a_draft(admin_client, draft):
    response = admin_client.post(reverse("admin:policies_policyversion_publish", args=[draft.pk]), follow=True)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.published_by is not None
    assert "Published" in response.content.decode()


def test_admin_publish_of_an_invalid_draft_shows_why(admin_client, promotion):
    policy = policy_create(ritual_type=promotion, scope=None)
    empty = policy_version_create(policy=policy, effective_from=timezone.localdate())

    response = admin_client.post(reverse("admin:policies_policyversion_publish", args=[empty.pk]), follow=True)

    empty.refresh_from_db()
    assert empty.status == VersionStatus.DRAFT
    assert "Add at least one requirement before publishing" in response.content.decode()


def test_admin_requirement_with_bad_params_shows_the_error_next_to_the_row(admin_client, draft):
    url = reverse("admin:policies_policyversion_change", args=[draft.pk])
    data = inline_post(draft, [{"order": "0", "kind": "min_evidence", "count": "0", "weight": "1"}])

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.forms[0].errors["count"] == [
        "Must be a whole number of at least 1."
    ]
    assert "Must be a whole number of at least 1." in response.content.decode()
    assert draft.requirements.count() == 1


def test_admin_refuses_to_edit_a_published_version(admin_client, draft):
    policy_version_publish(version=draft)
    url = reverse("admin:policies_policyversion_change", args=[draft.pk])

    page = admin_client.get(url)
    assert "immutable" in page.content.decode()
    assert "New draft from this version" in page.content.decode()

    response = admin_client.post(url, {"notes": "changed"}, follow=True)
    assert "cannot be edited" in response.content.decode()
    draft.refresh_from_db()
    assert draft.notes == ""


def test_admin_new_draft_button_copies_the_version(admin_client, draft):
    policy_version_publish(version=draft)

    response = admin_client.post(reverse("admin:policies_policyversion_draft", args=[draft.pk]), follow=True)

    new = PolicyVersion.objects.exclude(pk=draft.pk).get()
    assert new.status == VersionStatus.DRAFT
    assert new.requirements.count() == 1
    assert f"Created draft version {new.number}" in response.content.decode()


def test_admin_retire_button_retires(admin_client, draft):
    policy_version_publish(version=draft)

    admin_client.post(reverse("admin:policies_policyversion_retire", args=[draft.pk]))

    draft.refresh_from_db()
    assert draft.status == VersionStatus.RETIRED


def test_transition_urls_refuse_get(admin_client, draft):
    response = admin_client.get(reverse("admin:policies_policyversion_publish", args=[draft.pk]))
    assert response.status_code == 405


def test_version_page_explains_every_requirement_kind(admin_client, draft):
    page = admin_client.get(reverse("admin:policies_policyversion_change", args=[draft.pk])).content.decode()
    for kind in (
        "min_evidence",
        "metric_improvement",
        "distinct_categories",
        "customer_voice",
        "internal_customer",
        "outcome_cap",
        "attestation",
    ):
        assert kind in page
    assert "Example" in page


def test_policy_changelist_query_count_does_not_grow_with_policies(
    admin_client, promotion, django_assert_max_num_queries
):
    policy_create(ritual_type=promotion, scope=None)
    for _ in range(15):
        policy = policy_create(ritual_type=promotion, scope=OrgUnitFactory())
        version = policy_version_create(policy=policy, effective_from=timezone.localdate())
        requirement_add(version=version, kind="customer_voice", params={"count": 1})

    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:policies_policy_changelist"))
    assert response.status_code == 200
    assert "Company baseline" in response.content.decode()


def test_version_changelist_query_count_is_bounded(admin_client, promotion, django_assert_max_num_queries):
    for _ in range(15):
        policy = policy_create(ritual_type=promotion, scope=OrgUnitFactory())
        policy_version_create(policy=policy, effective_from=timezone.localdate())

    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:policies_policyversion_changelist"))
    assert response.status_code == 200


def test_inventory_page_lists_group_additions(admin_client, promotion, django_assert_max_num_queries):
    today = timezone.localdate()
    billing = OrgUnitFactory(name="Billing")
    policy = policy_create(ritual_type=promotion, scope=billing)
    version = policy_version_create(policy=policy, effective_from=today)
    requirement_add(version=version, kind="internal_customer", params={"count": 1})
    policy_version_publish(version=version)

    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("admin:policies_policy_inventory")).content.decode()

    assert "Billing" in page
    assert "internal_customer" in page


def test_inventory_page_has_an_empty_state(admin_client):
    page = admin_client.get(reverse("admin:policies_policy_inventory")).content.decode()
    assert "No group has added requirements" in page


def test_inventory_page_ignores_a_garbage_filter(admin_client):
    response = admin_client.get(reverse("admin:policies_policy_inventory") + "?ritual_type=1%27%20OR%201=1")
    assert response.status_code == 200


def test_version_add_page_sets_creator(admin_client, promotion, admin_user):
    policy = policy_create(ritual_type=promotion, scope=None)
    data = {
        "policy": str(policy.pk),
        "effective_from": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        "effective_to": "",
        "notes": "Next quarter",
        "requirements-TOTAL_FORMS": "1",
        "requirements-INITIAL_FORMS": "0",
        "requirements-MIN_NUM_FORMS": "0",
        "requirements-MAX_NUM_FORMS": "1000",
        "requirements-0-order": "0",
        "requirements-0-kind": "customer_voice",
        "requirements-0-count": "1",
        "requirements-0-weight": "1",
    }
    response = admin_client.post(reverse("admin:policies_policyversion_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    version = PolicyVersion.objects.get()
    assert version.created_by == admin_user
    assert version.number == 1
    assert version.requirements.get().params["within_days"] is None
