"""Nothing is written without an event: many-to-many tables, base managers, bulk routes, users, groups and
permissions by any path (docs/audit.md, "Writes that always leave an event")."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.capture import m2m_bulk_add
from apps.audit.checks import check_audited_base_managers, check_many_to_many_tables_audited
from apps.audit.constants import MASK_CHANGED, AuditAction
from apps.audit.errors import UnauditedBulkWrite
from apps.audit.models import AuditEvent
from apps.audit.personal import reveal
from apps.audit.querysets import AuditedQuerySet
from apps.audit.registry import tracked_app_labels, tracked_m2m, tracked_models, tracked_spec
from apps.cases.models import Case
from apps.cases.services import case_open
from apps.org.models import Employee, OrgUnit
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.audit.helpers import events_of
from tests.factories.audit import GroupFactory
from tests.factories.cases import CycleFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory
from tests.factories.policies import PolicyFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

APPS_DIR = Path(settings.BASE_DIR) / "apps"
STORY_RULE = {"count": 1, "categories": ["customer_story"], "within_days": 365}


def _published_baseline() -> object:
    promotion = RitualType.objects.get(code="promotion")
    policy = policy_create(ritual_type=promotion, scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=60))
    requirement_add(version=version, kind="min_evidence", params=STORY_RULE, label="One customer story")
    return policy_version_publish(version=version, today=version.effective_from)


# ------------------------------------------------------------------------------------- many-to-many tables


def test_opening_a_case_records_its_pinned_policy_versions_on_the_case():
    baseline = _published_baseline()
    cycle = CycleFactory()
    dana = EmployeeFactory(full_name="Dana Okafor")

    case = case_open(cycle=cycle, subject_employee=dana)

    (pinned,) = [e for e in events_of(case, AuditAction.UPDATE) if "pinned_versions" in e.changes]
    assert pinned.changes == {"pinned_versions": [[], [baseline.pk]]}
    assert pinned.context == {"bulk": "m2m_bulk_add"}
    assert "Dana Okafor" in reveal(pinned.object_repr)
    assert list(case.pinned_versions.values_list("pk", flat=True)) == [baseline.pk]


def test_m2m_bulk_add_leaves_existing_links_alone_and_records_only_the_sources_that_changed():
    baseline = _published_baseline()
    cycle = CycleFactory()
    first = case_open(cycle=cycle, subject_employee=EmployeeFactory())
    second = case_open(cycle=cycle, subject_employee=EmployeeFactory())
    extra = PolicyVersionFactory()
    before = AuditEvent.objects.count()

    inserted = m2m_bulk_add(Case.pinned_versions.through, {first: [baseline.pk, extra.pk], second: [baseline.pk]})

    assert inserted == 1
    (event,) = AuditEvent.objects.filter(pk__gt=AuditEvent.objects.order_by("id")[before - 1].pk if before else 0)
    assert (event.object_id, event.changes) == (
        str(first.pk),
        {"pinned_versions": [[baseline.pk], sorted([baseline.pk, extra.pk])]},
    )


def test_m2m_bulk_add_refuses_a_table_the_trail_does_not_capture():
    with pytest.raises(ValueError, match="not the auto-created table of an audited many-to-many field"):
        m2m_bulk_add(Case.evidence_links.through, {})


def test_each_add_remove_set_and_clear_on_an_auto_created_table_is_one_event_with_the_ids():
    baseline = _published_baseline()
    case = case_open(cycle=CycleFactory(), subject_employee=EmployeeFactory())
    other = PolicyVersionFactory(policy=PolicyFactory())
    start = set(events_of(case, AuditAction.UPDATE))

    case.pinned_versions.add(other)
    case.pinned_versions.remove(baseline)
    case.pinned_versions.set([baseline])
    case.pinned_versions.clear()

    changes = [e.changes for e in events_of(case, AuditAction.UPDATE) if e not in start]
    assert changes == [
        {"pinned_versions": [[baseline.pk], sorted([baseline.pk, other.pk])]},
        {"pinned_versions": [sorted([baseline.pk, other.pk]), [other.pk]]},
        {"pinned_versions": [[other.pk], []]},  # set(): remove the missing one...
        {"pinned_versions": [[], [baseline.pk]]},  # ...then add the new one
        {"pinned_versions": [[baseline.pk], []]},
    ]


def test_every_auto_created_many_to_many_table_of_an_audited_model_is_captured():
    assert tracked_m2m(Case.pinned_versions.through) is not None
    assert tracked_m2m(User.groups.through) is not None
    assert tracked_m2m(User.user_permissions.through) is not None
    assert tracked_m2m(Group.permissions.through) is not None
    assert check_many_to_many_tables_audited() == []


# ------------------------------------------------------------------------------------- base manager and update()


def test_every_audited_product_model_has_an_audited_base_manager():
    registered = tracked_app_labels()
    plain = [
        model._meta.label
        for model in tracked_models()
        if model._meta.app_label in registered and not isinstance(model._base_manager.all(), AuditedQuerySet)
    ]
    assert plain == []
    assert check_audited_base_managers() == []


def test_base_manager_update_is_refused_and_changes_nothing():
    unit = OrgUnitFactory(name="Front Desk")

    with pytest.raises(UnauditedBulkWrite, match="audited_update"):
        OrgUnit._base_manager.filter(pk=unit.pk).update(name="Renamed")

    unit.refresh_from_db()
    assert unit.name == "Front Desk"


def test_a_reverse_foreign_key_bulk_add_is_refused_and_one_without_bulk_is_audited():
    old_unit, new_unit = OrgUnitFactory(), OrgUnitFactory()
    employee = EmployeeFactory(org_unit=old_unit)

    with pytest.raises(UnauditedBulkWrite, match="bulk=False"):
        new_unit.employees.add(employee)
    assert Employee.objects.get(pk=employee.pk).org_unit_id == old_unit.pk

    new_unit.employees.add(employee, bulk=False)

    (moved,) = events_of(employee, AuditAction.UPDATE)
    assert moved.changes["org_unit"] == [old_unit.pk, new_unit.pk]


def test_update_on_an_audited_queryset_is_refused_and_audited_update_writes_one_event_per_row():
    first, second = OrgUnitFactory(description="a"), OrgUnitFactory(description="b")
    units = OrgUnit.objects.filter(pk__in=[first.pk, second.pk])

    with pytest.raises(UnauditedBulkWrite):
        units.update(description="c")
    assert units.audited_update(description="c") == 2

    for unit, old in ((first, "a"), (second, "b")):
        (update,) = events_of(unit, AuditAction.UPDATE)
        assert update.changes == {"description": [old, "c"]}


# ------------------------------------------------------------------------------------- product code


_WRITES = {"update", "bulk_update", "bulk_create", "create", "get_or_create", "update_or_create", "delete", "_update"}
_AUTH_MODELS = {"User", "Group", "Permission"}


def _chain(node: ast.AST) -> list[str]:
    """Names along `a.b.c(...).d`: ["a", "b", "c", "d"]."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _unaudited_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """Calls that would change rows without an event: QuerySet._update(), a write on an auto-created
    many-to-many table (`X.field.through` or a name bound to one), a bulk write on User/Group/Permission."""
    through_names = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _chain(node.value)[-1:] == ["through"]
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        chain = _chain(node.func)
        method = chain[-1]
        if method == "_update":
            found.append((node.lineno, ".".join(chain)))
        elif method in _WRITES and ("through" in chain[:-1] or chain[0] in through_names):
            found.append((node.lineno, ".".join(chain)))
        elif method in {"update", "bulk_update", "bulk_create"} and chain[0] in _AUTH_MODELS:
            found.append((node.lineno, ".".join(chain)))
    return found


def test_the_scan_finds_each_unaudited_route():
    source = """
through = Case.pinned_versions.through
through.objects.bulk_create([])
Case.pinned_versions.through.objects.filter(case_id=1).delete()
Case.objects.filter(pk=1)._update({})
User.objects.filter(pk=1).update(is_superuser=True)
Group.objects.bulk_create([])
"""
    assert [line for line, _ in _unaudited_writes(ast.parse(source))] == [3, 4, 5, 6, 7]


def test_product_code_never_writes_rows_by_a_route_the_capture_cannot_see():
    offenders = []
    for path in sorted(APPS_DIR.rglob("*.py")):
        if "migrations" in path.parts or path.parent.name == "audit":
            continue
        for line, call in _unaudited_writes(ast.parse(path.read_text(), filename=str(path))):
            offenders.append(f"{path.relative_to(APPS_DIR.parent)}:{line}: {call}")
    assert offenders == [], (
        "Use apps.audit.capture.m2m_bulk_add() for many-to-many tables, audited_update() for updates; "
        "never QuerySet._update()."
    )


# ------------------------------------------------------------------------------------- users, groups, permissions


def test_superuser_grant_by_save_is_one_event_naming_the_flag():
    user = UserFactory()

    with transaction.atomic():
        user.is_superuser = True
        user.is_staff = True
        user.save()

    (update,) = events_of(user, AuditAction.UPDATE)
    assert update.changes == {"is_superuser": [False, True], "is_staff": [False, True]}


def test_group_permission_and_password_changes_are_recorded_without_the_password():
    user, group = UserFactory(), GroupFactory(name="Auditors")
    permission = Permission.objects.get(codename="view_auditevent")

    with transaction.atomic():
        group.permissions.add(permission)
        user.user_permissions.add(permission)
        user.set_password("a-new-secret-phrase")
        user.save()

    (group_update,) = events_of(group, AuditAction.UPDATE)
    assert group_update.changes == {"permissions": [[], [permission.pk]]}
    user_changes = [e.changes for e in events_of(user, AuditAction.UPDATE)]
    assert user_changes == [{"user_permissions": [[], [permission.pk]]}, {"password": ["***", MASK_CHANGED]}]
    assert "a-new-secret-phrase" not in str(user_changes)


def _trail_of(obj) -> list[tuple[str, dict, str]]:  # type: ignore[no-untyped-def]
    return [(e.action, e.changes, e.actor_name) for e in events_of(obj)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_queryset_update_of_a_user_is_recorded_by_the_database():
    user = UserFactory(username="mallory")
    recorded = len(events_of(user))

    User.objects.filter(pk=user.pk).update(is_superuser=True)

    (grant,) = events_of(user)[recorded:]
    assert grant.action == AuditAction.UPDATE
    assert grant.changes == {"is_superuser": [False, True]}
    assert grant.actor_name.startswith("database: ")
    assert grant.object_repr == f"user #{user.pk}"  # never the login: a person's value (migration 0013)
    assert grant.context == {"captured_by": "database trigger", "table": "auth_user"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_changes_the_capture_recorded_are_not_recorded_twice():
    user, group = UserFactory(), GroupFactory(name="Reviewers")
    recorded = len(events_of(user))

    with transaction.atomic():
        user.groups.add(group)
        user.is_staff = True
        user.save()
    with transaction.atomic():
        group.name = "Senior reviewers"
        group.save()

    assert [e.context for e in events_of(user)[recorded:]] == [{}, {}]
    assert [e.changes for e in events_of(group, AuditAction.UPDATE)] == [{"name": ["Reviewers", "Senior reviewers"]}]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_raw_sql_on_users_groups_and_permissions_is_recorded():
    user, group = UserFactory(), GroupFactory(name="Reviewers")
    permission = Permission.objects.get(codename="view_auditevent")
    recorded = len(events_of(user))

    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)", [user.pk, group.pk])
        cursor.execute(
            "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s)", [group.pk, permission.pk]
        )
        cursor.execute("UPDATE auth_user SET password = 'x', last_login = now() WHERE id = %s", [user.pk])
    Group.objects.filter(pk=group.pk).update(name="Admins")
    User.objects.bulk_create([User(username="ghost", is_superuser=True)])

    assert [e.changes for e in events_of(user)[recorded:]] == [
        {"groups": [[], [group.pk]]},
        {"password": ["***", MASK_CHANGED]},
    ]
    assert [e.changes for e in events_of(group, AuditAction.UPDATE)] == [
        {"permissions": [[], [permission.pk]]},
        {"name": ["Reviewers", "Admins"]},
    ]
    ghost = User.objects.get(username="ghost")
    (created,) = events_of(ghost)
    assert created.action == AuditAction.CREATE
    assert created.changes["is_superuser"] == [None, True]
    assert created.changes["password"] == [None, MASK_CHANGED]


def test_on_sqlite_only_the_orm_routes_are_captured(on_postgres):
    if on_postgres:
        pytest.skip("PostgreSQL records these by trigger (the tests above)")
    user = UserFactory()
    recorded = len(events_of(user))

    User.objects.filter(pk=user.pk).update(is_superuser=True)

    # The documented limit of the embedded database: no trigger; product code never does this (scan above).
    assert len(events_of(user)) == recorded
    assert tracked_spec(User) is not None


def test_deleting_a_user_records_the_set_null_on_a_hidden_relation_once_with_its_cause():
    from tests.factories.cases import CandidateCaseFactory

    decider = UserFactory()
    case = CandidateCaseFactory(decided_by=decider)
    decider_id = decider.pk

    decider.delete()

    (cleared,) = [e for e in events_of(case, AuditAction.UPDATE) if "decided_by" in e.changes]
    assert cleared.changes == {"decided_by": [decider_id, None]}
    assert cleared.context == {"cause": f"auth.user {decider_id} deleted"}
