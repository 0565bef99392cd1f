"""The item page, the owner's actions on it, and downloads: each role sees what the rules allow, others get 404."""

import pytest
from django.urls import reverse

from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from tests.factories.evidence import AttachmentFactory, EvidenceFactory, OperationalMetricEvidenceFactory
from tests.portal.helpers import field_error, page_text, submitted

pytestmark = pytest.mark.django_db


def detail(evidence):
    return reverse("portal:evidence-detail", args=[evidence.pk])


def test_owner_sees_the_lirm_sections_files_and_actions_of_a_draft(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee, title="Accessible rooms")
    AttachmentFactory(evidence=evidence, original_name="call-notes.txt")

    response = as_user(cast.dana).get(detail(evidence))

    assert response.status_code == 200
    text = page_text(response)
    for heading in ("Listen", "Interpret", "Respond", "Monitor"):
        assert heading in text
    assert "I could not book a room for my wheelchair" in text
    assert "call-notes.txt" in text
    assert "Submit for review" in text and "Edit" in text and "Delete this draft" in text


def test_metric_shows_baseline_to_result_and_whether_it_went_the_good_way(cast, as_user):
    evidence = OperationalMetricEvidenceFactory(owner=cast.dana_employee)

    text = page_text(as_user(cast.dana).get(detail(evidence)))

    assert "61 % → to 74 %" in text  # the arrow is read out as "to"
    assert "Better by 13 % (21.3% of the baseline)" in text
    assert "Higher is better" in text


def test_a_colleague_gets_404_for_a_draft_and_a_submitted_item(cast, as_user):
    draft = EvidenceFactory(owner=cast.dana_employee)
    sent = submitted(cast.dana_employee)
    client = as_user(cast.colleague)

    assert client.get(detail(draft)).status_code == 404
    assert client.get(detail(sent)).status_code == 404


def test_manager_sees_submitted_items_of_reports_but_not_their_drafts(cast, as_user):
    draft = EvidenceFactory(owner=cast.dana_employee)
    sent = submitted(cast.dana_employee)
    client = as_user(cast.manager)

    assert client.get(detail(draft)).status_code == 404
    response = client.get(detail(sent))
    assert response.status_code == 200
    assert "Review this item" in page_text(response)
    assert "Submit for review" not in page_text(response)


def test_cx_reviewer_sees_anyones_submitted_item_and_hr_sees_even_drafts(cast, as_user):
    sent = submitted(cast.dana_employee)
    draft = EvidenceFactory(owner=cast.dana_employee)

    assert as_user(cast.reviewer).get(detail(sent)).status_code == 200
    assert as_user(cast.reviewer).get(detail(draft)).status_code == 404
    assert as_user(cast.hr).get(detail(draft)).status_code == 200


def test_submit_button_on_the_item_page_sends_it_for_review(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee)

    response = as_user(cast.dana).post(reverse("portal:evidence-submit", args=[evidence.pk]))

    assert response["Location"] == detail(evidence)
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.SUBMITTED


def test_submit_of_an_incomplete_item_shows_the_form_with_the_missing_field_marked(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee, interpretation="")

    response = as_user(cast.dana).post(reverse("portal:evidence-submit", args=[evidence.pk]))

    assert response.status_code == 400
    assert field_error(response, "interpretation") == "Say what this meant for the customer before submitting."
    assert "Not submitted yet" in page_text(response)
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.DRAFT


@pytest.mark.parametrize("action", ["evidence-submit", "evidence-delete", "evidence-correct"])
def test_actions_refuse_get(cast, as_user, action):
    evidence = EvidenceFactory(owner=cast.dana_employee)

    response = as_user(cast.dana).get(reverse(f"portal:{action}", args=[evidence.pk]))

    assert response.status_code == 405
    assert Evidence.objects.get(pk=evidence.pk).status == EvidenceStatus.DRAFT


def test_owner_deletes_a_draft_but_not_a_submitted_item(cast, as_user):
    draft = EvidenceFactory(owner=cast.dana_employee)
    sent = submitted(cast.dana_employee)
    client = as_user(cast.dana)

    assert client.post(reverse("portal:evidence-delete", args=[draft.pk]))["Location"] == reverse("portal:my-evidence")
    response = client.post(reverse("portal:evidence-delete", args=[sent.pk]), follow=True)

    assert not Evidence.objects.filter(pk=draft.pk).exists()
    assert Evidence.objects.filter(pk=sent.pk).exists()
    assert "Only a draft that was never submitted can be deleted." in page_text(response)


def test_a_colleague_cannot_act_on_someone_elses_item(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee)
    client = as_user(cast.colleague)

    assert client.post(reverse("portal:evidence-submit", args=[evidence.pk])).status_code == 404
    assert client.post(reverse("portal:evidence-delete", args=[evidence.pk])).status_code == 404
    assert Evidence.objects.get(pk=evidence.pk).status == EvidenceStatus.DRAFT


def test_correcting_a_verified_item_starts_a_linked_draft_version(cast, as_user):
    verified = EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED)
    AttachmentFactory(evidence=verified)
    client = as_user(cast.dana)
    assert "Correct this item" in page_text(client.get(detail(verified)))

    response = client.post(reverse("portal:evidence-correct", args=[verified.pk]))

    copy = Evidence.objects.get(previous=verified)
    assert response["Location"] == reverse("portal:evidence-edit", args=[copy.pk])
    assert copy.version == 2 and copy.status == EvidenceStatus.DRAFT
    assert copy.attachments.count() == 1
    old_page = page_text(client.get(detail(verified)))
    assert "Version 2" in old_page and "Correct this item" not in old_page
    new_page = page_text(client.get(detail(copy)))
    assert "Version 1" in new_page


def test_a_started_correction_can_be_deleted_and_the_verified_version_stays(cast, as_user):
    verified = EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED)
    copy = EvidenceFactory(owner=cast.dana_employee, previous=verified, version=2)
    client = as_user(cast.dana)
    assert "Delete this draft" in page_text(client.get(detail(copy)))

    client.post(reverse("portal:evidence-delete", args=[copy.pk]))

    assert not Evidence.objects.filter(pk=copy.pk).exists()
    assert "Correct this item" in page_text(client.get(detail(verified)))


def test_a_draft_correction_is_not_linked_for_the_reviewer(cast, as_user):
    verified = EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED)
    copy = EvidenceFactory(owner=cast.dana_employee, previous=verified, version=2)

    html = as_user(cast.reviewer).get(detail(verified)).content.decode()

    assert detail(copy) not in html


def test_download_sends_the_file_as_an_attachment_with_its_type(cast, as_user):
    attachment = AttachmentFactory(evidence=submitted(cast.dana_employee), original_name="call-notes.txt")

    for user in (cast.dana, cast.manager, cast.reviewer, cast.hr):
        response = as_user(user).get(reverse("portal:attachment-download", args=[attachment.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain"
        assert response["Content-Disposition"] == 'attachment; filename="call-notes.txt"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == b"Customer call notes\n"


def test_download_is_404_for_anyone_who_may_not_see_the_item(cast, as_user):
    attachment = AttachmentFactory(evidence=EvidenceFactory(owner=cast.dana_employee))
    url = reverse("portal:attachment-download", args=[attachment.pk])

    assert as_user(cast.colleague).get(url).status_code == 404
    assert as_user(cast.manager).get(url).status_code == 404  # a draft is the owner's alone
    assert as_user(cast.bare).get(url).status_code == 404
    assert as_user(cast.dana).post(url).status_code == 405
