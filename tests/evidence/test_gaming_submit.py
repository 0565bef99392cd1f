"""Score-solicitation flags at submission: every free text and attached document is read, the reviewer sees which
words and where, HR's own phrasings count at once, and an unreadable file never blocks a submission."""

import datetime as dt
import importlib
import io

import docx
import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.evidence import gaming_store
from apps.evidence.gaming_builtin import BUILTIN_PHRASES
from apps.evidence.gaming_store import active_phrases
from apps.evidence.models import SolicitationPhrase
from apps.evidence.services import attachment_add, evidence_create, evidence_submit
from tests.factories.evidence import SolicitationPhraseFactory, category

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_phrase_cache():
    """A test's rolled-back phrases must not stay compiled for the next test."""
    gaming_store.invalidate()
    yield
    gaming_store.invalidate()


def story(**overrides):
    data = {
        "category": category("customer_story"),
        "title": "Fixed the booking form",
        "customer_quote": "I could not book.",
        "source_type": "support_ticket",
        "source_reference": "TCK-1",
        "interpretation": "Guests were lost online.",
        "response": "Rebuilt the form.",
        "impact_date": timezone.localdate() - dt.timedelta(days=3),
    }
    data.update(overrides)
    return data


def make_pdf(text: str) -> bytes:
    """A one-page PDF showing `text`."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph("Dear team,")
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def submit_with(people, data=None, files=()):
    owner = people["owner"].user
    evidence = evidence_create(by=owner, data=story(**(data or {})))
    for name, content in files:
        attachment_add(evidence=evidence, by=owner, file=io.BytesIO(content), name=name, size=len(content))
    return evidence_submit(evidence=evidence, by=owner)


def solicitation_flags(evidence):
    return [flag for flag in evidence.gaming_flags if flag["code"] == "score_solicitation"]


def test_a_request_in_the_source_reference_is_flagged_with_its_field(people):
    evidence = submit_with(people, {"source_reference": "Call 2231, told her to give us a 10"})

    [flag] = solicitation_flags(evidence)
    assert flag["where"] == "Source reference"
    assert flag["matched"] == "to give us a 10"
    assert flag["kind"] == "request"


def test_a_wish_in_the_metric_name_is_flagged(people):
    metric = {"metric_kind": "operational", "baseline": 3, "result": 1, "direction": "decrease"}
    evidence = submit_with(people, {"metric_name": "Stays where we'd love a 10", **metric})

    [flag] = solicitation_flags(evidence)
    assert (flag["where"], flag["kind"]) == ("Metric name", "wish")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("letter.txt", b"Dear guest,\nwe'd love a 10 from you on the survey.\n"),
        ("letter.pdf", make_pdf("Dear guest, we'd love a 10 from you.")),
        ("letter.docx", make_docx("Dear guest, we'd love a 10 from you.")),
    ],
)
def test_a_request_in_an_attached_letter_is_flagged_with_the_file_name(people, name, content):
    evidence = submit_with(people, files=[(name, content)])

    [flag] = solicitation_flags(evidence)
    assert flag["where"] == f"Attachment {name}"
    assert flag["reason"].startswith(f"Wishes for a score: \u201cwe\u2019d love a 10\u201d in Attachment {name}") or (
        flag["reason"].startswith(f"Wishes for a score: \u201cwe'd love a 10\u201d in Attachment {name}")
    )


def test_a_damaged_pdf_does_not_block_the_submission_and_is_pointed_out(people):
    evidence = submit_with(people, files=[("scan.pdf", b"%PDF-1.4\nnot really a pdf")])

    assert evidence.status == "submitted"
    assert [flag["code"] for flag in evidence.gaming_flags] == ["attachment_unread"]
    assert "scan.pdf could not be read" in evidence.gaming_flags[0]["reason"]


def test_images_are_not_read_and_not_flagged(people):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    evidence = submit_with(people, files=[("photo.png", png)])

    assert evidence.gaming_flags == []


def test_a_phrase_hr_adds_counts_from_the_next_submission_and_stops_when_switched_off(people):
    active_phrases()  # warm the cache, as a running process would have it
    phrase = SolicitationPhraseFactory(phrase="Smile for the survey", kind="request")

    flagged = submit_with(people, {"response": "Told every guest: SMILE  for the survey!"})
    assert solicitation_flags(flagged)[0]["matched"] == "SMILE  for the survey"

    phrase.active = False
    phrase.save()
    clean = submit_with(people, {"response": "Told every guest: smile for the survey!"})
    assert solicitation_flags(clean) == []


def test_the_compiled_phrases_are_reused_without_a_query_until_the_list_changes(django_assert_num_queries):
    first = active_phrases()
    with django_assert_num_queries(0):
        assert active_phrases() is first
    SolicitationPhraseFactory()
    assert active_phrases() is not first


def test_another_process_sees_a_changed_list_at_its_next_check(monkeypatch):
    first = active_phrases()
    monkeypatch.setattr(gaming_store, "RECHECK_SECONDS", 0.0)
    assert active_phrases() is first  # checked: the list is unchanged, the compiled phrases are kept
    held = gaming_store._cache
    SolicitationPhraseFactory()
    gaming_store._cache = held  # as another process holds them: it did not save the phrase

    assert any(phrase.regex.pattern.startswith(r"\bplease\s+help") for phrase in active_phrases())


def test_seeding_creates_every_builtin_phrase_once():
    migration = importlib.import_module("apps.evidence.migrations.0002_solicitation_phrases")
    SolicitationPhrase.objects.all().delete()

    migration.seed_builtin_phrases(django_apps, None)
    migration.seed_builtin_phrases(django_apps, None)

    assert SolicitationPhrase.objects.filter(built_in=True, active=True).count() == len(BUILTIN_PHRASES)


def test_the_review_page_shows_which_words_triggered_the_flag_and_where(people):
    evidence = submit_with(people, files=[("letter.txt", b"Dear guest, anything less than 9 counts as a fail.")])
    client = Client()
    client.force_login(people["reviewer"].user)

    page = client.get(reverse("portal:review", args=[evidence.pk])).content.decode()

    assert "Makes a score a condition: \u201canything less than 9 counts as a fail\u201d in Attachment letter.txt" in (
        page.replace("&#x27;", "'")
    )


@pytest.fixture
def staff(people):
    user = people["hr"]
    user.is_staff = True
    user.is_superuser = True  # the HR group's admin rights for phrases: see the note in apps/common/roles.py
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_hr_lists_phrases_with_filters_in_a_fixed_number_of_queries(staff, django_assert_max_num_queries):
    SolicitationPhraseFactory.create_batch(5)
    with django_assert_max_num_queries(12):
        response = staff.get(reverse("admin:evidence_solicitationphrase_changelist"), {"language__exact": "en"})
    assert response.status_code == 200
    assert "Company-specific phrasing" in response.content.decode()


def test_hr_adds_a_phrase_tries_it_on_a_sentence_and_the_trail_records_it(staff):
    response = staff.post(
        reverse("admin:evidence_solicitationphrase_add"),
        {
            "phrase": "a smile on the card",
            "kind": "survey_answer",
            "language": "en",
            "description": "Our card has smileys",
            "active": "on",
            "try_text": "Please put A SMILE on the card for us",
        },
        follow=True,
    )

    phrase = SolicitationPhrase.objects.get(description="Our card has smileys")
    assert "The phrase catches your test text: \u201cA SMILE on the card\u201d." in response.content.decode()
    assert AuditEvent.objects.filter(object_type="evidence.solicitationphrase", object_id=str(phrase.pk)).exists()


def test_a_pattern_that_does_not_compile_is_refused_next_to_the_field(staff):
    response = staff.post(
        reverse("admin:evidence_solicitationphrase_add"),
        {"phrase": "give us (a 10", "is_pattern": "on", "kind": "request", "language": "en", "active": "on"},
    )

    assert response.status_code == 200
    assert "This does not work as a pattern" in response.content.decode()
    assert not SolicitationPhrase.objects.filter(phrase="give us (a 10").exists()


def test_a_builtin_phrase_can_be_switched_off_but_not_edited_or_deleted(staff):
    phrase = SolicitationPhrase.objects.create(phrase=BUILTIN_PHRASES[0].pattern, is_pattern=True, built_in=True)

    page = staff.get(reverse("admin:evidence_solicitationphrase_change", args=[phrase.pk])).content.decode()
    deleting = staff.post(reverse("admin:evidence_solicitationphrase_delete", args=[phrase.pk]), {"post": "yes"})

    assert 'name="phrase"' not in page and 'name="active"' in page
    assert "Matches among sample texts" in page
    assert deleting.status_code == 403
    assert SolicitationPhrase.objects.filter(pk=phrase.pk).exists()
