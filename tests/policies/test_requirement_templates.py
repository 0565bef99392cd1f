"""HR starts requirements from a library of templates: built-in ones and its own."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.common.errors import InvalidTransition
from apps.policies.models import RequirementTemplate, RitualType
from apps.policies.services import (
    policy_create,
    policy_version_create,
    policy_version_publish,
    requirement_add,
    requirement_params_clean,
    requirement_templates_apply,
)
from tests.factories.org import UserFactory
from tests.policies.admin_post import version_post

pytestmark = pytest.mark.django_db

BUILT_IN = {
    "Customer stories for promotions": "2 verified Customer story items within 365 days",
    "Operational KPI improvement for raises": "1 operational-metric improvement of at least 10% within 365 days",
    "Handoff quality for internal-facing groups": "1 verified Internal handoff improvement item for internal customers",
    "Problem-recurrence prevention for internal-facing groups": "1 verified Problem-recurrence prevention item",
    "Cross-group collaboration for recognition": "1 verified Cross-organisation collaboration or Silo bridging item",
    "New value creation for recognition": "1 verified New mutual value item within 365 days",
    "Breadth of contribution for recognition": "3 distinct categories covered by verified evidence within 730 days",
    "Outcome-score cap": "At most 1 survey-score item counts toward each requirement",
}


@pytest.fixture
def draft():
    policy = policy_create(ritual_type=RitualType.objects.get(code="promotion"), scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate())
    requirement_add(version=version, kind="attestation", params={"role": "manager"})
    return version


def template(name):
    return RequirementTemplate.objects.get(name=name)


def test_built_in_templates_exist_after_migrate_with_valid_params():
    built_in = RequirementTemplate.objects.filter(built_in=True)

    assert set(built_in.values_list("name", flat=True)) == set(BUILT_IN)
    for each in built_in:
        assert requirement_params_clean(kind=each.kind, params=each.params) == each.params
    assert template("Customer stories for promotions").suggested_ritual.code == "promotion"


def test_templates_are_copied_into_a_draft_after_its_requirements(draft, admin_user):
    chosen = [template("Outcome-score cap").pk, template("Customer stories for promotions").pk]

    added = requirement_templates_apply(version=draft, template_ids=chosen, by=admin_user)

    assert [r.kind for r in draft.requirements.order_by("order")] == ["attestation", "outcome_cap", "min_evidence"]
    assert added[1].params == template("Customer stories for promotions").params
    assert added[1].label == "Two customer stories this year"
    assert added[1].help_text.startswith("Describe two customers")
    created = AuditEvent.objects.filter(object_type="policies.requirement", object_id__in=[str(r.pk) for r in added])
    assert created.count() == 2


def test_templates_are_refused_on_a_published_version(draft, admin_user):
    policy_version_publish(version=draft)

    with pytest.raises(InvalidTransition, match="only be added to a draft"):
        requirement_templates_apply(version=draft, template_ids=[template("Outcome-score cap").pk], by=admin_user)

    assert draft.requirements.count() == 1


def test_templates_need_the_permission_to_add_requirements(draft):
    clerk = UserFactory(is_staff=True)

    with pytest.raises(PermissionDenied):
        requirement_templates_apply(version=draft, template_ids=[template("Outcome-score cap").pk], by=clerk)

    assert draft.requirements.count() == 1


def test_an_inactive_template_is_refused(draft, admin_user):
    cap = template("Outcome-score cap")
    cap.active = False
    cap.save()

    with pytest.raises(ValidationError, match="inactive"):
        requirement_templates_apply(version=draft, template_ids=[cap.pk], by=admin_user)


def test_draft_page_offers_templates_with_their_sentences(admin_client, draft):
    page = admin_client.get(reverse("admin:policies_policyversion_change", args=[draft.pk])).content.decode()

    assert "Add requirements from templates" in page
    assert "Customer stories for promotions" in page
    assert BUILT_IN["Customer stories for promotions"] in page


def test_add_from_templates_button_saves_the_page_and_adds_the_ticked_templates(admin_client, draft):
    existing = draft.requirements.get()
    url = reverse("admin:policies_policyversion_change", args=[draft.pk])
    data = version_post(
        draft,
        [{"id": str(existing.pk), "kind": "attestation", "role": "hr"}],
        notes="Adding the cap",
        _apply_templates="1",
        _templates=[str(template("Outcome-score cap").pk)],
    )

    response = admin_client.post(url, data, follow=True)

    draft.refresh_from_db()
    assert draft.notes == "Adding the cap"
    assert draft.requirements.get(kind="attestation").params == {"role": "hr"}
    assert draft.requirements.filter(kind="outcome_cap").exists()
    assert "added 1 requirement from templates" in response.content.decode()


def test_published_version_page_offers_no_templates(admin_client, draft):
    policy_version_publish(version=draft)

    page = admin_client.get(reverse("admin:policies_policyversion_change", args=[draft.pk])).content.decode()

    assert "Add requirements from templates" not in page


def test_hr_adds_its_own_template_with_the_field_editor(admin_client):
    data = {
        "name": "Two voices",
        "description": "",
        "suggested_ritual": "",
        "active": "on",
        "kind": "customer_voice",
        "count": "2",
        "within_days": "180",
        "customer_type": "any",
        "label": "",
        "help_text": "",
    }

    response = admin_client.post(reverse("admin:policies_requirementtemplate_add"), data)

    assert response.status_code == 302
    own = template("Two voices")
    assert own.params == {"count": 2, "within_days": 180}
    assert own.built_in is False


def test_a_bad_template_value_shows_next_to_its_field(admin_client):
    data = {"name": "Broken", "kind": "outcome_cap", "max": "", "customer_type": "any"}

    response = admin_client.post(reverse("admin:policies_requirementtemplate_add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["max"] == ["This field is required."]
    assert not RequirementTemplate.objects.filter(name="Broken").exists()


def test_template_changelist_shows_sentences_in_bounded_queries(admin_client, django_assert_max_num_queries):
    for number in range(15):
        RequirementTemplate.objects.create(name=f"Own {number}", kind="customer_voice", params={"count": 1})

    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:policies_requirementtemplate_changelist"))

    page = response.content.decode()
    assert BUILT_IN["Customer stories for promotions"] in page
    assert "1 verified customer quote with a named source" in page


def test_a_built_in_template_cannot_be_deleted(admin_client):
    cap = template("Outcome-score cap")

    response = admin_client.post(reverse("admin:policies_requirementtemplate_delete", args=[cap.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert RequirementTemplate.objects.filter(pk=cap.pk).exists()
