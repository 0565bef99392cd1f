"""Who acted and under which request: HTTP requests, the API, Celery tasks, commands, logins."""

from __future__ import annotations

import uuid

import pytest
from celery import shared_task
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.audit.actor import command_from_argv, current_actor, current_request_id, set_process_actor
from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.personal import reveal
from apps.common.context import SYSTEM, acting_as, system_actor
from apps.evidence.constants import EvidenceAuditAction
from apps.org.models import OrgUnit
from tests.audit.helpers import events_of
from tests.factories.org import OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

REQUEST_ID = "req-audit-test-0001"


@shared_task(name="tests.audit.rename_unit")
def rename_unit(unit_id: int, name: str) -> None:
    """A thin task that changes an audited model."""
    unit = OrgUnit.objects.get(pk=unit_id)
    unit.name = name
    unit.save()


@pytest.fixture
def hr_admin(client):
    user = UserFactory(username="hr", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_an_admin_edit_carries_the_user_the_ip_and_the_request_id(client, hr_admin):
    unit = OrgUnitFactory(name="Front desk", code="front-desk")
    url = reverse("admin:org_orgunit_change", args=[unit.pk])
    data = {"name": "Reception", "code": "front-desk", "customer_layer": 0, "description": "", "active": "on"}

    response = client.post(url, data, headers={"X-Request-ID": REQUEST_ID}, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 302, response.content[:2000]
    (update,) = events_of(unit, AuditAction.UPDATE)
    assert update.changes["name"] == ["Front desk", "Reception"]
    assert (update.actor_user_id, reveal(update.actor_name), update.actor_ip) == (hr_admin.pk, "hr", "203.0.113.9")
    assert update.request_id == REQUEST_ID


@pytest.mark.urls("tests.audit.urls")
def test_a_domain_event_from_an_api_call_carries_the_user_and_the_request_id(client):
    user = UserFactory(username="dana")
    client.force_login(user)

    response = client.post("/test-api/submit/", headers={"X-Request-ID": REQUEST_ID})

    assert response.status_code == 201
    event = AuditEvent.objects.get(pk=response.json()["id"])
    assert event.action == EvidenceAuditAction.EVIDENCE_SUBMITTED
    assert (event.actor_user_id, reveal(event.actor_name), event.request_id) == (user.pk, "dana", REQUEST_ID)
    assert event.context == {"via": "api"}


@pytest.mark.urls("tests.audit.urls")
def test_an_api_call_with_basic_auth_is_attributed_to_the_authenticated_user(client):
    # DRF authenticates inside the view, after the middleware ran: the actor is read when first needed.
    UserFactory(username="basic")
    import base64

    token = base64.b64encode(b"basic:correct-horse-battery").decode()
    response = client.post("/test-api/submit/", headers={"Authorization": f"Basic {token}"})

    assert response.status_code == 201
    assert reveal(AuditEvent.objects.get(pk=response.json()["id"]).actor_name) == "basic"


def test_a_change_made_in_a_celery_task_carries_the_task_as_system_actor():
    unit = OrgUnitFactory(name="Old")

    result = rename_unit.apply(args=[unit.pk, "New"])

    assert result.successful(), result.traceback
    (update,) = events_of(unit, AuditAction.UPDATE)
    assert update.actor_name == "system: tests.audit.rename_unit"
    assert update.actor_user_id is None
    assert update.request_id == result.id
    assert current_actor() is SYSTEM  # reset after the task


def test_a_task_run_inline_inside_acting_as_keeps_that_actor():
    unit = OrgUnitFactory(name="Old")

    with acting_as(system_actor("reminders.plan"), request_id="plan-run-123"):
        rename_unit.apply(args=[unit.pk, "New"])

    (update,) = events_of(unit, AuditAction.UPDATE)
    assert (update.actor_name, update.request_id) == ("system: reminders.plan", "plan-run-123")


def test_the_request_id_of_whoever_queued_a_task_travels_in_its_headers():
    from apps.audit.celery_hooks import REQUEST_ID_HEADER, _pass_request_id

    headers: dict[str, str] = {}
    with acting_as(SYSTEM, request_id="queued-by-request-1"):
        _pass_request_id(headers=headers)

    assert headers == {REQUEST_ID_HEADER: "queued-by-request-1"}


def test_changes_outside_any_request_or_task_are_attributed_to_system():
    unit = OrgUnitFactory()

    (created,) = events_of(unit)
    assert (created.actor_name, created.actor_user_id, created.request_id) == ("system", None, "")


def test_a_management_command_process_acts_as_system_with_the_command_name():
    assert command_from_argv(["manage.py", "import_org", "file.csv"]) == "import_org"
    assert command_from_argv(["/srv/app/manage.py", "shell"]) == "shell"
    assert command_from_argv(["pytest", "tests"]) is None
    assert command_from_argv(["manage.py", "--help"]) is None

    set_process_actor(system_actor("manage.py import_org"), request_id="cmd-1")
    try:
        unit = OrgUnitFactory()
        with acting_as(system_actor("seed_demo")):
            assert current_actor().name == "system: seed_demo"
    finally:
        set_process_actor(None)

    (created,) = events_of(unit)
    assert (created.actor_name, created.request_id) == ("system: manage.py import_org", "cmd-1")
    assert current_request_id() == ""


def test_login_logout_and_failed_login_are_recorded_with_the_ip(client):
    user = UserFactory(username="leader", is_staff=True)

    assert not client.login(username="leader", password="wrong")
    assert client.post(
        reverse("admin:login"), {"username": "leader", "password": "correct-horse-battery"}, REMOTE_ADDR="198.51.100.7"
    ).status_code in (200, 302)
    client.post(reverse("admin:logout"), REMOTE_ADDR="198.51.100.7")

    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert (failed.actor_name, failed.context) == ("anonymous", {"username": "leader"})
    assert "wrong" not in str(failed.context) and "password" not in str(failed.context)
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert (login.actor_user_id, login.actor_ip, login.object_id) == (user.pk, "198.51.100.7", str(user.pk))
    logout = AuditEvent.objects.get(action=AuditAction.LOGOUT)
    assert (reveal(logout.actor_name), logout.actor_ip) == ("leader", "198.51.100.7")


def test_a_failed_login_through_the_admin_form_keeps_the_ip(client):
    client.post(reverse("admin:login"), {"username": "ghost", "password": "nope"}, REMOTE_ADDR="192.0.2.44")

    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert (failed.actor_ip, failed.object_repr, failed.object_type) == ("192.0.2.44", "ghost", "auth.user")
    assert get_user_model().objects.count() == 0


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_task_run_by_a_real_worker_acts_as_the_task_under_the_request_id_that_queued_it():
    from celery.contrib.testing.worker import start_worker

    from ritualcriteria.celery import app

    unit = OrgUnitFactory(name="Old")
    # A queue of its own, so no other worker on the same broker (another test run) takes the message.
    queue = f"audit-tests-{uuid.uuid4().hex}"
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING", queues=[queue]
    ):
        with acting_as(SYSTEM, request_id="req-queued-from-web"):
            result = rename_unit.apply_async(args=[unit.pk, "New"], queue=queue)
        result.get(timeout=30)

    (update,) = events_of(unit, AuditAction.UPDATE)
    assert (update.actor_name, update.request_id) == ("system: tests.audit.rename_unit", "req-queued-from-web")


def test_submitting_evidence_through_the_real_api_records_who_and_which_request(client):
    from apps.evidence.models import Evidence
    from tests.factories.evidence import EvidenceFactory
    from tests.factories.org import EmployeeFactory

    user = UserFactory(username="owner")
    evidence = EvidenceFactory(owner=EmployeeFactory(user=user))
    client.force_login(user)

    response = client.post(f"/api/evidence/{evidence.pk}/submit/", headers={"X-Request-ID": REQUEST_ID})

    assert response.status_code == 200, response.content
    (submitted,) = events_of(evidence, EvidenceAuditAction.EVIDENCE_SUBMITTED)
    assert (submitted.actor_user_id, reveal(submitted.actor_name), submitted.request_id) == (
        user.pk,
        "owner",
        REQUEST_ID,
    )
    # The status change is captured too, under the same request.
    (update,) = [e for e in events_of(evidence, AuditAction.UPDATE) if "status" in e.changes]
    assert update.changes["status"] == ["draft", "submitted"]
    assert update.request_id == REQUEST_ID
    assert Evidence.objects.get(pk=evidence.pk).status == "submitted"
