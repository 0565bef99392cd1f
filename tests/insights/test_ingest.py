"""Ingest by API: a survey or support tool sends batches; all or nothing, idempotent on the source id."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.common.roles import Role, ensure_role_groups
from apps.insights.constants import INGEST_BATCH_MAX
from apps.insights.models import Insight, InsightRoute
from apps.insights.services import IngestRefused, convert_score, insights_ingest
from tests.factories.insights import RoutingRuleFactory
from tests.factories.org import UserFactory

from .conftest import LAST_WEEK, row

URL = "/api/insights/ingest/"


def send(client: APIClient, *rows: dict[str, Any], source_system: str = "qualtrics") -> Any:
    return client.post(URL, {"source_system": source_system, "insights": list(rows)}, format="json")


def test_ingest_creates_the_insight_and_answers_with_its_units(org, source_client):
    response = send(source_client, row("R-1"), row("R-2", touchpoint="chat", units=["support"]))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["duplicates"]) == (2, 0)
    assert [(item["source_id"], item["created"], item["units"]) for item in body["insights"]] == [
        ("R-1", True, ["billing"]),
        ("R-2", True, ["support"]),
    ]
    insight = Insight.objects.get(pk=body["insights"][0]["id"])
    assert (insight.text, insight.score, insight.journey_stage, insight.said_on) == (
        "The invoice listed a room I never booked.", Decimal("3.0"), org["buy"], LAST_WEEK,
    )  # fmt: skip


def test_same_source_id_sent_twice_is_one_insight(org, source_client):
    first = send(source_client, row("R-1")).json()
    second = send(source_client, row("R-1", text="edited later"), row("R-2")).json()
    assert Insight.objects.filter(source_system="qualtrics", source_id="R-1").count() == 1
    assert (second["created"], second["duplicates"]) == (1, 1)
    assert second["insights"][0] == {"source_id": "R-1", "id": first["insights"][0]["id"], "created": False,
                                     "units": ["billing"]}  # fmt: skip
    assert Insight.objects.get(source_id="R-1").text == "The invoice listed a room I never booked."
    assert InsightRoute.objects.count() == 2


def test_same_source_id_from_another_source_system_is_another_insight(org, source_client):
    send(source_client, row("R-1"))
    send(source_client, row("R-1"), source_system="zendesk")
    assert Insight.objects.filter(source_id="R-1").count() == 2


def test_batch_with_wrong_rows_writes_nothing_and_names_each_row_and_field(org, source_client):
    response = send(
        source_client,
        row("R-1"),
        row("R-2", touchpoint="nowhere", score=11),
        row("R-3", said_on="2999-01-01", channel="pigeon", units=["billing", "ghost"]),
        row("R-4", text="", score=None),
        row("R-5", said_on="yesterday", text="x" * 5001),
        row("R-1"),
        row("R-6", journey_stage="use"),
    )
    assert response.status_code == 400
    errors = response.json()["insights"]
    assert set(errors) == {"1", "2", "3", "4", "5", "6"}
    assert errors["1"]["touchpoint"] == ["No touchpoint has the code 'nowhere'."]
    assert "from 0 to 10" in errors["1"]["score"][0]
    assert "in the future" in errors["2"]["said_on"][0]
    assert "not a channel" in errors["2"]["channel"][0]
    assert errors["2"]["units"] == ["No org unit has the code(s): ghost."]
    assert errors["3"]["text"] == ["Send the customer's words (text), a score, or both."]
    assert "not a date" in errors["4"]["said_on"][0] and "5,000" in errors["4"]["text"][0]
    assert errors["5"]["source_id"] == ["'R-1' is also row 0 of this batch."]
    assert "belongs to stage 'buy'" in errors["6"]["journey_stage"][0]
    assert not Insight.objects.exists() and not InsightRoute.objects.exists()


def test_unknown_field_is_refused_rather_than_ignored(org, source_client):
    response = send(source_client, row("R-1", touch_point="invoice"))
    assert response.status_code == 400
    assert "touch_point" in response.json()["insights"]["0"]["non_field_errors"][0]


def test_more_than_a_thousand_rows_are_refused_with_a_clear_message(org, source_client):
    response = send(source_client, *[row(f"R-{n}") for n in range(INGEST_BATCH_MAX + 1)])
    assert response.status_code == 400
    assert response.json() == {"insights": ["At most 1,000 insights per call; split the batch."]}
    assert not Insight.objects.exists()


def test_empty_batch_and_missing_source_system_are_refused(org, source_client):
    response = source_client.post(URL, {"insights": []}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"source_system", "insights"}


@pytest.mark.parametrize(
    ("score", "score_max", "stored"),
    [(4, 5, "8.0"), (73, 100, "7.3"), ("9", None, "9.0"), (2, 3, "6.7"), (0, 5, "0.0")],
)
def test_score_is_converted_to_zero_to_ten(org, source_client, score, score_max, stored):
    fields = {"score": score} | ({"score_max": score_max} if score_max is not None else {})
    send(source_client, row("R-1", **fields))
    assert Insight.objects.get().score == Decimal(stored)


def test_convert_score_rounds_half_up_to_one_decimal():
    assert convert_score(Decimal("1"), Decimal("8")) == Decimal("1.3")  # 1.25


def test_score_outside_its_scale_and_bad_scale_are_refused(org, source_client):
    errors = send(source_client, row("R-1", score=6, score_max=5), row("R-2", score_max=0)).json()["insights"]
    assert "from 0 to 5" in errors["0"]["score"][0]
    assert "above 0" in errors["1"]["score_max"][0]


def test_score_without_words_is_score_only_outcome_data(org, source_client):
    send(source_client, row("R-1", text="", score=9), row("R-2", score=None))
    assert {i.source_id: i.is_score_only for i in Insight.objects.all()} == {"R-1": True, "R-2": False}


def test_text_soliciting_a_score_is_flagged_like_evidence(org, source_client):
    send(source_client, row("R-1", text="The agent said: is there any reason you can't give me a 10?"), row("R-2"))
    flagged = Insight.objects.get(source_id="R-1")
    assert [flag["code"] for flag in flagged.gaming_flags] == ["score_solicitation"]
    assert flagged.gaming_flags[0]["matched"] and flagged.gaming_flags[0]["where"] == "text"
    assert Insight.objects.get(source_id="R-2").gaming_flags == []


def test_employee_without_the_permission_gets_403_and_anonymous_401(org):
    client = APIClient()
    assert send(client, row()).status_code == 401
    client.force_authenticate(UserFactory(username="employee"))
    response = send(client, row())
    assert response.status_code == 403
    assert "insights.add_insight" in response.json()["detail"]
    assert not Insight.objects.exists()


def test_every_created_insight_and_route_is_audited_under_the_sender(org, source_client, source_user):
    send(source_client, row("R-1"), row("R-2"))
    events = AuditEvent.objects.filter(object_type__in=["insights.insight", "insights.insightroute"])
    assert events.count() == 4
    assert set(events.values_list("actor_user_id", flat=True)) == {source_user.pk}


def test_service_without_a_request_names_the_caller_in_the_audit_trail(org, source_user):
    insights_ingest(source_system="csv", rows=[row("R-1")], by=source_user)
    assert AuditEvent.objects.get(object_type="insights.insight").actor_user_id == source_user.pk


def test_service_refusal_lists_errors_by_row_index(org, source_user):
    with pytest.raises(IngestRefused) as refused:
        insights_ingest(source_system="csv", rows=[row("R-1"), row("R-2", said_on="")], by=source_user)
    assert refused.value.errors == {1: {"said_on": ["Give the date the customer said it (YYYY-MM-DD)."]}}


def statements(queries: CaptureQueriesContext) -> tuple[int, set[str]]:
    """Statements other than inserts, and the tables inserted into. SQLite splits one bulk insert into several
    statements (at most 999 parameters each); PostgreSQL sends one, so there every count is the same."""
    sql = [query["sql"] for query in queries.captured_queries]
    inserts = {text.split('"')[1] for text in sql if text.startswith("INSERT INTO")}
    if connection.vendor == "postgresql":
        return len(sql), inserts
    return sum(1 for text in sql if not text.startswith("INSERT INTO")), inserts


def test_query_count_per_batch_is_the_same_for_10_and_500_rows(org, source_client):
    RoutingRuleFactory(unit=org["support"], touchpoint=org["invoice"])
    send(source_client, row("warm-up"))  # the process's first batch also reads the cached phrase list and keys
    counts = []
    for start, size in ((0, 10), (10, 500)):
        rows = [row(f"R-{n}", units=["onboarding"]) for n in range(start, start + size)]
        with CaptureQueriesContext(connection) as queries:
            assert send(source_client, *rows).status_code == 200
        counts.append(statements(queries))
    assert counts[0] == counts[1]
    assert counts[0][1] == {"insights_insight", "insights_insightroute", "audit_event"}
    assert InsightRoute.objects.count() == 1 + 510 * 2


def hr_and_leadership_clients() -> list[APIClient]:
    groups = ensure_role_groups()
    clients = []
    for role in (Role.HR, Role.LEADERSHIP):
        user = UserFactory(username=f"reader-{role.value}")
        user.groups.add(groups[role])
        client = APIClient()
        client.force_authenticate(user)
        clients.append(client)
    return clients


def test_hr_and_leadership_list_every_insight_with_its_routes(org, source_client, django_assert_max_num_queries):
    send(source_client, *[row(f"R-{n}") for n in range(30)], row("R-chat", touchpoint="chat", units=["support"]))
    for client in hr_and_leadership_clients():
        with django_assert_max_num_queries(8):
            response = client.get("/api/insights/", {"unit": "support"})
        assert response.status_code == 200
        assert [item["source_id"] for item in response.json()["results"]] == ["R-chat"]
        assert response.json()["results"][0]["routes"][0]["unit"] == "support"


def test_list_filters_by_channel_dates_score_only_and_flag(org, source_client):
    send(
        source_client,
        row("R-1", channel="support"),
        row("R-2", text="", score=8),
        row("R-3", text="She asked me to give a 10 please."),
    )
    hr = hr_and_leadership_clients()[0]

    def ids(**params: Any) -> list[str]:
        response = hr.get("/api/insights/", params)
        assert response.status_code == 200, response.json()
        return sorted(item["source_id"] for item in response.json()["results"])

    assert ids(channel="support") == ["R-1"]
    assert ids(score_only="true") == ["R-2"]
    assert ids(flagged="true") == ["R-3"]
    assert ids(flagged="false") == ["R-1", "R-2"]
    assert ids(said_on_from=str(LAST_WEEK), touchpoint="invoice") == ["R-1", "R-2", "R-3"]
    assert hr.get("/api/insights/", {"touchpoint": "nowhere"}).status_code == 400
    assert hr.get("/api/insights/", {"cursor": ""}).status_code == 200


def test_other_employees_cannot_list_or_read_insights(org, source_client):
    insight_id = send(source_client, row()).json()["insights"][0]["id"]
    client = APIClient()
    client.force_authenticate(UserFactory(username="employee"))
    assert client.get("/api/insights/").status_code == 403
    assert client.get(f"/api/insights/{insight_id}/").status_code == 403


def test_hr_reads_one_insight_with_its_routes(org, source_client):
    insight_id = send(source_client, row()).json()["insights"][0]["id"]
    response = hr_and_leadership_clients()[0].get(f"/api/insights/{insight_id}/")
    assert response.status_code == 200
    assert [(r["unit"], r["reason"], r["status"]) for r in response.json()["routes"]] == [
        ("billing", "touchpoint_owner", "new")
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_batches_with_the_same_source_id_store_one_insight(org, source_user):
    import threading

    from django.db import connections

    barrier = threading.Barrier(2)
    answers: list[int] = []
    failures: list[BaseException] = []

    def send_one(text: str) -> None:
        try:
            barrier.wait(timeout=10)
            result = insights_ingest(source_system="qualtrics", rows=[row("R-1", text=text)], by=source_user)
            answers.append(result.insights[0].id)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send_one, args=(text,)) for text in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert Insight.objects.filter(source_id="R-1").count() == 1
    assert answers == [Insight.objects.get().pk] * 2
    assert InsightRoute.objects.count() == 1
