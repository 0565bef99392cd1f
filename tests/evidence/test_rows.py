"""The API's rows are exactly what EvidenceSerializer would render, for every role and every kind of item.

`apps.evidence.api.rows` builds the evidence JSON from values() rows instead of model instances; the serializer
stays the contract and is the oracle here: both are rendered to bytes and compared, so a field that is missing,
renamed, reordered or formatted differently (a date, a decimal, a time zone, a flag) fails.
"""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from apps.evidence.api.abilities import Abilities
from apps.evidence.api.rows import evidence_rows, evidence_rows_queryset
from apps.evidence.api.serializers import EvidenceSerializer
from apps.evidence.constants import CustomerType, EvidenceStatus
from apps.evidence.models import Evidence
from apps.evidence.permissions import evidence_visible_to
from tests.factories.evidence import AttachmentFactory, EvidenceFactory, OperationalMetricEvidenceFactory, category
from tests.factories.org import EmployeeFactory, OrgUnitFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

ROLES = ["owner", "peer", "manager", "director", "reviewer", "hr", "stranger"]
FLAG = {"code": "score_solicitation", "reason": 'Asks the customer for a score ("give us a 10").'}


def user_of(people, who):
    person = people[who]
    return person if who in {"hr", "stranger"} else person.user


@pytest.fixture
def every_kind(people):
    """Items in every status, with files, flags, metrics, an internal customer, a touchpoint and a correction."""
    owner, peer = people["owner"], people["peer"]
    now = timezone.now()
    reviewer = people["manager"].user
    submitted = EvidenceFactory(
        owner=owner, status=EvidenceStatus.SUBMITTED, submitted_at=now - dt.timedelta(days=2), gaming_flags=[FLAG]
    )
    AttachmentFactory(evidence=submitted, original_name="call.txt")
    AttachmentFactory(evidence=submitted, original_name="second.txt")
    verified = OperationalMetricEvidenceFactory(
        owner=owner,
        status=EvidenceStatus.VERIFIED,
        submitted_at=now - dt.timedelta(days=9),
        reviewer=reviewer,
        reviewed_at=now - dt.timedelta(days=8, microseconds=123),
        review_comment="Solid before and after.",
        baseline=Decimal("61.5"),
        result=Decimal("74.1250"),
    )
    replaced = EvidenceFactory(
        owner=owner, status=EvidenceStatus.VERIFIED, submitted_at=now, reviewer=reviewer, reviewed_at=now
    )
    correction = EvidenceFactory(owner=owner, previous=replaced, version=2, title="A correction")
    AttachmentFactory(evidence=correction)
    return [
        submitted,
        verified,
        replaced,
        correction,
        EvidenceFactory(owner=owner),
        EvidenceFactory(
            owner=owner,
            status=EvidenceStatus.CHANGES_REQUESTED,
            submitted_at=now,
            reviewer=reviewer,
            reviewed_at=now,
            review_comment="Say what changed.",
        ),
        EvidenceFactory(
            owner=owner,
            status=EvidenceStatus.REJECTED,
            submitted_at=now,
            reviewer=None,
            reviewed_at=now,
            gaming_flags=[FLAG, {"code": "outcome_only", "reason": "Rests on an outcome score alone."}],
        ),
        EvidenceFactory(
            owner=peer,
            status=EvidenceStatus.SUBMITTED,
            submitted_at=now,
            customer_type=CustomerType.INTERNAL,
            internal_customer_unit=OrgUnitFactory(code="finance"),
            touchpoint=TouchpointFactory(code="checkout"),
            category=category("customer_story"),
        ),
        EvidenceFactory(owner=EmployeeFactory(), status=EvidenceStatus.SUBMITTED, submitted_at=now),
        EvidenceFactory(owner=peer),
    ]


def rendered_both_ways(user, queryset=None):
    """The same items rendered by the serializer (the contract) and by the rows (what the API sends)."""
    request = Request(APIRequestFactory().get("/api/evidence/", HTTP_HOST="localhost"))
    visible = evidence_visible_to(user, queryset if queryset is not None else Evidence.objects.all())
    instances = list(visible.select_related("owner", "category", "reviewer").prefetch_related("attachments"))
    serialized = EvidenceSerializer(
        instances, many=True, context={"request": request, "abilities": Abilities(user)}
    ).data
    rows = evidence_rows(evidence_rows_queryset(visible), abilities=Abilities(user), request=request)
    return JSONRenderer().render(serialized), JSONRenderer().render(rows), len(instances)


@pytest.mark.parametrize("who", ROLES)
def test_rows_render_exactly_as_the_serializer_for_every_role(people, every_kind, who):
    serialized, rows, count = rendered_both_ways(user_of(people, who))
    assert rows == serialized
    assert count or who == "stranger"


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Los_Angeles", "Asia/Kolkata"])
def test_rows_render_times_in_the_current_time_zone_like_the_serializer(people, every_kind, settings, zone):
    settings.TIME_ZONE = zone
    timezone.activate(zone)
    try:
        serialized, rows, _ = rendered_both_ways(people["hr"])
    finally:
        timezone.deactivate()
    assert rows == serialized
    assert b'Z"' not in rows  # nothing was left in UTC


def test_rows_have_every_field_of_the_serializer_in_its_order(people, every_kind):
    request = Request(APIRequestFactory().get("/api/evidence/"))
    rows = evidence_rows(
        evidence_rows_queryset(Evidence.objects.all()), abilities=Abilities(people["hr"]), request=request
    )
    assert list(rows[0]) == list(EvidenceSerializer().fields)


def test_the_list_and_an_item_answer_with_what_the_serializer_renders(people, every_kind):
    client = APIClient()
    client.force_login(people["manager"].user)
    body = client.get("/api/evidence/", HTTP_HOST="testserver").json()["results"]
    visible = evidence_visible_to(people["manager"].user, Evidence.objects.all())
    request = Request(APIRequestFactory().get("/api/evidence/"))
    expected = EvidenceSerializer(
        list(visible), many=True, context={"request": request, "abilities": Abilities(people["manager"].user)}
    ).data
    assert body == json.loads(JSONRenderer().render(expected))
    item = every_kind[0]
    assert client.get(f"/api/evidence/{item.pk}/").json() == next(row for row in body if row["id"] == item.pk)
