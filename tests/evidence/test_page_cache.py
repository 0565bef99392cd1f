"""Kept list pages are never stale: every write path that could change a page makes it unreachable.

A page is kept under the audit chain's head (apps/evidence/api/page_cache.py); each test here keeps a page, makes
one kind of change the way the product makes it (API, reviewer action, HR service, admin form, a save as an import
or command makes it, a bulk audited update, a group membership), and checks the next answer shows the change.
"""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Attachment, Evidence
from apps.evidence.services import evidence_revoke
from apps.policies.models import EvidenceCategory
from tests.evidence.helpers import token_client
from tests.factories.evidence import AttachmentFactory, EvidenceFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, TouchpointFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/evidence/"
QUEUE = "/api/review-queue/"


def rows(client, url=LIST, params=None, **headers) -> dict[int, dict]:
    response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["results"]}


def served_from_memory(client, url=LIST) -> bool:
    """Was the page answered without reading evidence (token and data version only)?"""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return not any('"evidence_evidence"' in query["sql"] for query in captured.captured_queries)


@pytest.fixture
def kept(people):
    """The owner's and the manager's pages, kept in memory."""
    draft = EvidenceFactory(owner=people["owner"], title="Draft")
    submitted = EvidenceFactory(
        owner=people["owner"], status=EvidenceStatus.SUBMITTED, submitted_at=timezone.now(), title="Submitted"
    )
    owner, manager = token_client(people["owner"].user), token_client(people["manager"].user)
    for client in (owner, manager):
        rows(client)
        assert served_from_memory(client)
    return {"draft": draft, "submitted": submitted, "owner": owner, "manager": manager}


def test_the_same_page_is_answered_from_memory_with_the_same_body(people, kept):
    first = kept["owner"].get(LIST).content
    assert served_from_memory(kept["owner"])
    assert kept["owner"].get(LIST).content == first


def test_a_kept_page_is_never_given_to_someone_else(people, kept):
    assert set(rows(kept["owner"])) == {kept["draft"].pk, kept["submitted"].pk}
    assert set(rows(kept["manager"])) == {kept["submitted"].pk}
    assert rows(token_client(people["peer"].user)) == {}
    assert rows(token_client(people["stranger"])) == {}
    assert set(rows(token_client(people["hr"]))) == {kept["draft"].pk, kept["submitted"].pk}


def test_pages_differ_by_query_string_and_host(people, kept):
    assert set(rows(kept["owner"], params={"status": "draft"})) == {kept["draft"].pk}
    assert set(rows(kept["owner"], params={"status": "submitted"})) == {kept["submitted"].pk}
    item = AttachmentFactory(evidence=kept["draft"])
    urls = {
        host: rows(kept["owner"], HTTP_HOST=host)[kept["draft"].pk]["attachments"][0]["download_url"]
        for host in ("testserver", "localhost")
    }
    assert urls == {host: f"http://{host}/api/attachments/{item.pk}/download/" for host in urls}


def test_errors_are_not_kept(people, kept):
    for _ in range(2):
        assert kept["owner"].get(LIST, {"status": "nonsense"}).status_code == 400
        assert kept["owner"].get(LIST, {"page": 99}).status_code == 404


def test_the_owners_api_writes_show_at_once(people, kept):
    owner = kept["owner"]
    body = {
        "category": "customer_story",
        "title": "New draft",
        "customer_quote": "Nobody called me back.",
        "source_type": "support_ticket",
        "interpretation": "It mattered.",
        "response": "We fixed it.",
        "customer_type": "external",
        "impact_date": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
    }
    new = owner.post(LIST, body, format="json").json()["id"]
    assert rows(owner)[new]["title"] == "New draft"
    owner.patch(f"{LIST}{new}/", {"title": "Renamed"}, format="json")
    assert rows(owner)[new]["title"] == "Renamed"
    assert owner.post(f"{LIST}{new}/submit/").status_code == 200
    assert rows(owner)[new]["status"] == EvidenceStatus.SUBMITTED
    assert new in rows(kept["manager"])
    owner.delete(f"{LIST}{kept['draft'].pk}/")
    assert kept["draft"].pk not in rows(owner)


def test_files_added_and_removed_show_at_once(people, kept, tmp_path):
    owner, draft = kept["owner"], kept["draft"]
    upload = tmp_path / "notes.txt"
    upload.write_bytes(b"Customer call notes\n")
    with upload.open("rb") as handle:
        added = owner.post(f"{LIST}{draft.pk}/attachments/", {"file": handle}, format="multipart").json()["id"]
    assert [f["id"] for f in rows(owner)[draft.pk]["attachments"]] == [added]
    owner.delete(f"{LIST}{draft.pk}/attachments/{added}/")
    assert rows(owner)[draft.pk]["attachments"] == []
    assert not Attachment.objects.exists()


def test_a_reviewers_decision_shows_on_every_page(people, kept):
    item = kept["submitted"]
    assert rows(kept["manager"])[item.pk]["can"]["review"] is True
    response = kept["manager"].post(f"{LIST}{item.pk}/verify/", {"comment": "Good."}, format="json")
    assert response.status_code == 200
    assert rows(kept["owner"])[item.pk]["status"] == EvidenceStatus.VERIFIED
    assert rows(kept["owner"])[item.pk]["reviewer"] == "manager"
    assert rows(kept["manager"])[item.pk]["can"]["review"] is False
    assert rows(kept["manager"], QUEUE) == {}


def test_hr_revoking_a_verification_shows_at_once(people, kept):
    item = kept["submitted"]
    item.status = EvidenceStatus.VERIFIED
    item.save()
    assert rows(kept["owner"])[item.pk]["can"]["correct"] is True
    evidence_revoke(evidence=item, by=people["hr"], comment="Found to be gamed later.")
    assert rows(kept["owner"])[item.pk]["status"] == EvidenceStatus.REJECTED


def test_an_admin_edit_of_a_unit_shows_at_once(people, kept, client):
    unit = OrgUnitFactory(code="housekeeping", name="Housekeeping")
    Evidence.objects.filter(pk=kept["draft"].pk).audited_update(customer_type="internal", internal_customer_unit=unit)
    assert rows(kept["owner"])[kept["draft"].pk]["internal_customer_unit"] == "housekeeping"
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.post(
        f"/admin/org/orgunit/{unit.pk}/change/",
        {"name": "Housekeeping", "code": "rooms", "customer_layer": 0, "description": "", "active": "on"},
    )
    assert response.status_code == 302, response.content
    assert rows(kept["owner"])[kept["draft"].pk]["internal_customer_unit"] == "rooms"


def test_names_codes_and_logins_shown_on_a_page_show_their_changes(people, kept):
    item = kept["submitted"]
    item.touchpoint = TouchpointFactory(code="checkout")
    item.reviewer = people["director"].user
    item.save()
    assert rows(kept["owner"])[item.pk]["touchpoint"] == "checkout"

    people["owner"].full_name = "Renamed Owner"
    people["owner"].save()
    assert rows(kept["manager"])[item.pk]["owner"]["name"] == "Renamed Owner"

    category = EvidenceCategory.objects.get(pk=item.category_id)
    category.code = "customer_story_v2"
    category.save()
    assert rows(kept["owner"])[item.pk]["category"] == "customer_story_v2"

    item.touchpoint.code = "pay"
    item.touchpoint.save()
    assert rows(kept["owner"])[item.pk]["touchpoint"] == "pay"

    people["director"].user.username = "director-2"
    people["director"].user.save()
    assert rows(kept["owner"])[item.pk]["reviewer"] == "director-2"


def test_a_new_role_or_a_new_manager_changes_what_one_sees_at_once(people, kept):
    peer_item = EvidenceFactory(owner=people["peer"], status=EvidenceStatus.SUBMITTED, submitted_at=timezone.now())
    outsider = EmployeeFactory(user=UserFactory(username="outsider"))
    outsider_page = token_client(outsider.user)
    assert set(rows(outsider_page)) == set()
    assert served_from_memory(outsider_page)
    outsider.user.groups.add(ensure_role_groups()[Role.CX_REVIEWER])
    assert set(rows(outsider_page)) == {kept["submitted"].pk, peer_item.pk}
    ensure_role_groups()[Role.CX_REVIEWER].user_set.remove(outsider.user)
    assert set(rows(outsider_page)) == set()

    assert peer_item.pk in rows(kept["manager"])
    people["peer"].manager = people["director"]
    people["peer"].save()
    assert peer_item.pk not in rows(kept["manager"])


def test_a_bulk_audited_update_shows_at_once(people, kept):
    Evidence.objects.filter(owner=people["owner"]).audited_update(title="Bulk title")
    assert {row["title"] for row in rows(kept["owner"]).values()} == {"Bulk title"}


def test_a_migration_applied_drops_every_kept_page(people, kept):
    # A data migration's writes are not audited (historical models): the migration record moves the version.
    Evidence.objects.filter(pk=kept["draft"].pk).audited_update(title="Before the migration")
    assert rows(kept["owner"])[kept["draft"].pk]["title"] == "Before the migration"
    assert served_from_memory(kept["owner"])
    MigrationRecorder(connection).record_applied("evidence", "9999_a_data_migration")
    assert not served_from_memory(kept["owner"])


def test_a_kept_page_expires(people, kept, monkeypatch):
    from apps.evidence.api import page_cache

    assert served_from_memory(kept["owner"])
    monkeypatch.setattr(page_cache.pages, "max_age", -1.0)
    assert not served_from_memory(kept["owner"])


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_every_commit_moves_the_version(people):
    """The usual case in production: each request in autocommit, the version read with one plain statement."""
    from apps.evidence.api import page_cache

    item = EvidenceFactory(owner=people["owner"], title="Committed")
    owner = token_client(people["owner"].user)
    assert rows(owner)[item.pk]["title"] == "Committed"
    assert served_from_memory(owner)
    before = page_cache.data_version()
    with transaction.atomic():  # the same head, read the other way
        assert page_cache.data_version() == before
    assert owner.patch(f"{LIST}{item.pk}/", {"title": "Committed again"}, format="json").status_code == 200
    assert page_cache.data_version() != before
    assert rows(owner)[item.pk]["title"] == "Committed again"


def test_a_kept_page_is_answered_as_asked_pretty_json_and_the_browsable_api_too(people, kept):
    owner = kept["owner"]
    plain = owner.get(LIST)
    assert plain["Content-Type"] == "application/json"
    pretty = owner.get(LIST, HTTP_ACCEPT="application/json; indent=4")
    assert pretty.content.startswith(b'{\n    "count": 2')
    assert pretty.json() == plain.json()
    page = owner.get(LIST, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert b"Submitted" in page.content
