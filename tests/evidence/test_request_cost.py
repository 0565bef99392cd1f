"""What the load test's requests cost in queries, and that the answers are what reading the item gives.

bench/load.py drives the list, create and submit with API tokens. These tests hold the query counts (a fixed
number whatever the page holds), that the employee record loaded with the token is the caller's own, and that the
model's check constraint is left to `Evidence.clean()`, which refuses the same items.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.audit.models import AuditEvent
from apps.evidence.constants import CustomerType, EvidenceStatus
from apps.evidence.gaming_store import active_phrases
from apps.evidence.models import Evidence
from apps.evidence.services import evidence_create
from apps.policies.models import EvidenceCategory
from tests.evidence.helpers import new_draft_body, token_client
from tests.factories.evidence import AttachmentFactory, EvidenceFactory, category
from tests.factories.org import OrgUnitFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

LIST = "/api/evidence/"


def settle() -> None:
    """Write the audit events the test's transaction may still hold back, as its commit would."""
    AuditEvent.objects.exists()


def test_a_list_page_costs_six_queries_with_a_token_whatever_it_holds(people, django_assert_num_queries):
    client = token_client(people["owner"].user)
    for item in EvidenceFactory.create_batch(3, owner=people["owner"]):
        AttachmentFactory(evidence=item)
    settle()
    # token with its user and employee, the user's groups, whether they manage anyone, count, page, files
    with django_assert_num_queries(6):
        assert len(client.get(LIST).json()["results"]) == 3
    for item in EvidenceFactory.create_batch(47, owner=people["owner"], status=EvidenceStatus.SUBMITTED):
        AttachmentFactory(evidence=item)
    settle()
    with django_assert_num_queries(6):
        assert len(client.get(LIST).json()["results"]) == 50


def test_creating_a_draft_costs_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    client = token_client(people["owner"].user)
    # token with user and employee, groups; category; insert, the owner's and the actor's audit keys (their
    # personal values are stored encrypted), its audit event; the answer is the saved draft with its files (none
    # yet, one query); here the view's transaction is a savepoint of the test's (two statements)
    with django_assert_max_num_queries(10):
        response = client.post(LIST, new_draft_body(), format="json")
    assert response.status_code == 201
    assert response.json()["owner"]["id"] == people["owner"].pk


@pytest.mark.parametrize("files", [0, 1, 3])
def test_submitting_costs_a_fixed_number_of_queries(people, django_assert_max_num_queries, files):
    client = token_client(people["owner"].user)
    item = EvidenceFactory(owner=people["owner"])
    for _ in range(files):
        AttachmentFactory(evidence=item)
    active_phrases()  # the score-solicitation phrases, read once a process (and again at most every 30 s)
    # token, groups, whether the caller manages anyone, the item (get_object), the lock with the relations the
    # answer shows, its files (scanned for flags, then shown), update, the audit trail's two events, the event
    # queued for the reminders' worker, the audit keys (the owner's and the actor's for the update, the owner's
    # again for the domain event); here the view's transaction is a savepoint of the test's (two statements)
    with django_assert_max_num_queries(15):
        response = client.post(f"/api/evidence/{item.pk}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == EvidenceStatus.SUBMITTED
    assert len(response.json()["attachments"]) == files


def test_the_employee_loaded_with_the_token_is_the_callers_own(people):
    """Two people with tokens in turn: each sees exactly their own drafts, never the other's."""
    mine = EvidenceFactory(owner=people["owner"])
    theirs = EvidenceFactory(owner=people["peer"])
    assert [row["id"] for row in token_client(people["owner"].user).get(LIST).json()["results"]] == [mine.pk]
    assert [row["id"] for row in token_client(people["peer"].user).get(LIST).json()["results"]] == [theirs.pk]
    assert token_client(people["peer"].user).get(f"/api/evidence/{mine.pk}/").status_code == 404


def test_a_token_of_a_login_without_an_employee_record_sees_nothing_and_cannot_create(people):
    EvidenceFactory(owner=people["owner"])
    client = token_client(people["stranger"])
    assert client.get(LIST).json()["results"] == []
    assert client.post(LIST, new_draft_body(), format="json").status_code == 403


def test_filters_still_apply_and_still_refuse_unknown_values(people):
    draft = EvidenceFactory(owner=people["owner"])
    submitted = EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED)
    client = token_client(people["owner"].user)
    assert {row["id"] for row in client.get(LIST, {"page": 1}).json()["results"]} == {draft.pk, submitted.pk}
    assert [row["id"] for row in client.get(LIST, {"status": "submitted"}).json()["results"]] == [submitted.pk]
    assert client.get(LIST, {"status": "nonsense"}).status_code == 400
    assert client.get(LIST, {"page_size": 1, "mine": "maybe"}).status_code == 400


@pytest.mark.parametrize("customer_type", [CustomerType.EXTERNAL, CustomerType.INTERNAL])
@pytest.mark.parametrize("with_unit", [False, True])
def test_validation_refuses_exactly_what_the_check_constraint_refuses(people, customer_type, with_unit):
    """`Evidence.clean()` stands in for the database check constraint (internal customers, and only they, name
    the receiving unit): every combination is refused or saved as the constraint would decide."""
    data = {
        "category": category(),
        "title": "A story",
        "customer_quote": "",
        "interpretation": "It mattered.",
        "response": "We fixed it.",
        "customer_type": customer_type,
        "internal_customer_unit": OrgUnitFactory() if with_unit else None,
        "impact_date": timezone.localdate() - dt.timedelta(days=1),
    }
    allowed = (customer_type == CustomerType.INTERNAL) == with_unit
    if allowed:
        evidence_create(by=people["owner"].user, data=data)
        assert Evidence.objects.filter(owner=people["owner"]).count() == 1
    else:
        with pytest.raises(ValidationError) as error:
            evidence_create(by=people["owner"].user, data=data)
        assert "internal_customer_unit" in error.value.message_dict
        assert not Evidence.objects.filter(owner=people["owner"]).exists()


@pytest.mark.parametrize("value", [7, ["customer_story"], {"code": "customer_story"}, "", "no_such_code", "UPPER"])
def test_a_category_that_is_not_an_active_code_is_a_field_error(people, value):
    client = token_client(people["owner"].user)
    response = client.post(LIST, new_draft_body(category=value), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["category"]


def test_an_inactive_category_cannot_be_chosen(people):
    retired = category("customer_story")
    retired.active = False
    retired.save()
    client = token_client(people["owner"].user)
    response = client.post(LIST, new_draft_body(), format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["category"][0]


def test_a_category_object_that_was_never_saved_is_still_checked_by_model_validation(people):
    ghost = EvidenceCategory(pk=999_999, code="ghost", name="Ghost")
    data = {**new_draft_body(category=None), "category": ghost, "impact_date": timezone.localdate()}
    with pytest.raises(ValidationError) as refused:
        evidence_create(by=people["owner"].user, data=data)
    assert "category" in refused.value.message_dict
    assert not Evidence.objects.filter(title=data["title"]).exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    title=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(str.strip),
    internal=st.booleans(),
    with_touchpoint=st.booleans(),
    metric=st.one_of(
        st.none(),
        st.tuples(
            st.decimals(min_value=-(10**9), max_value=10**9, places=4),
            st.decimals(min_value=0, max_value=10**6, places=2),
        ),
    ),
)
def test_the_answer_to_a_create_is_what_reading_the_item_gives(people, title, internal, with_touchpoint, metric):
    unit, touchpoint = OrgUnitFactory(), TouchpointFactory()
    body = new_draft_body(title=title)
    if internal:
        body.update(customer_type="internal", internal_customer_unit=unit.code)
    if with_touchpoint:
        body["touchpoint"] = touchpoint.code
    if metric is not None:
        body.update(
            metric_name="Hold time", metric_kind="operational", baseline=str(metric[0]), result=str(metric[1]),
            metric_unit="min", direction="decrease", metric_period="Q1 vs Q2",
        )  # fmt: skip
    client = token_client(people["owner"].user)
    created = client.post(LIST, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json() == client.get(f"{LIST}{created.json()['id']}/").json()


@pytest.mark.parametrize("resubmitted", [False, True])
@pytest.mark.parametrize("with_files", [0, 2])
def test_the_answer_to_a_submission_is_what_reading_the_item_gives(people, resubmitted, with_files):
    unit, touchpoint = OrgUnitFactory(), TouchpointFactory()
    item = EvidenceFactory(
        owner=people["owner"], customer_type="internal", internal_customer_unit=unit, touchpoint=touchpoint
    )
    for _ in range(with_files):
        AttachmentFactory(evidence=item)
    owner, reviewer = token_client(people["owner"].user), token_client(people["reviewer"].user)
    if resubmitted:  # sent back once: the answer shows the reviewer and the comment
        assert owner.post(f"{LIST}{item.pk}/submit/").status_code == 200
        comment = {"comment": "Add the ticket number, please."}
        assert reviewer.post(f"{LIST}{item.pk}/request-changes/", comment, format="json").status_code == 200

    submitted = owner.post(f"{LIST}{item.pk}/submit/")

    assert submitted.status_code == 200, submitted.json()
    assert submitted.json() == owner.get(f"{LIST}{item.pk}/").json()
    assert len(submitted.json()["attachments"]) == with_files
    assert (submitted.json()["reviewer"] is not None) is resubmitted
