"""A transaction's captured events are queued and written together just before it commits, in order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.audit import chain, queue
from apps.audit.chain import compute_hash
from apps.audit.constants import GENESIS_HASH, AuditAction
from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.audit.services import audit_record
from apps.org.models import OrgUnit
from tests.factories.org import OrgUnitFactory
from tests.security.test_service_faults import terminate_own_backend

pytestmark = pytest.mark.django_db


def _rows_in_table() -> int:
    """Count the stored events with raw SQL, which (unlike the ORM) does not write queued events first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM audit_auditevent")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_events_of_a_transaction_are_written_together_before_it_commits():
    start = _rows_in_table()  # transactional tests start with the built-in rituals' events
    with transaction.atomic():
        OrgUnitFactory.create_batch(3)
        assert _rows_in_table() == start  # queued, not yet written

    assert _rows_in_table() == start + 3
    assert audit_chain_verify().intact


def test_a_read_of_the_trail_inside_the_transaction_sees_its_own_events():
    with transaction.atomic():
        unit = OrgUnitFactory(name="Front Desk")

        history = list(AuditEvent.objects.for_object("org.orgunit", str(unit.pk)))

    assert [event.action for event in history] == [AuditAction.CREATE]


def test_counting_and_checking_for_events_also_write_the_queue_first():
    with transaction.atomic():
        OrgUnitFactory()
        assert AuditEvent.objects.exists()
        OrgUnitFactory()
        assert AuditEvent.objects.count() == 2


def test_a_domain_event_comes_after_the_changes_queued_before_it():
    with transaction.atomic():
        unit = OrgUnitFactory()
        event = audit_record(action=AuditAction.EXPORT_MADE, obj=unit)

    events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.action for e in events] == [AuditAction.CREATE, AuditAction.EXPORT_MADE]
    assert event.sequence == 2  # a domain event is numbered at once


@pytest.mark.django_db(transaction=True)
def test_a_deferred_domain_event_waits_for_commit_behind_the_changes_before_it():
    start = _rows_in_table()
    with transaction.atomic():
        unit = OrgUnitFactory(name="Front Desk")
        event = audit_record(action=AuditAction.EXPORT_MADE, obj=unit, defer=True)
        OrgUnitFactory(name="Back Office")
        assert _rows_in_table() == start  # nothing written: the chain's lock is not taken yet
        assert event.sequence is None

    events = list(AuditEvent.objects.order_by("sequence"))[start:]
    assert [(e.action, e.object_repr) for e in events] == [
        (AuditAction.CREATE, "Front Desk"),
        (AuditAction.EXPORT_MADE, "Front Desk"),
        (AuditAction.CREATE, "Back Office"),
    ]
    assert event.sequence == events[1].sequence
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_a_deferred_domain_event_outside_a_transaction_is_written_at_once():
    event = audit_record(action=AuditAction.EXPORT_MADE, object_repr="now", defer=True)
    assert AuditEvent.objects.get(sequence=event.sequence).object_repr == "now"


def test_events_of_a_rolled_back_savepoint_are_never_written_and_the_rest_keep_their_order():
    with transaction.atomic():
        OrgUnitFactory(name="Kept first")
        with pytest.raises(RuntimeError), transaction.atomic():
            OrgUnitFactory(name="Rolled back")
            raise RuntimeError("boom")
        OrgUnitFactory(name="Kept second")

    names = [e.changes["name"][1] for e in AuditEvent.objects.order_by("sequence")]
    assert names == ["Kept first", "Kept second"]
    assert audit_chain_verify().intact


def test_events_queued_before_a_savepoint_survive_its_rollback_after_an_early_write():
    with transaction.atomic():
        OrgUnitFactory(name="Kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            OrgUnitFactory(name="Rolled back")
            AuditEvent.objects.count()  # writes the queue inside the savepoint
            raise RuntimeError("boom")
        OrgUnitFactory(name="After")

    report = audit_chain_verify()
    assert report.intact
    assert [e.changes["name"][1] for e in AuditEvent.objects.order_by("sequence")] == ["Kept", "After"]


@pytest.mark.django_db(transaction=True)
def test_a_long_transaction_writes_its_queue_early_to_bound_memory(monkeypatch):
    monkeypatch.setattr(queue, "QUEUE_LIMIT", 3)
    start = _rows_in_table()
    with transaction.atomic():
        OrgUnitFactory.create_batch(4)
        assert _rows_in_table() == start + 3
    assert _rows_in_table() == start + 4
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_when_the_events_cannot_be_written_at_commit_the_whole_transaction_rolls_back(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    start = _rows_in_table()
    monkeypatch.setattr(chain, "_prepare", broken)
    with pytest.raises(RuntimeError, match="audit store unavailable"), transaction.atomic():
        OrgUnitFactory(name="Never committed")

    monkeypatch.undo()
    assert not OrgUnit.objects.filter(name="Never committed").exists()
    assert _rows_in_table() == start
    OrgUnitFactory(name="Next")  # the connection is usable again
    assert audit_chain_verify().intact


# Text that JSON must escape, and text it must not: quotes, backslashes, control characters, non-ASCII.
_tricky_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    action=st.sampled_from(AuditAction.values),
    actor_name=_tricky_text,
    actor_user_id=st.none() | st.integers(min_value=1, max_value=2**53),
    object_repr=_tricky_text,
    request_id=_tricky_text,
    changes=st.dictionaries(_tricky_text, st.lists(st.none() | st.integers() | _tricky_text, max_size=2), max_size=4),
    context=st.dictionaries(_tricky_text, _tricky_text, max_size=2),
    sequence=st.integers(min_value=1, max_value=2**62),
    microsecond=st.integers(min_value=0, max_value=999_999),
)
def test_the_hash_written_piece_by_piece_equals_the_hash_of_the_canonical_json(
    action, actor_name, actor_user_id, object_repr, request_id, changes, context, sequence, microsecond
):
    event = AuditEvent(
        action=action,
        actor_ip="2001:db8::1",
        object_type="org.orgunit",
        object_id="42",
        actor_name=actor_name,
        actor_user_id=actor_user_id,
        object_repr=object_repr,
        request_id=request_id,
        changes=changes,
        context=context,
        occurred_at=dt.datetime(2026, 11, 26, 2, 30, 1, microsecond, tzinfo=dt.UTC),
    )
    event.sequence, event.prev_hash = sequence, "ab" * 32

    assert chain._hash_parts(event).hash(event.prev_hash, sequence) == compute_hash(event)


@pytest.mark.django_db(transaction=True)
def test_entering_a_savepoint_writes_nothing_and_its_commit_writes_everything_once():
    start = _rows_in_table()
    with transaction.atomic():
        OrgUnitFactory(name="Before")
        with transaction.atomic():
            assert _rows_in_table() == start
            OrgUnitFactory(name="Inside")
        assert _rows_in_table() == start
    assert _rows_in_table() == start + 2
    names = [e.changes["name"][1] for e in AuditEvent.objects.order_by("sequence")[start:]]
    assert names == ["Before", "Inside"]
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_events_written_early_in_an_inner_savepoint_come_back_when_an_enclosing_one_rolls_back():
    start = _rows_in_table()
    with transaction.atomic():
        OrgUnitFactory(name="Outside")
        with pytest.raises(RuntimeError), transaction.atomic():
            with transaction.atomic():
                OrgUnitFactory(name="Inner")
                AuditEvent.objects.count()  # writes "Outside" and "Inner" inside both savepoints
            raise RuntimeError("the enclosing savepoint rolls back; the inner one was released")
        OrgUnitFactory(name="After")
    names = [e.changes["name"][1] for e in AuditEvent.objects.order_by("sequence")[start:]]
    assert names == ["Outside", "After"]
    assert audit_chain_verify().intact


class _RollBack(Exception):
    """Raised to roll a block of the generated program back."""


# A program: captured creates, domain events (written at once), reads of the trail (early writes) and nested
# blocks, each rolled back or kept.
_STEPS = ["create", "record", "read"]
_programs = st.recursive(
    st.lists(st.sampled_from(_STEPS), max_size=3),
    lambda inner: st.lists(st.one_of(st.sampled_from(_STEPS), st.tuples(st.booleans(), inner)), min_size=1, max_size=4),
    max_leaves=12,
)


def _run(program: list, kept: bool, made: list[str], counter: list[int]) -> None:
    for step in program:
        if step in ("create", "record"):
            counter[0] += 1
            name = f"{step} {counter[0]}"
            if step == "create":
                OrgUnitFactory(name=name)
            else:
                audit_record(action=AuditAction.EXPORT_MADE, object_type="reports.export", object_repr=name)
            if kept:
                made.append(name)
        elif step == "read":
            AuditEvent.objects.exists()
        else:
            rolled_back, block = step
            try:
                with transaction.atomic():
                    _run(block, kept and not rolled_back, made, counter)
                    if rolled_back:
                        raise _RollBack
            except _RollBack:
                pass


@settings(max_examples=60, deadline=None)
@given(program=_programs)
def test_whatever_the_savepoints_and_early_writes_each_kept_change_is_in_the_trail_once_in_order(program):
    made: list[str] = []
    try:
        with transaction.atomic():  # each example in a transaction of its own, rolled back at the end
            head = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
            with transaction.atomic():
                _run(program, True, made, [0])
            events = AuditEvent.objects.filter(sequence__gt=head).order_by("sequence")
            assert [e.object_repr for e in events] == made
            assert audit_chain_verify().intact
            raise _RollBack
    except _RollBack:
        pass


@pytest.fixture(params=["libpq", "django cursor"])
def append_path(request, monkeypatch):
    """Run the test with the append sent straight through libpq (the usual path) and through Django's cursor (taken
    when Django logs queries); check that the named path was taken."""
    taken = []
    direct = chain._append_via_libpq

    def counted(*args, **kwargs):
        taken.append("libpq")
        return direct(*args, **kwargs)

    monkeypatch.setattr(chain, "_append_via_libpq", counted)
    if request.param == "django cursor":
        monkeypatch.setattr(connections["default"], "force_debug_cursor", True)
    yield request.param
    assert bool(taken) == (request.param == "libpq")


@pytest.mark.postgres
def test_postgresql_chains_tricky_text_exactly_as_python_verifies_it(append_path):
    texts = ['quote " and \\ backslash', "line\nbreak\ttab\x01", "Ünïcödé ✓ 🙂", "", "'; DROP TABLE x; --"]
    with transaction.atomic():
        for text in texts:
            audit_record(action=AuditAction.EXPORT_MADE, object_repr=text, context={"note": text, text: [text]})
            OrgUnitFactory(name=text[:50] or "empty")
    for text in texts:  # one event per transaction: the function's single-event path
        with transaction.atomic():
            audit_record(action=AuditAction.EXPORT_MADE, object_repr=text, context={text: text})

    assert audit_chain_verify().intact
    first = AuditEvent.objects.order_by("sequence").first()
    assert first.prev_hash == GENESIS_HASH
    for event in AuditEvent.objects.all():
        assert event.hash == compute_hash(event)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_commits_nothing_when_the_append_sent_with_the_commit_fails(append_path):
    refuse = """
        CREATE FUNCTION test_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'disk full (simulated)'; END; $$;
        CREATE TRIGGER test_refuse_insert BEFORE INSERT ON audit_auditevent
            FOR EACH ROW EXECUTE FUNCTION test_refuse_insert();
    """
    with connection.cursor() as cursor:
        cursor.execute(refuse)
    try:
        with pytest.raises(DatabaseError, match="disk full"), transaction.atomic():
            OrgUnitFactory(name="Never committed")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_insert ON audit_auditevent; DROP FUNCTION test_refuse_insert();")

    assert not OrgUnit.objects.filter(name="Never committed").exists()
    OrgUnitFactory(name="Next")
    assert audit_chain_verify().intact


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("events", [1, 2], ids=["one event", "two events"])
def test_postgresql_refuses_a_nul_character_in_an_event_and_commits_nothing_of_its_transaction(append_path, events):
    start = _rows_in_table()
    with pytest.raises(DatabaseError, match=r"NUL|\\u0000"), transaction.atomic():
        if events == 2:
            OrgUnitFactory(name="Never committed")
        audit_record(action=AuditAction.EXPORT_MADE, object_repr="before\x00after")

    assert _rows_in_table() == start
    assert not OrgUnit.objects.filter(name="Never committed").exists()
    OrgUnitFactory(name="Next")
    assert audit_chain_verify().intact


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_shows_the_append_among_the_queries_django_logs():
    with CaptureQueriesContext(connection) as captured:
        with transaction.atomic():
            OrgUnitFactory(name="Logged")
    appends = [query["sql"] for query in captured.captured_queries if "audit_append_event" in query["sql"]]
    assert len(appends) == 1
    assert "Logged" in appends[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_backend_lost_while_the_append_goes_with_the_commit_commits_nothing(append_path, monkeypatch):
    start = _rows_in_table()
    prepare = chain._prepare

    def lose_the_backend_then_prepare(events):
        terminate_own_backend()
        return prepare(events)

    monkeypatch.setattr(chain, "_prepare", lose_the_backend_then_prepare)
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        OrgUnitFactory(name="Never committed")
    monkeypatch.setattr(chain, "_prepare", prepare)
    assert "terminating connection" in str(raised.value)

    connection.close_if_unusable_or_obsolete()  # as at the end of every request: the broken connection goes
    assert not OrgUnit.objects.filter(name="Never committed").exists()
    assert _rows_in_table() == start
    OrgUnitFactory(name="Next")
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_an_execute_wrapper_sees_the_trails_own_statements():
    seen = []

    def watch(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch), transaction.atomic():
        OrgUnitFactory(name="Watched")

    assert any("audit_auditevent" in sql or "audit_append_event" in sql for sql in seen)
