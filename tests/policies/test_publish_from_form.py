"""Publish and Preview act on what HR sees: the page is saved first, and nothing is published if it is invalid."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from apps.policies.constants import VersionStatus
from apps.policies.models import RitualType
from apps.policies.selectors import policy_version_fingerprint
from apps.policies.services import policy_create, policy_version_create, requirement_add
from tests.policies.admin_post import version_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    policy = policy_create(ritual_type=RitualType.objects.get(code="promotion"), scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate())
    requirement_add(version=version, kind="min_evidence", params={"count": 2, "categories": ["customer_story"]})
    return version


def change_url(version):
    return reverse("admin:policies_policyversion_change", args=[version.pk])


def confirm_url(version):
    return reverse("admin:policies_policyversion_publish_confirm", args=[version.pk])


def edited(draft, **extra):
    """The draft's form with a new start date and the requirement's count changed from 2 to 3, not yet saved."""
    requirement = draft.requirements.get()
    start = timezone.localdate() + dt.timedelta(days=40)
    row = {"id": str(requirement.pk), "kind": "min_evidence", "count": "3", "categories": ["customer_story"]}
    data = version_post(draft, [row], **extra)
    data["effective_from"] = start.isoformat()
    return data, start


def test_publish_with_unsaved_changes_saves_them_first_and_publishes_them(admin_client, draft):
    data, start = edited(draft, _publish="1")

    response = admin_client.post(change_url(draft), data)

    assert response.status_code == 302
    assert response["Location"] == confirm_url(draft)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT  # not before HR confirms
    assert draft.effective_from == start

    page = admin_client.get(confirm_url(draft)).content.decode()
    assert "3 verified Customer story items" in page
    assert f"cases opened from {date_format(start, 'j M Y')}" in page
    assert "cannot be undone" in page

    done = admin_client.post(confirm_url(draft), {"reviewed": policy_version_fingerprint(draft)}, follow=True)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.effective_from == start
    assert draft.requirements.get().params["count"] == 3
    assert f"it applies to cases opened from {date_format(start, 'j M Y')}" in done.content.decode()


def test_publish_with_an_invalid_form_publishes_nothing_and_shows_the_error(admin_client, draft):
    requirement = draft.requirements.get()
    row = {"id": str(requirement.pk), "kind": "min_evidence", "count": "0"}
    data = version_post(draft, [row], _publish="1", notes="half-typed")

    response = admin_client.post(change_url(draft), data)

    assert response.status_code == 200
    assert "Must be a whole number of at least 1." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert draft.notes == ""
    assert draft.requirements.get().params["count"] == 2


def test_publish_is_refused_when_the_draft_changed_after_review(admin_client, draft):
    reviewed = policy_version_fingerprint(draft)
    requirement = draft.requirements.get()
    requirement.params = {**requirement.params, "count": 5}
    requirement.save()

    response = admin_client.post(confirm_url(draft), {"reviewed": reviewed}, follow=True)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert "changed after you reviewed it" in response.content.decode()
    assert "5 verified Customer story items" in response.content.decode()  # shown again for review


def test_a_draft_that_cannot_be_published_says_why_and_keeps_the_edits_as_a_draft(admin_client, draft):
    data = version_post(draft, [], _publish="1")
    data["requirements-TOTAL_FORMS"] = "1"
    data["requirements-INITIAL_FORMS"] = "1"
    requirement = draft.requirements.get()
    data.update(
        {
            "requirements-0-id": str(requirement.pk),
            "requirements-0-version": str(draft.pk),
            "requirements-0-kind": "min_evidence",
            "requirements-0-count": "2",
            "requirements-0-order": "0",
            "requirements-0-weight": "1",
            "requirements-0-customer_type": "any",
            "requirements-0-DELETE": "on",
        }
    )

    response = admin_client.post(change_url(draft), data, follow=True)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert not draft.requirements.exists()
    assert "Not published: Add at least one requirement before publishing." in response.content.decode()


def test_preview_button_saves_the_page_then_opens_the_preview(admin_client, draft):
    data, start = edited(draft, _preview="1")

    response = admin_client.post(change_url(draft), data)

    assert response["Location"] == reverse("admin:cases_case_preview", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.effective_from == start
    page = admin_client.get(response["Location"]).content.decode()
    assert "3 verified Customer story items" in page


def test_a_draft_page_publishes_through_its_own_form_only(admin_client, draft):
    page = admin_client.get(change_url(draft)).content.decode()

    assert 'name="_publish"' in page
    assert 'name="_preview"' in page
    assert reverse("admin:policies_policyversion_publish", args=[draft.pk]) not in page


def test_the_old_publish_url_reports_the_dates_in_words(admin_client, draft):
    response = admin_client.post(reverse("admin:policies_policyversion_publish", args=[draft.pk]), follow=True)

    assert f"cases opened from {date_format(draft.effective_from, 'j M Y')}" in response.content.decode()


def test_confirm_page_needs_the_permission_to_change_versions(client, draft):
    from tests.factories.org import UserFactory

    client.force_login(UserFactory(is_staff=True))

    response = client.post(confirm_url(draft), {"reviewed": policy_version_fingerprint(draft)})

    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_ritual_types_can_share_exception_justifications_with_the_subject(admin_client):
    promotion = RitualType.objects.get(code="promotion")
    assert promotion.share_exception_justification is False

    page = admin_client.get(reverse("admin:policies_ritualtype_changelist")).content.decode()

    assert "share the exception justification with the subject" in page.lower()
