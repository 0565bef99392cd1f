"""404s: JSON under /api/, HTML for pages, and the same work for a hidden object as for a missing one.

An object the caller may not see answers exactly as one that does not exist: same status, same body, and the same
database work (the same number of queries, of the same shape), so neither the answer nor its timing tells them
it exists.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories.cases import PolicyExceptionFactory
from tests.factories.evidence import AttachmentFactory
from tests.factories.org import EmployeeFactory, UserFactory

MISSING = 987_654_321


def _shape(sql: str) -> str:
    """A query with its literal values blanked: what it does, not which row it asks for."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


def _same_page(body: bytes) -> bytes:
    """The body without the per-request CSRF token (the sign-out form of the page's header)."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", body)


def _work(client: Client, method: str, url: str, **extra: object) -> tuple[int, bytes, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, **extra)
    return response.status_code, response.content, [_shape(query["sql"]) for query in queries.captured_queries]


@pytest.fixture
def outsider(cast) -> Client:
    """A signed-in employee of another unit, with no reports and no reviewer role: sees none of Dana's things."""
    user = UserFactory(username="outsider")
    EmployeeFactory(user=user, full_name="Olive Outsider")
    client = Client()
    client.force_login(user)
    return client


def _api(client: Client, cast, role: str) -> Client:
    return Client(headers={"authorization": f"Token {cast.token(role)}"})


def _targets(cast) -> dict[str, int]:
    attachment = AttachmentFactory(evidence=cast.submitted)
    exception = PolicyExceptionFactory(case=cast.case, requested_by=cast.users["manager"])
    return {
        "draft": cast.draft.pk,
        "submitted": cast.submitted.pk,
        "case": cast.case.pk,
        "attachment": attachment.pk,
        "exception": exception.pk,
    }


PAGES = [
    ("get", "/api/evidence/{submitted}/"),
    ("get", "/api/evidence/{draft}/"),
    ("post", "/api/evidence/{submitted}/submit/"),
    ("post", "/api/evidence/{submitted}/verify/"),
    ("get", "/api/attachments/{attachment}/download/"),
    ("get", "/api/cases/{case}/"),
    ("get", "/api/cases/{case}/timeline/"),
    ("get", "/api/exceptions/{exception}/"),
    ("get", "/evidence/{submitted}/"),
    ("get", "/evidence/{draft}/"),
    ("get", "/attachments/{attachment}/download/"),
    ("get", "/review/{submitted}/"),
    ("get", "/cases/{case}/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_a_hidden_object_answers_and_works_exactly_as_a_missing_one(cast, outsider, method, url):
    targets = _targets(cast)
    hidden_url = url.format(**targets)
    missing_url = url.format(**dict.fromkeys(targets, MISSING))
    _work(outsider, method, missing_url)  # warm: the first request loads what every later one reuses

    hidden_status, hidden_body, hidden_queries = _work(outsider, method, hidden_url)
    missing_status, missing_body, missing_queries = _work(outsider, method, missing_url)

    assert hidden_status == missing_status == 404
    assert _same_page(hidden_body.replace(hidden_url.encode(), missing_url.encode())) == _same_page(missing_body)
    assert hidden_queries == missing_queries


@pytest.mark.parametrize("role", ["cx_reviewer", "employee"])
def test_a_draft_hidden_from_a_reviewer_or_a_submitted_item_from_an_outsider_costs_what_a_missing_id_does(cast, role):
    client = _api(Client(), cast, role)
    hidden = cast.draft.pk if role == "cx_reviewer" else None
    if hidden is None:  # the employee sees their own items: aim at someone else's submitted item instead
        other = EmployeeFactory(full_name="Other Owner")
        from tests.factories.evidence import EvidenceFactory

        hidden = EvidenceFactory(owner=other, status="submitted").pk
    _work(client, "get", f"/api/evidence/{MISSING}/")

    hidden_status, _, hidden_queries = _work(client, "get", f"/api/evidence/{hidden}/")
    missing_status, _, missing_queries = _work(client, "get", f"/api/evidence/{MISSING}/")

    assert hidden_status == missing_status == 404
    assert hidden_queries == missing_queries


@pytest.mark.parametrize(
    "url", ["/api/no-such-thing/", "/api/evidence/abc/", "/api/evidence/1.5/", "/api/attachments/x/download/"]
)
def test_an_unknown_api_url_answers_json_not_found(cast, url):
    response = _api(Client(), cast, "employee").get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_api_url_answers_json_even_to_an_anonymous_caller(db):
    response = Client().get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_non_numeric_case_id_answers_json_not_found(cast):
    response = _api(Client(), cast, "hr").get("/api/cases/abc/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_still_answers_the_html_not_found_page(cast, outsider):
    response = outsider.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
