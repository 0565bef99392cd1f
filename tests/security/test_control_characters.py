"""Control characters (NUL, ESC, ...) are refused wherever the product reads text: every API operation's body and
query string, credentials and cookies, the portal's forms, an admin form and every CSV import: a 400 (or a row
error) that names the field, never a 5xx, nothing written."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from apps.cases.models import Case
from apps.cases.nominations import cycle_nominations_import
from apps.common.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from apps.evidence.models import Attachment
from apps.org.importers import org_csv_import
from apps.org.models import Employee, OrgUnit
from tests.factories.cases import CycleFactory

from .test_hostile_input import row_counts

BAD = ("\x00", "\x1b")
FORM = "application/x-www-form-urlencoded"
API_ROLES = ("employee", "cx_reviewer", "hr")


def test_the_rule_refuses_c0_del_and_c1_controls_but_keeps_tabs_newlines_and_line_separators():
    refused = [chr(code) for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0))]
    assert all(has_control_characters(f"a{char}b") for char in refused)
    assert not any(has_control_characters(f"a{char}b") for char in "\t\n\r\u2028\u2029\u00a0é€😀")


# ------------------------------------------------------------------------------------------- every API operation


def _operations() -> tuple[list[tuple[str, str, dict[str, Any]]], dict[str, Any]]:
    """(method, path template, operation) for every operation of the OpenAPI schema, and the schema's components."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ], schema["components"]["schemas"]


OPERATIONS, COMPONENTS = _operations()
BODY_OPERATIONS = [(m, p, o) for m, p, o in OPERATIONS if o.get("requestBody")]
GET_OPERATIONS = [(m, p, o) for m, p, o in OPERATIONS if m == "GET"]


def _properties(operation: dict[str, Any], media_type: str) -> dict[str, Any]:
    schema = operation["requestBody"]["content"][media_type]["schema"]
    if "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    return schema.get("properties", {})


def _url(cast, path: str, role: str) -> str:  # type: ignore[no-untyped-def]
    """The path with ids of objects the role can reach, so the request gets as far as reading its body."""
    evidence = cast.draft if role == "employee" else cast.submitted
    ids = {"cases": cast.case.pk, "cycles": cast.cycle.pk, "evidence": evidence.pk}
    resource = path.split("/")[2]
    url = path.replace("{id}", str(ids.get(resource, 1)))
    return re.sub(r"\{\w+\}", "1", url)


def _request(client: Client, method: str, url: str, media_type: str, fields: dict[str, Any]):  # type: ignore[no-untyped-def]
    if media_type == "application/json":
        body: bytes | str = json.dumps(fields)
    elif media_type == "multipart/form-data":
        body = encode_multipart(BOUNDARY, fields)
        media_type = MULTIPART_CONTENT
    else:
        body = urlencode({name: str(value) for name, value in fields.items()})
    return client.generic(method, url, body, content_type=media_type)


def _api(cast, role: str) -> Client:  # type: ignore[no-untyped-def]
    return Client(HTTP_AUTHORIZATION=f"Token {cast.token(role)}")


@pytest.mark.parametrize("role", API_ROLES)
def test_every_api_body_with_a_control_character_is_a_400_naming_its_fields_or_is_never_read(cast, role):
    client = _api(cast, role)
    before = row_counts()
    read: set[str] = set()
    for method, path, operation in BODY_OPERATIONS:
        for media_type in operation["requestBody"]["content"]:
            properties = _properties(operation, media_type)
            for char in BAD:
                fields: dict[str, Any] = {}
                for name, spec in properties.items():
                    if spec.get("format") == "binary" or name == "file":
                        fields[name] = SimpleUploadedFile(f"notes{char}.txt", b"call notes\n", "text/plain")
                    else:
                        fields[name] = f"x{char}y"
                response = _request(client, method, _url(cast, path, role), media_type, fields)
                where = f"{role} {method} {path} {media_type} {char!r}: {response.status_code} {response.content[:300]}"
                assert response.status_code < 500, where
                if response.status_code == 400 and any(f"x{char}y" == value for value in fields.values()):
                    errors = response.json()
                    named = [name for name in fields if errors.get(name) == [CONTROL_CHARACTERS_MESSAGE]]
                    assert named, where
                    read.add(f"{method} {path}")
                if 200 <= response.status_code < 300:
                    # Only an upload gets this far: the multipart parser drops control characters from file names.
                    assert set(fields) == {"file"}, where
                    assert not any(has_control_characters(a.original_name) for a in Attachment.objects.all()), where
    if role == "employee":
        assert {"POST /api/evidence/", "PATCH /api/evidence/{id}/", "PUT /api/evidence/{id}/"} <= read
    if role == "cx_reviewer":
        assert {"POST /api/evidence/{id}/verify/", "POST /api/evidence/{id}/reject/"} <= read
    if role == "hr":
        assert {"POST /api/cycles/{id}/cases/", "POST /api/reports/exports/"} <= read
    counts = row_counts()
    counts.pop("Attachment"), before.pop("Attachment")
    counts.pop("AuditEvent"), before.pop("AuditEvent")  # refused attempts are audited
    assert counts == before


@pytest.mark.parametrize("role", ("anonymous", *API_ROLES))
@pytest.mark.parametrize("char", BAD)
def test_every_api_read_with_a_control_character_in_its_query_is_a_400_naming_the_parameter(cast, role, char):
    client = Client() if role == "anonymous" else _api(cast, role)
    for _method, path, operation in GET_OPERATIONS:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"] or ["page"]
        for name in names:
            response = client.get(_url(cast, path, role), {name: f"x{char}y"})
            assert response.status_code == 400, f"{role} {path}?{name}: {response.status_code}"
            assert response.json() == {name: [CONTROL_CHARACTERS_MESSAGE]}


def test_a_json_body_names_each_top_level_field_with_a_control_character(cast):
    response = _api(cast, "employee").post(
        reverse("evidence_api:evidence-list"),
        {"title": "fine", "customer_quote": "bell\x07", "touchpoints": ["a", "b\x9b"], "category": "story"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "customer_quote": [CONTROL_CHARACTERS_MESSAGE],
        "touchpoints": [CONTROL_CHARACTERS_MESSAGE],
    }


def test_a_multipart_code_field_with_nul_is_a_400_not_a_database_error(cast):
    """The issue's finding: NUL in the evidence API's category, touchpoint or unit was a 500 on PostgreSQL."""
    before = row_counts()
    for name in ("category", "touchpoint", "internal_customer_unit"):
        response = _api(cast, "hr").post(reverse("evidence_api:evidence-list"), {"title": "t", name: "a\x00"})
        assert response.status_code == 400
        assert response.json() == {name: [CONTROL_CHARACTERS_MESSAGE]}
    assert row_counts() == before


# ----------------------------------------------------------------------------------------- headers and cookies


@pytest.mark.parametrize("char", BAD)
def test_basic_credentials_or_a_token_with_control_characters_are_a_400(cast, char):
    basic = base64.b64encode(f"dana{char}:password".encode()).decode()
    for header in (f"Basic {basic}", f"Token abc{char}def"):
        response = Client(HTTP_AUTHORIZATION=header).get(reverse("evidence_api:evidence-list"))
        assert response.status_code == 400
        assert response.json() == {"Authorization": [CONTROL_CHARACTERS_MESSAGE]}


def test_a_browser_name_with_control_characters_is_a_400(cast):
    response = Client(HTTP_USER_AGENT="Mozilla\x1b[31m").get(reverse("portal:login"))
    assert response.status_code == 400
    assert b"User-Agent header contains control characters" in response.content


def test_a_session_cookie_with_control_characters_is_ignored_as_if_absent(cast):
    client = cast.client("employee")
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get(reverse("portal:my-evidence"))
    assert response.status_code == 302  # signed out: sent to the sign-in page, no error
    assert reverse("portal:login") in response["Location"]


def test_a_request_id_with_control_characters_is_replaced(cast):
    response = cast.client("employee").get(reverse("portal:my-evidence"), HTTP_X_REQUEST_ID="abc\x1b[2Jdefgh")
    assert not has_control_characters(response["X-Request-ID"])
    assert "abc" not in response["X-Request-ID"]


# ------------------------------------------------------------------------------------------------------ pages


@pytest.mark.parametrize("url", ["/me/evidence/?category=x%1By", "/review/?q=%C2%9B", "/admin/org/orgunit/?q=%1B"])
def test_a_control_character_in_a_page_query_is_a_400_page_naming_the_parameter(cast, url):
    response = cast.client("superuser").get(url)
    assert response.status_code == 400
    assert b"The query parameter" in response.content
    assert b"contains control characters" in response.content


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize("field", ["title", "customer_quote", "category", "touchpoint"])
def test_the_evidence_form_shows_control_characters_next_to_the_field(cast, char, field):
    client = cast.client("employee")
    before = row_counts()
    data = {
        "title": "A fair title",
        "customer_type": "external",
        "impact_date": "2026-01-10",
        "category": "",
        field: f"x{char}y",
    }
    response = client.post(reverse("portal:evidence-new"), data)  # multipart, as the page sends it
    assert response.status_code in (200, 400)
    assert response.context["form"].errors[field] == [CONTROL_CHARACTERS_MESSAGE]
    assert CONTROL_CHARACTERS_MESSAGE.encode() in response.content
    assert row_counts() == before


def test_the_review_form_shows_control_characters_next_to_the_comment(cast):
    response = cast.client("cx_reviewer").post(
        reverse("portal:review", args=[cast.submitted.pk]),
        {"decision": "request_changes", "comment": "Please add the \x1b[31mticket"},
    )
    assert response.context["form"].errors["comment"] == [CONTROL_CHARACTERS_MESSAGE]
    cast.submitted.refresh_from_db()
    assert cast.submitted.status == "submitted"


def test_a_nul_in_an_admin_form_is_refused_naming_the_field_and_nothing_is_saved(cast):
    client = cast.client("superuser")
    before = row_counts()
    data = {"name": "Back\x00office", "code": "back-office", "customer_layer": "1"}

    as_browsers_send_it = client.post(reverse("admin:org_orgunit_add"), urlencode(data), content_type=FORM)
    as_multipart = client.post(reverse("admin:org_orgunit_add"), data)

    assert as_browsers_send_it.status_code == 400
    assert b"The form field &#x27;name&#x27; contains control characters" in as_browsers_send_it.content
    assert as_multipart.status_code == 200
    assert as_multipart.context["adminform"].form.errors["name"] == [CONTROL_CHARACTERS_MESSAGE]
    assert row_counts() == before


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\u009b"])
def test_any_admin_form_refuses_control_characters_next_to_the_field_and_saves_nothing(cast, char):
    client = cast.client("superuser")
    before = row_counts()

    response = client.post(
        reverse("admin:org_orgunit_add"), {"name": f"Back{char}office", "code": "back-office", "customer_layer": "1"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [CONTROL_CHARACTERS_MESSAGE]
    assert row_counts() == before


def test_an_admin_inline_form_refuses_control_characters_next_to_the_field(cast):
    client = cast.client("superuser")
    version = cast.case.pinned_versions.first()
    policy = version.policy
    data = {
        "policy": policy.pk, "effective_from": "2099-01-01", "effective_to": "", "notes": "",
        "requirements-TOTAL_FORMS": "1", "requirements-INITIAL_FORMS": "0",
        "requirements-MIN_NUM_FORMS": "0", "requirements-MAX_NUM_FORMS": "1000",
        "requirements-0-kind": "customer_voice", "requirements-0-order": "1", "requirements-0-weight": "1",
        "requirements-0-count": "1", "requirements-0-label": "Quote\x1b[31m", "requirements-0-help_text": "",
    }  # fmt: skip
    before = row_counts()

    response = client.post(reverse("admin:policies_policyversion_add"), data)

    assert response.status_code == 200
    inline_errors = [form.errors for formset in response.context["inline_admin_formsets"] for form in formset.formset]
    assert {"label": [CONTROL_CHARACTERS_MESSAGE]} in inline_errors
    assert row_counts() == before


# ------------------------------------------------------------------------------------------------ CSV imports


@pytest.mark.parametrize("char", BAD)
def test_an_org_unit_csv_with_a_control_character_names_row_and_column_and_imports_nothing(db, char):
    content = f"code,name,parent_code,customer_layer\nacme,Acme,,3\nfront,Front{char}desk,acme,0\n".encode()
    result = org_csv_import(kind="units", content=content, file_name="units.csv")
    assert [str(error) for error in result.errors] == [
        "Row 3, column name: contains control characters, which are not allowed; remove them and retry."
    ]
    assert not OrgUnit.objects.exists()


def test_an_employee_csv_with_a_control_character_names_row_and_column_and_imports_nothing(db):
    OrgUnit.objects.create(name="Acme", code="acme", customer_layer=0)
    content = (
        b"employee_number,full_name,email,org_unit_code,job_level,job_function,manager_employee_number,timezone\n"
        b"E1,Jonas Berg,jonas@example.com,acme\x00,executive,operations,,Europe/Berlin\n"
    )
    result = org_csv_import(kind="employees", content=content, file_name="people.csv")
    assert [str(error) for error in result.errors] == [
        "Row 2, column org_unit_code: contains control characters, which are not allowed; remove them and retry."
    ]
    assert not Employee.objects.exists()


def test_a_csv_header_with_a_control_character_is_refused(db):
    result = org_csv_import(kind="units", content=b"code,na\x1bme,parent_code,customer_layer\n", file_name="u.csv")
    assert "the header contains control characters" in str(result.errors[0])


def test_a_nominations_csv_with_a_control_character_names_row_and_column_and_opens_nothing(cast):
    cycle = CycleFactory(ritual_type=cast.cycle.ritual_type)
    number = cast.employee.employee_number
    content = f"employee_number,nominated_by\n{number},\n{number}\x00,\n".encode()
    before = Case.objects.count()
    result = cycle_nominations_import(cycle=cycle, content=content, by=User.objects.get(username="hr"))
    assert result.errors == ["Row 3, column employee_number: contains control characters, which are not allowed."]
    assert Case.objects.count() == before
