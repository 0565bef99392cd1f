"""The evidence REST API, role by role: who sees what, who may do what, and what a refusal looks like."""

import datetime as dt
import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.evidence.constants import CustomerType, EvidenceStatus
from apps.evidence.models import Attachment, Evidence
from apps.evidence.permissions import can_edit, can_review
from apps.evidence.services import evidence_submit
from tests.evidence.helpers import new_draft_body
from tests.factories.evidence import AttachmentFactory, EvidenceFactory, category
from tests.factories.org import EmployeeFactory, OrgUnitFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

LIST = "/api/evidence/"
QUEUE = "/api/review-queue/"
ROLES = ["owner", "peer", "manager", "director", "reviewer", "hr", "stranger"]

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
EXECUTABLE = b"MZ\x90\x00" + b"\x00" * 60


def png_bytes() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def user_of(people, who):
    """The login of a role in the `people` fixture (HR and the stranger have no employee record)."""
    person = people[who]
    return person if who in {"hr", "stranger"} else person.user


def api(user=None) -> APIClient:
    """A session-authenticated client (CSRF is checked by the dedicated test below)."""
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def as_role(people, who) -> APIClient:
    return api(user_of(people, who))


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def detail(item) -> str:
    return f"/api/evidence/{item.pk}/"


def act(item, name: str) -> str:
    return f"/api/evidence/{item.pk}/{name}/"


def stored_files() -> set[Path]:
    return {path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


@pytest.fixture
def items(people):
    """Items of the owner in every state, the peer's, and one of an outsider whom nobody here manages."""
    outsider = EmployeeFactory(org_unit=OrgUnitFactory(name="Billing"))
    submitted_at = timezone.now() - dt.timedelta(days=3)
    return {
        "draft": EvidenceFactory(owner=people["owner"]),
        "submitted": EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED, submitted_at=submitted_at),
        "changes": EvidenceFactory(owner=people["owner"], status=EvidenceStatus.CHANGES_REQUESTED),
        "verified": EvidenceFactory(owner=people["owner"], status=EvidenceStatus.VERIFIED),
        "peer_draft": EvidenceFactory(owner=people["peer"]),
        "peer_submitted": EvidenceFactory(
            owner=people["peer"], status=EvidenceStatus.SUBMITTED, submitted_at=submitted_at - dt.timedelta(days=1)
        ),
        "outsider_submitted": EvidenceFactory(
            owner=outsider, status=EvidenceStatus.SUBMITTED, submitted_at=submitted_at + dt.timedelta(days=1)
        ),
    }


# --- Who sees what -------------------------------------------------------------------------------------------------

VISIBLE = {
    "owner": {"draft", "submitted", "changes", "verified"},
    "peer": {"peer_draft", "peer_submitted"},
    "manager": {"submitted", "changes", "verified", "peer_submitted"},
    "director": {"submitted", "changes", "verified", "peer_submitted"},
    "reviewer": {"submitted", "changes", "verified", "peer_submitted", "outsider_submitted"},
    "hr": {"draft", "submitted", "changes", "verified", "peer_draft", "peer_submitted", "outsider_submitted"},
    "stranger": set(),
}


@pytest.mark.parametrize("who", ROLES)
def test_list_shows_exactly_what_each_role_may_see(people, items, who):
    response = as_role(people, who).get(LIST)
    assert ids(response) == {items[key].pk for key in VISIBLE[who]}


@pytest.mark.parametrize("who", ROLES)
def test_retrieve_of_an_invisible_item_is_404(people, items, who):
    client = as_role(people, who)
    for key, item in items.items():
        expected = 200 if key in VISIBLE[who] else 404
        assert client.get(detail(item)).status_code == expected, key


def test_anonymous_callers_are_refused_everywhere(items):
    client = api()
    for url in (LIST, QUEUE, detail(items["submitted"]), act(items["submitted"], "verify")):
        response = client.get(url) if "verify" not in url else client.post(url, {})
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("manager", ["peer_submitted", "submitted"]),
        ("director", ["peer_submitted", "submitted"]),
        ("reviewer", ["peer_submitted", "submitted", "outsider_submitted"]),
        ("hr", ["peer_submitted", "submitted", "outsider_submitted"]),
        ("owner", []),
        ("peer", []),
        ("stranger", []),
    ],
)
def test_review_queue_holds_what_one_may_review_oldest_first(people, items, who, expected):
    response = as_role(people, who).get(QUEUE)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [items[key].pk for key in expected]


def test_review_queue_never_holds_ones_own_items_even_for_a_cx_reviewer(people, items):
    own = EvidenceFactory(owner=people["reviewer"], status=EvidenceStatus.SUBMITTED, submitted_at=timezone.now())
    assert own.pk not in {row["id"] for row in as_role(people, "reviewer").get(QUEUE).json()["results"]}


@pytest.mark.parametrize("who", ROLES)
def test_can_flags_agree_with_the_permission_rules(people, items, who):
    user = user_of(people, who)
    rows = {row["id"]: row["can"] for row in as_role(people, who).get(LIST).json()["results"]}
    for item in Evidence.objects.filter(pk__in=rows):
        assert rows[item.pk]["edit"] is can_edit(user, item), item.title
        assert rows[item.pk]["submit"] is can_edit(user, item), item.title
        expected_review = item.status == EvidenceStatus.SUBMITTED and can_review(user, item)
        assert rows[item.pk]["review"] is expected_review, item.title
        assert rows[item.pk]["correct"] is (who == "owner" and item.status == EvidenceStatus.VERIFIED)


# --- Creating and editing ------------------------------------------------------------------------------------------


def test_owner_creates_a_draft_and_owns_it(people):
    response = as_role(people, "owner").post(LIST, new_draft_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == {"id": people["owner"].pk, "name": people["owner"].full_name}
    assert body["status"] == "draft"
    assert body["category"] == "customer_story"
    assert body["version"] == 1 and body["is_current"] is True and body["previous"] is None
    assert body["can"] == {"edit": True, "submit": True, "review": False, "correct": False, "delete": True}
    assert Evidence.objects.get(pk=body["id"]).created_by == people["owner"].user


def test_workflow_fields_in_the_body_are_ignored(people):
    response = as_role(people, "owner").post(
        LIST, new_draft_body(status="verified", version=9, is_current=False), format="json"
    )
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["version"]) == ("draft", 1)


def test_a_login_without_an_employee_record_cannot_create(people):
    response = as_role(people, "stranger").post(LIST, new_draft_body(), format="json")
    assert response.status_code == 403
    assert "employee record" in response.json()["detail"]


def test_internal_customer_and_touchpoint_are_given_by_code(people):
    unit = OrgUnitFactory(code="housekeeping")
    touchpoint = TouchpointFactory(code="front-desk")
    body = new_draft_body(customer_type="internal", internal_customer_unit="housekeeping", touchpoint="front-desk")
    response = as_role(people, "owner").post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    item = Evidence.objects.get(pk=response.json()["id"])
    assert (item.internal_customer_unit, item.touchpoint) == (unit, touchpoint)
    assert response.json()["internal_customer_unit"] == "housekeeping"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_type": "xyz"}, "customer_type"),
        ({"source_type": "carrier_pigeon"}, "source_type"),
        ({"category": "no_such_category"}, "category"),
        ({"customer_type": "internal"}, "internal_customer_unit"),
        ({"internal_customer_unit": "no-such-unit"}, "internal_customer_unit"),
        ({"impact_date": (dt.date.today() + dt.timedelta(days=30)).isoformat()}, "impact_date"),
        ({"impact_date": "yesterday"}, "impact_date"),
        ({"title": ""}, "title"),
        ({"baseline": "12"}, "metric_name"),
    ],
)
def test_invalid_input_is_a_400_with_the_field_named(people, changes, field):
    response = as_role(people, "owner").post(LIST, new_draft_body(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Evidence.objects.count() == 0


def test_an_inactive_category_cannot_be_chosen(people):
    story = category("customer_story")
    story.active = False
    story.save()
    response = as_role(people, "owner").post(LIST, new_draft_body(), format="json")
    assert response.status_code == 400
    assert "category" in response.json()


def test_owner_edits_a_draft(people, items):
    response = as_role(people, "owner").patch(detail(items["draft"]), {"title": "Clearer title"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Clearer title"


def test_owner_replaces_a_draft_with_put(people, items):
    body = new_draft_body(title="Rewritten", customer_type="external")
    response = as_role(people, "owner").put(detail(items["draft"]), body, format="json")
    assert response.status_code == 200, response.content
    items["draft"].refresh_from_db()
    assert items["draft"].title == "Rewritten"


def test_owner_edits_an_item_sent_back_for_changes(people, items):
    response = as_role(people, "owner").patch(detail(items["changes"]), {"response": "Did more."}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("key", ["submitted", "verified"])
def test_owner_cannot_edit_submitted_or_verified_items(people, items, key):
    response = as_role(people, "owner").patch(detail(items[key]), {"title": "Sneaky"}, format="json")
    assert response.status_code == 409
    assert "can no longer be edited" in response.json()["detail"]
    items[key].refresh_from_db()
    assert items[key].title != "Sneaky"


@pytest.mark.parametrize(("who", "key"), [("reviewer", "changes"), ("manager", "submitted"), ("hr", "draft")])
def test_someone_who_sees_an_item_but_does_not_own_it_cannot_edit_it(people, items, who, key):
    response = as_role(people, who).patch(detail(items[key]), {"title": "Not mine"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only the owner can edit this item."


def test_invalid_edit_is_a_400_and_changes_nothing(people, items):
    response = as_role(people, "owner").patch(detail(items["draft"]), {"customer_type": "internal"}, format="json")
    assert response.status_code == 400
    assert "internal_customer_unit" in response.json()
    items["draft"].refresh_from_db()
    assert items["draft"].customer_type == CustomerType.EXTERNAL


def test_owner_deletes_a_never_submitted_draft(people, items):
    AttachmentFactory(evidence=items["draft"])
    response = as_role(people, "owner").delete(detail(items["draft"]))
    assert response.status_code == 204
    assert not Evidence.objects.filter(pk=items["draft"].pk).exists()


def test_submitted_items_cannot_be_deleted(people, items):
    response = as_role(people, "owner").delete(detail(items["submitted"]))
    assert response.status_code == 409
    assert "never submitted" in response.json()["detail"]


def test_a_manager_cannot_delete_a_reports_item(people, items):
    assert as_role(people, "manager").delete(detail(items["submitted"])).status_code == 403
    assert Evidence.objects.filter(pk=items["submitted"].pk).exists()


# --- Submission and review -----------------------------------------------------------------------------------------


def test_submitting_an_incomplete_draft_names_the_missing_fields(people):
    draft = EvidenceFactory(owner=people["owner"], interpretation="", response="")
    response = as_role(people, "owner").post(act(draft, "submit"))
    assert response.status_code == 400
    assert {"interpretation", "response"} <= set(response.json())
    draft.refresh_from_db()
    assert draft.status == EvidenceStatus.DRAFT


def test_submit_verify_round_trip(people, items):
    owner, reviewer = as_role(people, "owner"), as_role(people, "reviewer")
    submitted = owner.post(act(items["draft"], "submit"))
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"]
    assert submitted.json()["can"]["edit"] is False

    refused = owner.post(act(items["draft"], "verify"), {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You cannot review your own evidence."

    assert items["draft"].pk in ids(reviewer.get(QUEUE))
    verified = reviewer.post(act(items["draft"], "verify"), {"comment": "Solid."}, format="json")
    assert verified.status_code == 200, verified.content
    body = verified.json()
    assert (body["status"], body["reviewer"], body["review_comment"]) == ("verified", "cx", "Solid.")
    assert body["reviewed_at"]
    assert items["draft"].pk not in ids(reviewer.get(QUEUE))


def test_submitting_twice_is_a_conflict(people, items):
    response = as_role(people, "owner").post(act(items["submitted"], "submit"))
    assert response.status_code == 409
    assert "already submitted" in response.json()["detail"]


def test_only_the_owner_submits(people, items):
    response = as_role(people, "manager").post(act(items["changes"], "submit"))
    assert response.status_code == 403


def _fields(item) -> dict:
    item.refresh_from_db()
    return {f.attname: getattr(item, f.attname) for f in item._meta.concrete_fields}


@pytest.mark.parametrize("who", ["peer", "manager", "director", "reviewer", "hr", "stranger"])
@pytest.mark.parametrize("query", ["", "?status=draft"])
def test_a_submission_by_anyone_but_the_owner_is_403_if_they_see_the_item_else_404_and_changes_nothing(
    people, items, who, query
):
    client = as_role(people, who)
    for key, item in items.items():
        if who == "peer" and key.startswith("peer"):
            continue  # the peer's own items
        before = _fields(item)
        response = client.post(act(item, "submit") + query)
        listed = key in VISIBLE[who] and (not query or item.status == "draft")
        assert response.status_code == (403 if listed else 404), (key, response.content)
        assert _fields(item) == before


def test_submitting_a_missing_item_is_404(people, items):
    client = as_role(people, "owner")
    for pk in (items["draft"].pk + 10_000, 2**63 - 1, 10**30):
        assert client.post(f"/api/evidence/{pk}/submit/").status_code == 404


@pytest.mark.parametrize("who", ["manager", "director", "hr"])
def test_managers_up_the_chain_and_hr_verify(people, items, who):
    response = as_role(people, who).post(act(items["submitted"], "verify"), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "verified"


def test_a_peer_cannot_even_find_a_colleagues_item_to_verify(people, items):
    assert as_role(people, "peer").post(act(items["submitted"], "verify"), {}, format="json").status_code == 404


def test_reviewing_an_item_that_is_not_submitted_is_a_conflict(people, items):
    response = as_role(people, "reviewer").post(act(items["verified"], "verify"), {}, format="json")
    assert response.status_code == 409
    assert "Only submitted items can be reviewed" in response.json()["detail"]


@pytest.mark.parametrize("name", ["request-changes", "reject"])
@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "no"}])
def test_sending_back_or_rejecting_needs_a_comment(people, items, name, body):
    response = as_role(people, "reviewer").post(act(items["submitted"], name), body, format="json")
    assert response.status_code == 400
    assert "comment" in response.json()
    items["submitted"].refresh_from_db()
    assert items["submitted"].status == EvidenceStatus.SUBMITTED


def test_request_changes_sends_the_item_back_to_its_owner(people, items):
    comment = "Please add the ticket where the guest said this."
    response = as_role(people, "manager").post(act(items["submitted"], "request-changes"), {"comment": comment})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["review_comment"]) == ("changes_requested", comment)
    owner_view = as_role(people, "owner").get(detail(items["submitted"])).json()
    assert owner_view["can"]["edit"] is True and owner_view["review_comment"] == comment


def test_reject_with_a_reason(people, items):
    response = as_role(people, "reviewer").post(
        act(items["submitted"], "reject"), {"comment": "This describes a colleague's work, not yours."}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"


def test_a_flagged_item_needs_the_reviewer_to_acknowledge_the_flags(people):
    item = EvidenceFactory(owner=people["owner"], customer_quote="Any reason you can't give me a 10 today?")
    evidence_submit(evidence=item, by=people["owner"].user)
    reviewer = as_role(people, "reviewer")
    shown = reviewer.get(detail(item)).json()
    assert [flag["code"] for flag in shown["gaming_flags"]] == ["score_solicitation"]

    refused = reviewer.post(act(item, "verify"), {"comment": "ok"}, format="json")
    assert refused.status_code == 400
    assert "acknowledge_flags" in refused.json()
    assert "flagged" in refused.json()["acknowledge_flags"][0]

    accepted = reviewer.post(act(item, "verify"), {"acknowledge_flags": True}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["status"], accepted.json()["flags_acknowledged"]) == ("verified", True)


def test_correction_is_a_new_version_that_replaces_the_old_once_verified(people, items):
    old = items["verified"]
    AttachmentFactory(evidence=old)
    owner, reviewer = as_role(people, "owner"), as_role(people, "reviewer")
    assert owner.get(detail(old)).json()["can"]["correct"] is True

    created = owner.post(act(old, "correct"))
    assert created.status_code == 201, created.content
    new = created.json()
    assert (new["version"], new["previous"], new["status"], new["is_current"]) == (2, old.pk, "draft", True)
    assert [a["original_name"] for a in new["attachments"]] == ["note.txt"]
    assert owner.get(detail(old)).json()["can"]["correct"] is False
    assert owner.post(act(old, "correct")).status_code == 409

    new_item = Evidence.objects.get(pk=new["id"])
    assert owner.patch(detail(new_item), {"response": "Also trained the night shift."}).status_code == 200
    assert owner.post(act(new_item, "submit")).status_code == 200
    assert owner.get(detail(old)).json()["is_current"] is True
    assert reviewer.post(act(new_item, "verify"), {}, format="json").status_code == 200

    assert owner.get(detail(old)).json()["is_current"] is False
    assert owner.get(detail(new_item)).json()["is_current"] is True
    current_ids = ids(owner.get(LIST, {"is_current": "true"}))
    assert new_item.pk in current_ids and old.pk not in current_ids


def test_only_the_owner_corrects(people, items):
    assert as_role(people, "manager").post(act(items["verified"], "correct")).status_code == 403
    assert as_role(people, "owner").post(act(items["submitted"], "correct")).status_code == 409


# --- Filters, ordering, pagination, query count ---------------------------------------------------------------------


def test_filters_narrow_what_one_may_see(people, items):
    hr = as_role(people, "hr")
    assert ids(hr.get(LIST, {"status": "submitted"})) == {
        items[k].pk for k in ("submitted", "peer_submitted", "outsider_submitted")
    }
    assert ids(hr.get(LIST, {"status": ["draft", "verified"]})) == {
        items[k].pk for k in ("draft", "verified", "peer_draft")
    }
    assert ids(hr.get(LIST, {"owner": people["peer"].pk})) == {items[k].pk for k in ("peer_draft", "peer_submitted")}
    assert ids(hr.get(LIST, {"category": "operational_kpi"})) == set()
    assert len(ids(hr.get(LIST, {"category": "customer_story"}))) == len(items)
    assert ids(hr.get(LIST, {"customer_type": "internal"})) == set()

    old = EvidenceFactory(owner=people["owner"], impact_date=dt.date(2025, 1, 15), title="Invoice wording")
    in_range = hr.get(LIST, {"impact_date_from": "2025-01-01", "impact_date_to": "2025-01-31"})
    assert ids(in_range) == {old.pk}
    assert ids(hr.get(LIST, {"search": "INVOICE"})) == {old.pk}
    quoted = EvidenceFactory(owner=people["owner"], customer_quote="The shuttle never came.")
    assert ids(hr.get(LIST, {"search": "shuttle"})) == {quoted.pk}


def test_filters_never_widen_what_one_may_see(people, items):
    peer = as_role(people, "peer")
    assert ids(peer.get(LIST, {"owner": people["owner"].pk})) == set()
    assert ids(peer.get(LIST, {"search": "accessible"})) == {items["peer_draft"].pk, items["peer_submitted"].pk}


def test_mine_keeps_ones_own_items(people, items):
    manager = as_role(people, "manager")
    mine = EvidenceFactory(owner=people["manager"])
    assert ids(manager.get(LIST, {"mine": "true"})) == {mine.pk}
    assert mine.pk not in ids(manager.get(LIST, {"mine": "false"}))
    assert ids(as_role(people, "hr").get(LIST, {"mine": "true"})) == set()


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"customer_type": "xyz"},
        {"category": "no_such_category"},
        {"owner": "abc"},
        {"impact_date_from": "last week"},
        {"ordering": "title"},
        {"mine": "perhaps"},
    ],
)
def test_unknown_filter_values_are_a_400(people, items, params):
    response = as_role(people, "hr").get(LIST, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json())


def test_ordering(people, items):
    hr = as_role(people, "hr")
    for index, key in enumerate(["verified", "draft", "changes"]):
        items[key].impact_date = dt.date(2025, 3, 1 + index)
        items[key].save()
    rows = [row["id"] for row in hr.get(LIST, {"ordering": "impact_date"}).json()["results"]]
    assert rows[:3] == [items["verified"].pk, items["draft"].pk, items["changes"].pk]
    submitted = [
        row["id"] for row in hr.get(LIST, {"ordering": "-submitted_at", "status": "submitted"}).json()["results"]
    ]
    assert submitted == [items[k].pk for k in ("outsider_submitted", "submitted", "peer_submitted")]


def test_page_size_is_capped_at_200(people):
    EvidenceFactory.create_batch(201, owner=people["owner"])
    client = as_role(people, "owner")
    body = client.get(LIST, {"page_size": 100000}).json()
    assert body["count"] == 201
    assert len(body["results"]) == 200
    assert body["next"]
    assert len(client.get(LIST, {"page_size": 5}).json()["results"]) == 5


def _reports_items(people, count):
    for index in range(count):
        owner = people["owner"] if index % 2 else people["peer"]
        item = EvidenceFactory(
            owner=owner,
            status=EvidenceStatus.SUBMITTED,
            submitted_at=timezone.now(),
            touchpoint=TouchpointFactory(),
        )
        AttachmentFactory(evidence=item)


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["manager", "director", "reviewer", "hr"])
def test_list_and_queue_cost_a_fixed_number_of_queries(people, who, django_assert_max_num_queries):
    client = as_role(people, who)
    _reports_items(people, 3)
    few = {url: _queries_for(client, url) for url in (LIST, QUEUE)}
    _reports_items(people, 27)
    for url in (LIST, QUEUE):
        with django_assert_max_num_queries(few[url]):
            response = client.get(url)
        assert len(response.json()["results"]) == 30
        assert all(row["can"]["review"] for row in response.json()["results"])
    # One more for a person with no manager (the director here): whether they head the whole organisation.
    with django_assert_max_num_queries(11 if who == "director" else 10):
        client.get(LIST)


# --- Authentication ------------------------------------------------------------------------------------------------


def test_token_authentication_works_with_a_token_from_the_management_command(people, items):
    out = io.StringIO()
    call_command("drf_create_token", "owner", stdout=out)
    key = Token.objects.get(user=people["owner"].user).key
    assert key in out.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert ids(client.get(LIST)) == {items[k].pk for k in VISIBLE["owner"]}
    assert client.patch(detail(items["draft"]), {"title": "Via token"}, format="json").status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.get(LIST).status_code == 401


def test_session_writes_need_the_csrf_token(people, items):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(people["owner"].user)
    response = client.patch(detail(items["draft"]), {"title": "No CSRF"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert client.get(LIST).status_code == 200


# --- Attachments ---------------------------------------------------------------------------------------------------


def upload(client, item, name, content):
    return client.post(act(item, "attachments"), {"file": SimpleUploadedFile(name, content)}, format="multipart")


def raw_upload(client, item, filename: str, content: bytes):
    """Multipart built by hand: the test client would strip the directories from the name itself."""
    boundary = "rc-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(act(item, "attachments"), body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("guest-letter.pdf", PDF, "application/pdf"),
        ("booking-form.png", png_bytes(), "image/png"),
        ("call-notes.txt", b"Guest called back: the new form works.\n", "text/plain"),
    ],
)
def test_owner_attaches_pdf_png_and_text(people, items, name, content, content_type):
    response = upload(as_role(people, "owner"), items["draft"], name, content)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["original_name"] == name
    assert body["content_type"] == content_type
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    attachment = Attachment.objects.get(pk=body["id"])
    assert body["download_url"].endswith(f"/api/attachments/{attachment.pk}/download/")
    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert name not in stored.name
    assert stored.read_bytes() == content
    listed = as_role(people, "owner").get(detail(items["draft"])).json()["attachments"]
    assert [a["id"] for a in listed] == [attachment.pk]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.txt", b"x" * (1_572_864), "The file is 1,572,864 bytes; the limit is 1,048,576 bytes (1 MB)."),
        ("invoice.pdf", EXECUTABLE, "not accepted"),
        ("empty.txt", b"", "empty"),
        ("report.pdf", b"just some text pretending to be a PDF", "its content is text/plain"),
    ],
)
def test_refused_uploads_store_nothing(people, items, settings, name, content, message):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1_048_576
    before = stored_files()
    response = upload(as_role(people, "owner"), items["draft"], name, content)
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not Attachment.objects.exists()
    assert stored_files() == before


def test_a_file_large_enough_to_be_spooled_to_disk_is_checked_and_stored(people, items):
    content = b"call transcript line\n" * 150_000  # ~3 MB: above FILE_UPLOAD_MAX_MEMORY_SIZE, below the limit
    assert len(content) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    response = upload(as_role(people, "owner"), items["draft"], "transcript.txt", content)
    assert response.status_code == 201, response.content
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
    assert Path(Attachment.objects.get().file.path).stat().st_size == len(content)


def test_a_path_traversal_name_is_stored_sanitised_inside_media_root(people, items):
    before = stored_files()
    response = raw_upload(as_role(people, "owner"), items["draft"], "../../etc/passwd.txt", b"root:x:0:0\n")
    assert response.status_code == 201, response.content
    assert response.json()["original_name"] == "passwd.txt"
    new_files = stored_files() - before
    assert len(new_files) == 1
    (stored,) = new_files
    assert stored.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert "passwd" not in str(stored)


def test_a_path_traversal_name_without_an_allowed_extension_is_refused(people, items):
    before = stored_files()
    response = raw_upload(as_role(people, "owner"), items["draft"], "../../etc/passwd", b"root:x:0:0\n")
    assert response.status_code == 400
    assert "ends in 'nothing'" in response.json()["file"][0]
    assert not Attachment.objects.exists()
    assert stored_files() == before


def test_upload_without_a_file_is_a_400(people, items):
    response = as_role(people, "owner").post(act(items["draft"], "attachments"), {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_uploads_follow_the_edit_rules(people, items):
    assert upload(as_role(people, "owner"), items["submitted"], "a.txt", b"hello").status_code == 409
    assert upload(as_role(people, "manager"), items["submitted"], "a.txt", b"hello").status_code == 403
    assert upload(as_role(people, "peer"), items["draft"], "a.txt", b"hello").status_code == 404
    assert not Attachment.objects.exists()


def test_owner_removes_a_file_from_a_draft(people, items, django_capture_on_commit_callbacks):
    created = upload(as_role(people, "owner"), items["draft"], "notes.txt", b"hello").json()
    stored = Path(Attachment.objects.get(pk=created["id"]).file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_role(people, "owner").delete(f"{act(items['draft'], 'attachments')}{created['id']}/")
    assert response.status_code == 204
    assert not Attachment.objects.filter(pk=created["id"]).exists()
    assert not stored.exists()


def test_removing_files_follows_the_rules(people, items):
    on_submitted = AttachmentFactory(evidence=items["submitted"])
    on_draft = AttachmentFactory(evidence=items["draft"])
    owner = as_role(people, "owner")
    assert owner.delete(f"{act(items['submitted'], 'attachments')}{on_submitted.pk}/").status_code == 409
    # An attachment id under another item's URL is not found there.
    assert owner.delete(f"{act(items['changes'], 'attachments')}{on_draft.pk}/").status_code == 404
    assert (
        as_role(people, "manager").delete(f"{act(items['submitted'], 'attachments')}{on_submitted.pk}/").status_code
        == 403
    )
    assert Attachment.objects.count() == 2


def _download(client, attachment, **headers):
    response = client.get(f"/api/attachments/{attachment.pk}/download/", headers=headers)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return response, content


def test_download_streams_the_file_as_an_attachment(people, items):
    created = upload(as_role(people, "owner"), items["draft"], "letter.pdf", PDF)
    attachment = Attachment.objects.get(pk=created.json()["id"])
    response, content = _download(as_role(people, "owner"), attachment, Accept="application/pdf")
    assert response.status_code == 200
    assert content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="letter.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("who", "key", "expected"),
    [
        ("manager", "submitted", 200),
        ("manager", "draft", 404),
        ("peer", "submitted", 404),
        ("reviewer", "draft", 404),
        ("stranger", "submitted", 404),
        ("hr", "draft", 200),
    ],
)
def test_download_is_404_for_whoever_may_not_see_the_item(people, items, who, key, expected):
    attachment = AttachmentFactory(evidence=items[key])
    response, _ = _download(as_role(people, who), attachment)
    assert response.status_code == expected


def test_anonymous_download_is_refused(items):
    attachment = AttachmentFactory(evidence=items["submitted"])
    response, _ = _download(api(), attachment)
    assert response.status_code == 401


# --- Schema and docs -----------------------------------------------------------------------------------------------


def test_schema_lists_the_evidence_endpoints(people):
    response = api().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/evidence/",
        "/api/evidence/{id}/",
        "/api/evidence/{id}/submit/",
        "/api/evidence/{id}/verify/",
        "/api/evidence/{id}/request-changes/",
        "/api/evidence/{id}/reject/",
        "/api/evidence/{id}/correct/",
        "/api/evidence/{id}/attachments/",
        "/api/evidence/{id}/attachments/{attachment_id}/",
        "/api/attachments/{id}/download/",
        "/api/review-queue/",
    ):
        assert path in paths, path


def test_docs_page_needs_a_login_and_loads_nothing_from_a_cdn(people):
    anonymous = APIClient().get("/api/docs/")
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]
    page = as_role(people, "owner").get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js") is not None
    # Every script and stylesheet comes from this server (a random CSRF token may contain "cdn", so look at URLs).
    import re

    external = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", html)
    assert external == []
    assert "jsdelivr" not in html and "//unpkg" not in html


def test_the_review_queue_walks_in_cursor_pages_oldest_first(people):
    _reports_items(people, 7)
    client = as_role(people, "manager")

    seen, url = [], f"{QUEUE}?cursor=&page_size=3"
    while url:
        body = client.get(url).json()
        assert "count" not in body and len(body["results"]) <= 3
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert seen == [row["id"] for row in client.get(QUEUE, {"page_size": 50}).json()["results"]]
    assert len(seen) == 7
