"""Hostile input: scripts in free text stay text, oversized and malformed bodies are refused with a clear 4xx, numbers,
choices and search strings outside the rules are refused (or harmless), and nothing is half-written."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.models import Case, PolicyException
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Attachment, Evidence
from apps.org.models import Employee, OrgUnit
from apps.reminders.constants import ReminderKind
from apps.reminders.messages import build_email
from tests.factories.evidence import EvidenceFactory
from tests.factories.reminders import ReminderFactory

XSS = "<script>alert('rc')</script><img src=x onerror=alert(1)>"
RAW_MARKERS = ("<script>alert(", "<img src=x onerror")
ESCAPED = "&lt;script&gt;alert("


def row_counts() -> dict[str, int]:
    """Rows of everything a hostile request could half-write."""
    models = (Evidence, Attachment, Case, PolicyException, AuditEvent, OrgUnit, Employee, User)
    return {model.__name__: model.objects.count() for model in models}


def assert_escaped(response, where: str) -> None:  # type: ignore[no-untyped-def]
    body = response.content.decode()
    assert response.status_code == 200, f"{where}: {response.status_code}"
    for marker in RAW_MARKERS:
        assert marker not in body, f"{where} renders the payload as HTML"
    assert ESCAPED in body, f"{where} does not show the text at all"


def api(cast, role: str = "employee") -> Client:  # type: ignore[no-untyped-def]
    return Client(HTTP_AUTHORIZATION=f"Token {cast.token(role)}")


def post_json(client: Client, url: str, data: object):  # type: ignore[no-untyped-def]
    return client.post(url, json.dumps(data), content_type="application/json")


# ----------------------------------------------------------------------------------------------------- XSS


@pytest.fixture
def hostile_item(cast):
    """An item written through the API with a script in every free-text field, submitted for review."""
    fields = {
        "category": "customer_story",
        "title": XSS,
        "customer_quote": XSS,
        "source_type": "support_ticket",
        "source_reference": XSS[:200],
        "interpretation": XSS,
        "response": XSS,
        "customer_type": "external",
        "impact_date": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
    }
    client = api(cast)
    created = post_json(client, reverse("evidence_api:evidence-list"), fields)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert client.post(reverse("evidence_api:evidence-submit", args=[pk])).status_code == 200
    return Evidence.objects.get(pk=pk)


def test_scripts_in_evidence_fields_are_shown_as_text_on_every_page(cast, hostile_item):
    owner, reviewer, root = cast.client("employee"), cast.client("cx_reviewer"), cast.client("superuser")

    assert_escaped(owner.get(reverse("portal:my-evidence")), "My evidence")
    assert_escaped(owner.get(reverse("portal:evidence-detail", args=[hostile_item.pk])), "evidence page")
    assert_escaped(reviewer.get(reverse("portal:review-queue")), "review queue")
    assert_escaped(reviewer.get(reverse("portal:review", args=[hostile_item.pk])), "review page")
    assert_escaped(root.get(reverse("admin:evidence_evidence_changelist")), "admin evidence list")
    assert_escaped(root.get(reverse("admin:evidence_evidence_change", args=[hostile_item.pk])), "admin evidence page")


def test_a_script_in_a_review_comment_is_shown_as_text(cast, hostile_item):
    reviewer = api(cast, "cx_reviewer")
    response = post_json(
        reviewer, reverse("evidence_api:evidence-request-changes", args=[hostile_item.pk]), {"comment": XSS}
    )
    assert response.status_code == 200, response.content

    assert_escaped(cast.client("employee").get(reverse("portal:my-evidence")), "My evidence with comment")
    assert_escaped(
        cast.client("employee").get(reverse("portal:evidence-detail", args=[hostile_item.pk])), "item with comment"
    )


def test_scripts_in_case_notes_and_exception_justifications_are_shown_as_text(cast):
    manager_api = api(cast, "manager")
    requirement_id = cast.case.pinned_versions.first().requirements.first().pk
    asked = post_json(
        manager_api,
        reverse("cases_api:case-request-exception", args=[cast.case.pk]),
        {
            "justification": f"Exceptional work for guests, see the notes attached here. {XSS}",
            "waived_requirements": [requirement_id],
        },
    )
    assert asked.status_code == 201, asked.content
    withdrawn = post_json(manager_api, reverse("cases_api:case-withdraw", args=[cast.case.pk]), {"note": XSS})
    assert withdrawn.status_code == 200, withdrawn.content

    assert_escaped(cast.client("manager").get(reverse("portal:case-detail", args=[cast.case.pk])), "case page")
    root = cast.client("superuser")
    assert_escaped(root.get(reverse("admin:cases_case_change", args=[cast.case.pk])), "admin case page")
    exception = PolicyException.objects.get()
    assert_escaped(root.get(reverse("admin:cases_policyexception_change", args=[exception.pk])), "admin exception")


def test_scripts_in_titles_are_escaped_in_html_mail_and_cannot_break_the_subject(cast):
    item = EvidenceFactory(
        owner=cast.employee, title=f"{XSS}\r\nBcc: victim@example.com", status=EvidenceStatus.SUBMITTED
    )
    reminder = ReminderFactory(kind=ReminderKind.REVIEW_REQUESTED, evidence=item, key=f"review_requested:{item.pk}")
    content = {
        "recipient_name": "Rita",
        "title": item.title,
        "owner": XSS,
        "review_url": "https://rc.example.com/review/1/",
    }

    message = build_email(reminder, content)
    html = message.alternatives[0][0]
    for marker in RAW_MARKERS:
        assert marker not in html
    assert ESCAPED in html
    mime = message.message()  # raises BadHeaderError if a header value holds a line break
    assert mime["Bcc"] is None
    assert "\r" not in mime["Subject"] and "\n" not in message.subject


# ------------------------------------------------------------------------------------- sizes and encodings


def test_an_oversized_json_body_is_a_413_with_the_sizes_and_nothing_is_saved(cast, settings):
    before = row_counts()
    body = json.dumps({"category": "customer_story", "title": "x", "customer_quote": "a" * (3 * 1024 * 1024)})

    response = api(cast).post(reverse("evidence_api:evidence-list"), body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["detail"].startswith(
        "The request body is 3,145,794 bytes; the limit is 2,097,152 bytes (2 MB)"
    )
    assert row_counts() == before


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_an_oversized_form_post_is_a_413_page(cast, content_type):
    client = cast.client("employee")
    before = row_counts()
    if content_type == "multipart/form-data":  # under the upload limit, but the text alone is over 2 MB
        response = client.post(reverse("portal:evidence-new"), {"title": "t" * (3 * 1024 * 1024)})
    else:
        body = "title=" + "t" * (3 * 1024 * 1024)
        response = client.post(reverse("portal:evidence-new"), body, content_type=content_type)

    assert response.status_code == 413
    assert b"Request too large" in response.content
    assert b"2 MB" in response.content
    assert row_counts() == before


def test_an_oversized_upload_is_refused_and_nothing_is_stored(cast, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1024 * 1024
    before = row_counts()
    big = SimpleUploadedFile("notes.txt", b"call notes\n" * 120_000, content_type="text/plain")

    response = api(cast).post(reverse("evidence_api:evidence-attachments", args=[cast.draft.pk]), {"file": big})

    assert response.status_code == 400
    assert "The file is 1,320,000 bytes; the limit is 1,048,576 bytes (1 MB)." in response.json()["file"][0]
    assert row_counts() == before
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_a_multipart_request_over_the_whole_request_limit_is_a_413(cast, settings):
    settings.REQUEST_MAX_UPLOAD_BYTES = 64 * 1024
    before = row_counts()
    big = SimpleUploadedFile("notes.txt", b"x" * (100 * 1024), content_type="text/plain")

    response = api(cast).post(reverse("evidence_api:evidence-attachments", args=[cast.draft.pk]), {"file": big})

    assert response.status_code == 413
    assert "The upload is" in response.json()["detail"]
    assert row_counts() == before


def test_a_malformed_content_length_is_a_400(cast):
    response = api(cast).post(
        reverse("evidence_api:evidence-list"), b"{}", content_type="application/json", CONTENT_LENGTH="12abc"
    )
    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]


def test_invalid_utf8_in_a_json_body_is_a_400(cast):
    before = row_counts()
    body = b'{"category": "customer_story", "title": "caf\xe9 \xff", "impact_date": "2026-01-01"}'

    response = api(cast).post(reverse("evidence_api:evidence-list"), body, content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert row_counts() == before


@pytest.mark.parametrize("body", [b"title=caf%E9&category=customer_story", b"title=caf\xe9\xff&category=x"])
def test_invalid_utf8_in_a_form_body_is_a_400(cast, body):
    client = cast.client("employee")
    before = row_counts()
    response = client.post(reverse("portal:evidence-new"), body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert b"not valid UTF-8" in response.content
    assert row_counts() == before


def test_invalid_utf8_in_csv_imports_is_refused_and_nothing_is_imported(cast):
    root = cast.client("superuser")
    before = row_counts()
    bad = "code,name,parent_code,customer_layer\nops,Op\xe9rations,,0\n".encode("latin-1")

    org = root.post(
        reverse("admin:org_orgunit_import"),
        {"file": SimpleUploadedFile("units.csv", bad, content_type="text/csv"), "dry_run": ""},
    )
    nominations = root.post(
        reverse("admin:cases_cycle_nominations", args=[cast.cycle.pk]),
        {"file": SimpleUploadedFile("n.csv", b"employee_number,nominated_by\n\xff\xfe,x\n", content_type="text/csv")},
    )

    for response in (org, nominations):
        assert response.status_code == 200
        assert b"UTF-8" in response.content
    assert row_counts() == before


# ---------------------------------------------------------------------------------------- numbers and pages


def test_huge_page_sizes_are_capped_at_200(cast):
    EvidenceFactory.create_batch(205, owner=cast.employee)
    client = api(cast)

    huge = client.get(reverse("evidence_api:evidence-list"), {"page_size": 10**9}).json()
    negative = client.get(reverse("evidence_api:evidence-list"), {"page_size": -1}).json()

    assert len(huge["results"]) == 200 and huge["count"] == 207
    assert len(negative["results"]) == 50  # not a size: the default


@pytest.mark.parametrize("page", ["0", "-1", "99999999999999999999", "abc", "1e30"])
def test_pages_out_of_range_are_a_404_not_a_500(cast, page):
    response = api(cast).get(reverse("evidence_api:evidence-list"), {"page": page})
    assert response.status_code == 404
    assert "Invalid page" in response.json()["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("baseline", "1e30"),
        ("baseline", 1e30),
        ("result", "NaN"),
        ("result", "Infinity"),
        ("baseline", "-99999999999999999999"),
        ("impact_date", "99999-01-01"),
        ("impact_date", "2026-02-30"),
    ],
)
def test_absurd_numbers_and_dates_are_a_400_naming_the_field(cast, field, value):
    before = row_counts()
    data = {
        "category": "operational_kpi",
        "title": "Faster check-in",
        "metric_name": "Minutes to check in",
        "metric_kind": "operational",
        "baseline": "12",
        "result": "8",
        "direction": "decrease",
        "impact_date": "2026-01-10",
        field: value,
    }

    response = post_json(api(cast), reverse("evidence_api:evidence-list"), data)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert row_counts() == before


@pytest.mark.parametrize("waived", [[-1], [0], [10**30], ["1; DROP TABLE cases_case"], list(range(1, 60))])
def test_absurd_counts_and_ids_in_an_exception_request_are_a_400(cast, waived):
    client = api(cast, "manager")
    before = row_counts()
    response = post_json(
        client,
        reverse("cases_api:case-request-exception", args=[cast.case.pk]),
        {"justification": "A full sentence of justification for the exception here.", "waived_requirements": waived},
    )
    assert response.status_code == 400, response.content
    assert "waived_requirements" in response.json()
    assert row_counts() == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/evidence/99999999999999999999/",
        "/api/cases/99999999999999999999/",
        "/api/exceptions/99999999999999999999/",
        "/evidence/99999999999999999999/",
        "/cases/99999999999999999999/",
    ],
)
def test_ids_beyond_any_integer_column_are_a_404(cast, url):
    client = cast.client("hr")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"owner": "99999999999999999999"},
        {"owner": "-1"},
        {"owner": "1e30"},
        {"impact_date_from": "0000-00-00"},
    ],
)
def test_absurd_filter_values_are_a_400_or_nothing(cast, query):
    response = api(cast, "hr").get(reverse("evidence_api:evidence-list"), query)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["count"] == 0


@pytest.mark.parametrize("query", [{"cycle": "-1"}, {"cycle": "1e30"}, {"unit": "99999999999999999999"}])
def test_absurd_case_filters_find_nothing(cast, query):
    response = api(cast, "hr").get(reverse("cases_api:case-list"), query)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["count"] == 0


# ----------------------------------------------------------------------------------------- unknown choices


@pytest.mark.parametrize(
    ("url_name", "query", "parameter"),
    [
        ("evidence_api:evidence-list", {"status": "bogus"}, "status"),
        ("evidence_api:evidence-list", {"category": "no-such-category"}, "category"),
        ("evidence_api:evidence-list", {"customer_type": "alien"}, "customer_type"),
        ("evidence_api:evidence-list", {"ordering": "owner__user__password"}, "ordering"),
        ("evidence_api:evidence-list", {"mine": "perhaps"}, "mine"),
        ("cases_api:case-list", {"status": "bogus"}, "status"),
    ],
)
def test_unknown_values_in_filters_are_a_400_naming_the_parameter(cast, url_name, query, parameter):
    response = api(cast, "hr").get(reverse(url_name), query)
    assert response.status_code == 400
    assert parameter in response.json()


@pytest.mark.parametrize(
    ("url_name", "data", "field"),
    [
        ("cases_api:case-decide", {"decision": "maybe"}, "decision"),
        ("cases_api:case-attest", {"role": "king"}, "role"),
    ],
)
def test_unknown_choices_in_case_actions_are_a_400_and_change_nothing(cast, url_name, data, field):
    before = row_counts()
    response = post_json(api(cast, "hr"), reverse(url_name, args=[cast.case.pk]), data)
    assert response.status_code == 400
    assert field in response.json()
    assert row_counts() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "bogus"),
        ("customer_type", "alien"),
        ("source_type", "carrier-pigeon"),
        ("metric_kind", "vibes"),
        ("direction", "sideways"),
        ("touchpoint", "no-such-touchpoint"),
        ("internal_customer_unit", "no-such-unit"),
    ],
)
def test_unknown_choices_in_an_evidence_body_are_a_400_naming_the_field(cast, field, value):
    before = row_counts()
    data = {"category": "customer_story", "title": "A title", "impact_date": "2026-01-10", field: value}
    response = post_json(api(cast), reverse("evidence_api:evidence-list"), data)
    assert response.status_code == 400
    assert field in response.json()
    assert row_counts() == before


# ----------------------------------------------------------------------------------- SQL metacharacters


SQL_META = ["' OR 1=1 --", "%", "_", "\\", "'; DROP TABLE evidence_evidence; --", '" OR ""="', "1) OR (1=1"]


@pytest.mark.parametrize("text", SQL_META)
def test_sql_metacharacters_in_search_match_literally(cast, text):
    api_client = api(cast, "hr")
    response = api_client.get(reverse("evidence_api:evidence-list"), {"search": text})

    assert response.status_code == 200
    assert response.json()["count"] == 0  # no title contains it: nothing leaks, no wildcard
    assert Evidence.objects.count() == 2


def test_a_literal_percent_in_search_finds_only_items_that_contain_it(cast):
    EvidenceFactory(owner=cast.employee, title="Complaints down 30% after the fix")
    response = api(cast, "hr").get(reverse("evidence_api:evidence-list"), {"search": "30%"})
    assert [row["title"] for row in response.json()["results"]] == ["Complaints down 30% after the fix"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/evidence/?search=%00",
        "/api/evidence/?category=%00",
        "/api/evidence/?status=%00",
        "/api/cases/?ritual_type=%00",
        "/api/review-queue/?page=%00",
        "/api/reports/compliance/?unit=%00",
        "/me/evidence/?category=%00",
        "/review/?category=%00",
        "/admin/evidence/evidence/?q=%00",
        "/admin/audit/auditevent/?q=%00",
        "/reports/?unit=%00",
    ],
)
def test_a_null_byte_in_a_query_string_is_a_400(cast, url):
    response = cast.client("superuser").get(url)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "A\x00B"), ("category", "customer\x00story"), ("touchpoint", "\x00"), ("impact_date", "2026\x00")],
)
def test_a_null_byte_in_a_json_body_is_a_400(cast, field, value):
    before = row_counts()
    data = {"category": "customer_story", "title": "A title", "impact_date": "2026-01-10", field: value}
    response = post_json(api(cast), reverse("evidence_api:evidence-list"), data)
    assert response.status_code == 400, response.content
    assert row_counts() == before


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_null_byte_in_a_form_body_is_a_400(cast, content_type):
    client = cast.client("employee")
    before = row_counts()
    data = {"title": "A\x00B", "category": "customer_story", "impact_date": "2026-01-10", "customer_type": "external"}
    if content_type == "multipart/form-data":
        response = client.post(reverse("portal:evidence-new"), data)
    else:
        response = client.post(reverse("portal:evidence-new"), urlencode(data), content_type=content_type)
    assert response.status_code == 400
    assert row_counts() == before
