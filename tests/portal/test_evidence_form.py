"""The evidence form: fields grouped as Listen/Interpret/Respond/Monitor, files, saving and submitting, errors."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Attachment, Evidence
from tests.factories.evidence import AttachmentFactory, EvidenceFactory, category
from tests.factories.org import OrgUnitFactory
from tests.portal.helpers import field_error, page_text, stored_files

pytestmark = pytest.mark.django_db

NEW = reverse("portal:evidence-new")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def form_data(**overrides):
    data = {
        "title": "Rebuilt the accessible-room filter",
        "category": category().pk,
        "customer_quote": "I could not book a room for my wheelchair.",
        "source_type": "support_ticket",
        "source_reference": "TCK-42",
        "interpretation": "Accessible rooms were invisible online.",
        "response": "Rebuilt the filter and called the guest back.",
        "customer_type": "external",
        "impact_date": (dt.date.today() - dt.timedelta(days=10)).isoformat(),
        "metric_name": "",
        "metric_kind": "",
        "baseline": "",
        "result": "",
        "metric_unit": "",
        "direction": "",
        "metric_period": "",
        "internal_customer_unit": "",
        "touchpoint": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def text_file(name="call-notes.txt", content=b"Guest called back, happy.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_form_groups_the_fields_in_listen_interpret_respond_monitor(cast, as_user):
    response = as_user(cast.dana).get(NEW)

    assert response.status_code == 200
    legends = [legend for legend, _hint, _fields in response.context["form"].fieldsets()]
    assert legends == ["About", "Listen", "Interpret", "Respond", "Monitor"]
    html = response.content.decode()
    assert 'type="date"' in html
    assert 'type="file" name="files" multiple' in html
    assert "Save draft" in html and "Save and submit" in html


def test_only_active_categories_are_offered(cast, as_user):
    retired = category("silo_bridging")
    retired.active = False
    retired.save()

    choices = as_user(cast.dana).get(NEW).context["form"].fields["category"].queryset

    assert retired not in choices
    assert category() in choices


def test_save_draft_creates_the_item_with_its_files(cast, as_user, media):
    response = as_user(cast.dana).post(
        NEW, {**form_data(), "files": [text_file(), SimpleUploadedFile("proof.pdf", PDF)]}
    )

    evidence = Evidence.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:evidence-detail", args=[evidence.pk])
    assert evidence.owner == cast.dana_employee
    assert evidence.status == EvidenceStatus.DRAFT
    assert sorted(a.original_name for a in evidence.attachments.all()) == ["call-notes.txt", "proof.pdf"]
    assert len(stored_files(media)) == 2


def test_save_and_submit_sends_the_item_for_review(cast, as_user, media):
    client = as_user(cast.dana)

    response = client.post(NEW, form_data(action="submit"), follow=True)

    evidence = Evidence.objects.get()
    assert evidence.status == EvidenceStatus.SUBMITTED
    assert "was submitted for review" in page_text(response)


def test_internal_customer_without_a_unit_is_refused_next_to_the_unit_field(cast, as_user):
    response = as_user(cast.dana).post(NEW, form_data(customer_type="internal"))

    assert response.status_code == 400
    assert field_error(response, "internal_customer_unit") == "Name the group that receives your output."
    assert not Evidence.objects.exists()


def test_internal_customer_with_a_unit_is_saved(cast, as_user):
    unit = OrgUnitFactory(name="Billing")

    as_user(cast.dana).post(NEW, form_data(customer_type="internal", internal_customer_unit=unit.pk))

    assert Evidence.objects.get().internal_customer_unit == unit


def test_a_future_impact_date_is_refused_next_to_the_date(cast, as_user):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()

    response = as_user(cast.dana).post(NEW, form_data(impact_date=tomorrow))

    assert response.status_code == 400
    assert field_error(response, "impact_date") == "The impact date cannot be in the future."
    assert "Nothing was saved" in page_text(response)
    assert not Evidence.objects.exists()


def test_submitting_without_an_interpretation_shows_why_and_saves_nothing(cast, as_user):
    response = as_user(cast.dana).post(NEW, form_data(interpretation="", action="submit"))

    assert response.status_code == 400
    assert field_error(response, "interpretation") == "Say what this meant for the customer before submitting."
    assert not Evidence.objects.exists()
    # What the employee typed is still in the form.
    assert "Rebuilt the accessible-room filter" in response.content.decode()


def test_an_incomplete_metric_is_refused_field_by_field(cast, as_user):
    response = as_user(cast.dana).post(NEW, form_data(metric_name="First-contact resolution"))

    assert response.status_code == 400
    assert field_error(response, "baseline") == "A metric needs a baseline."
    assert field_error(response, "direction") == "A metric needs a good direction."


@pytest.mark.parametrize(
    "upload,message",
    [
        (SimpleUploadedFile("empty.txt", b""), "The file is empty."),
        (SimpleUploadedFile("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200)), "not accepted"),
        (SimpleUploadedFile("notes.pdf", b"just text\n"), "name it .txt or .md or .log"),
    ],
    ids=["empty", "renamed-executable", "wrong-extension"],
)
def test_a_refused_upload_is_shown_next_to_the_file_input_and_nothing_is_stored(cast, as_user, media, upload, message):
    response = as_user(cast.dana).post(NEW, {**form_data(action="submit"), "files": [upload]})

    assert response.status_code == 400
    assert message in field_error(response, "files")
    assert upload.name in field_error(response, "files")
    assert "Nothing was saved. Your files were not stored either" in page_text(response)
    assert not Evidence.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_an_oversized_upload_is_refused_with_the_limit(cast, as_user, media, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1024

    response = as_user(cast.dana).post(NEW, {**form_data(), "files": [text_file(content=b"x" * 2048)]})

    assert "the limit is" in field_error(response, "files")
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_a_path_in_the_uploaded_name_never_reaches_the_file_system(cast, as_user, media):
    as_user(cast.dana).post(NEW, {**form_data(), "files": [text_file(name="../../etc/cron.d/evil.txt")]})

    attachment = Attachment.objects.get()
    assert attachment.original_name == "evil.txt"
    assert attachment.file.name.startswith("attachments/")
    assert "evil" not in attachment.file.name
    assert all(path.startswith("attachments/") for path in stored_files(media))


def test_one_bad_file_among_good_ones_leaves_an_edited_item_and_the_disk_unchanged(cast, as_user, media):
    evidence = EvidenceFactory(owner=cast.dana_employee, title="Old title")
    url = reverse("portal:evidence-edit", args=[evidence.pk])

    response = as_user(cast.dana).post(
        url,
        {
            **form_data(title="New title", action="submit"),
            "files": [text_file(), SimpleUploadedFile("bad.pdf", b"\x00\x01binary")],
        },
    )

    assert response.status_code == 400
    assert "bad.pdf" in field_error(response, "files")
    evidence.refresh_from_db()
    assert evidence.title == "Old title"
    assert evidence.status == EvidenceStatus.DRAFT
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_edit_saves_changes_to_a_draft(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee)

    response = as_user(cast.dana).post(
        reverse("portal:evidence-edit", args=[evidence.pk]), form_data(title="Sharper title")
    )

    assert response.status_code == 302
    evidence.refresh_from_db()
    assert evidence.title == "Sharper title"


def test_edit_of_an_item_sent_back_shows_the_reviewer_comment(cast, as_user):
    evidence = EvidenceFactory(
        owner=cast.dana_employee, status=EvidenceStatus.CHANGES_REQUESTED, review_comment="Add the ticket number."
    )

    text = page_text(as_user(cast.dana).get(reverse("portal:evidence-edit", args=[evidence.pk])))

    assert "The reviewer asked for changes" in text
    assert "Add the ticket number." in text


def test_a_verified_item_cannot_be_edited(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED)
    client = as_user(cast.dana)

    response = client.post(reverse("portal:evidence-edit", args=[evidence.pk]), form_data(title="Sneaky"), follow=True)

    evidence.refresh_from_db()
    assert evidence.title != "Sneaky"
    assert "verified and can no longer be edited" in page_text(response)


def test_someone_elses_item_is_not_found_on_the_edit_page(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee)

    assert as_user(cast.colleague).get(reverse("portal:evidence-edit", args=[evidence.pk])).status_code == 404
    assert (
        as_user(cast.manager).post(reverse("portal:evidence-edit", args=[evidence.pk]), form_data()).status_code == 404
    )


def test_edit_page_lists_the_files_with_remove_buttons_that_post(cast, as_user, media):
    evidence = EvidenceFactory(owner=cast.dana_employee)
    attachment = AttachmentFactory(evidence=evidence, original_name="call-notes.txt")
    client = as_user(cast.dana)
    remove = reverse("portal:attachment-remove", args=[evidence.pk, attachment.pk])

    page = client.get(reverse("portal:evidence-edit", args=[evidence.pk])).content.decode()
    assert "call-notes.txt" in page
    assert f'action="{remove}"' in page

    assert client.get(remove).status_code == 405
    response = client.post(remove)

    assert response["Location"] == reverse("portal:evidence-edit", args=[evidence.pk])
    assert not Attachment.objects.exists()


def test_a_colleague_cannot_remove_someone_elses_file(cast, as_user):
    attachment = AttachmentFactory(evidence=EvidenceFactory(owner=cast.dana_employee))

    response = as_user(cast.colleague).post(
        reverse("portal:attachment-remove", args=[attachment.evidence_id, attachment.pk])
    )

    assert response.status_code == 404
    assert Attachment.objects.filter(pk=attachment.pk).exists()
