"""A prepared query gives exactly what the ORM gives for the same queryset, with any value of its parameter."""

import pytest
from django.db import OperationalError, connection
from django.db.models import Count

from apps.common.prepared import Prepared, PreparedQuery
from apps.evidence.api.rows import evidence_row, evidence_rows_queryset
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.models import Employee
from tests.factories.evidence import AttachmentFactory, EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_values_query_gives_the_orms_rows_json_and_annotations_included():
    flagged = EvidenceFactory(
        status=EvidenceStatus.SUBMITTED, gaming_flags=[{"code": "outcome_only", "reason": "Only a score."}]
    )
    correction = EvidenceFactory(owner=flagged.owner, previous=flagged, version=2)
    AttachmentFactory(evidence=flagged)
    for item in (flagged, correction):
        assert evidence_row(item.pk) == evidence_rows_queryset(Evidence.objects.filter(pk=item.pk)).get()
    assert evidence_row(flagged.pk)["has_correction"] is True
    assert evidence_row(flagged.pk)["gaming_flags"] == flagged.gaming_flags
    assert evidence_row(10**6) is None


def test_a_model_query_gives_the_orms_objects_with_their_related_ones():
    manager = EmployeeFactory(user=UserFactory(username="boss"))
    report = EmployeeFactory(manager=manager)
    prepared = Prepared(Employee, lambda pk: Employee.objects.select_related("manager__user").filter(pk=pk), -1)
    found = prepared.query().first(report.pk)
    assert found == report
    assert found.manager.user.username == "boss"
    assert vars(found.manager) | {"_state": None} == vars(Employee.objects.get(pk=manager.pk)) | {"_state": None}
    assert prepared.query().first(manager.pk).manager is None
    assert prepared.query().all(-5) == []


def test_the_sentinel_must_be_a_parameter_of_its_own():
    with pytest.raises(ValueError, match="not once among the parameters"):
        PreparedQuery(Evidence.objects.filter(version=1, owner_id=1), 1)
    with pytest.raises(ValueError, match="not once among the parameters"):
        PreparedQuery(Evidence.objects.filter(version=2), 1)


def test_a_values_list_query_gives_the_orms_tuples():
    boss = EmployeeFactory(full_name="Dana Boss")
    EmployeeFactory(manager=boss, full_name="Eli Report")
    prepared = Prepared(
        Employee, lambda pk: Employee.objects.filter(manager_id=pk).values_list("full_name", "manager__full_name"), -1
    )
    assert prepared.query().all(boss.pk) == list(
        Employee.objects.filter(manager_id=boss.pk).values_list("full_name", "manager__full_name")
    )
    assert prepared.query().all(boss.pk) == [("Eli Report", "Dana Boss")]


def test_a_model_query_carries_its_annotations():
    manager = EmployeeFactory()
    EmployeeFactory.create_batch(2, manager=manager)
    prepared = Prepared(
        Employee, lambda pk: Employee.objects.annotate(report_count=Count("reports")).filter(pk=pk).order_by(), -1
    )
    assert prepared.query().first(manager.pk).report_count == 2


def test_the_statement_is_logged_counted_and_seen_by_execute_wrappers(django_assert_num_queries):
    item = EvidenceFactory()
    seen = []

    def observe(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with django_assert_num_queries(1), connection.execute_wrapper(observe):
        assert evidence_row(item.pk)["id"] == item.pk
    assert len(seen) == 1
    assert 'AS "has_correction"' in seen[0]


def test_an_execute_wrapper_can_refuse_the_statement_as_fault_tests_do():
    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection dropped (simulated)")

    item = EvidenceFactory()
    with pytest.raises(OperationalError), connection.execute_wrapper(refuse):
        evidence_row(item.pk)
    assert evidence_row(item.pk)["id"] == item.pk


def _state_free(obj, seen: frozenset = frozenset()) -> dict:
    """An instance's loaded values and cached related objects (recursively; a back reference by its model and pk),
    without its _state object."""
    values = {name: value for name, value in vars(obj).items() if name != "_state"}
    seen = seen | {id(obj)}
    related = {
        name: (other._meta.label, other.pk) if id(other) in seen else _state_free(other, seen) if other else other
        for name, other in obj._state.fields_cache.items()
    }
    return {"values": values, "related": related, "adding": obj._state.adding, "db": obj._state.db}


ONLY = ("title", "owner__full_name", "owner__manager__user__username", "category__code", "touchpoint__code",
        "reviewer__email")  # fmt: skip


def test_instances_are_those_django_builds_values_relations_and_state_alike():
    manager = EmployeeFactory(user=UserFactory(username="boss"))
    report = EmployeeFactory(manager=manager)
    item = EvidenceFactory(owner=report, reviewer=manager.user, status=EvidenceStatus.VERIFIED)
    prepared = Prepared(
        Evidence,
        lambda pk: (
            Evidence.objects.select_related("owner__manager__user", "category", "touchpoint", "reviewer")
            .filter(pk=pk)
            .only(*ONLY)
        ),
        -1,
    )
    ours = prepared.query().first(item.pk)
    djangos = (
        Evidence.objects.select_related("owner__manager__user", "category", "touchpoint", "reviewer")
        .only(*ONLY)
        .get(pk=item.pk)
    )
    assert _state_free(ours) == _state_free(djangos)
    assert ours.get_deferred_fields() == djangos.get_deferred_fields()
    assert ours.owner.manager.user.username == "boss"
    ours.title = "Changed"
    ours.save(update_fields=["title"])  # a loaded instance saves as an update
    assert Evidence.objects.get(pk=item.pk).title == "Changed"


def test_a_model_with_init_receivers_is_built_by_django(monkeypatch):
    from django.db.models.signals import post_init

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    employee = EmployeeFactory()
    post_init.connect(receiver, sender=Employee)
    try:
        found = Prepared(Employee, lambda pk: Employee.objects.filter(pk=pk), -1).query().first(employee.pk)
    finally:
        post_init.disconnect(receiver, sender=Employee)
    assert seen == [employee.pk] and found == employee


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prepared_statements_reuse_one_server_cursor_per_database_connection():
    item = EvidenceFactory()
    evidence_row(item.pk)
    cursor = connection._rc_server_cursor[1]
    evidence_row(item.pk)
    assert connection._rc_server_cursor[1] is cursor
    connection.close()  # a new database connection gets a cursor of its own
    assert evidence_row(item.pk)["id"] == item.pk
    assert connection._rc_server_cursor[1] is not cursor
