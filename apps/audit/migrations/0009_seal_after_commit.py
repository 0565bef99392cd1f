"""Events are written unsealed through the ORM and chained after commit by the sealer (apps.audit.sealer).

The trail moves to a new table, `audit_event`, keyed by an id in write order and carrying the writing transaction's
id; each event's place in the chain (position, previous hash, hash) is a row of `audit_seal` that the sealer
inserts. Existing events are copied with their chain intact (id = sequence, one seal each). The PL/pgSQL append
functions go: hashing happens in Python only. On PostgreSQL triggers refuse every UPDATE and DELETE on both tables.
"""

import django.db.models.deletion
from django.core.management.color import no_style
from django.db import migrations, models

import apps.audit.models

DROP_OLD_FUNCTIONS = """
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT oid::regprocedure FROM pg_proc
             WHERE proname IN ('audit_append_events', 'audit_append_event', 'audit_lock_chain_head')
    LOOP
        EXECUTE 'DROP FUNCTION ' || f;
    END LOOP;
END;
$$;
"""

APPEND_ONLY = """
DROP FUNCTION IF EXISTS audit_auditevent_refuse_change();
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit events and seals are never changed or removed; append a new event instead.';
END;
$$;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_seal_append_only
    BEFORE UPDATE OR DELETE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event;
DROP TRIGGER IF EXISTS audit_seal_append_only ON audit_seal;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no client-side formatting

    return run


_COPIED = (
    "occurred_at",
    "actor_user_id",
    "actor_name",
    "actor_ip",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "context",
)


def copy_events(apps, schema_editor):
    """Copy the old table's events (ids = their chain positions) with one seal each, then move the id sequence on."""
    old = apps.get_model("audit", "AuditEvent")
    new = apps.get_model("audit", "SealedAuditEvent")
    seal = apps.get_model("audit", "AuditSeal")
    alias = schema_editor.connection.alias
    rows = old.objects.using(alias).order_by("sequence").values("sequence", "prev_hash", "hash", *_COPIED)
    last = 0
    while True:
        batch = list(rows.filter(sequence__gt=last)[:2000])
        if not batch:
            break
        # txid 0: before every real transaction id, so the sealer carries on after them (apps.audit.sealer).
        new.objects.using(alias).bulk_create(
            new(id=row["sequence"], txid=0, **{k: row[k] for k in _COPIED}) for row in batch
        )
        seal.objects.using(alias).bulk_create(
            seal(
                sequence=row["sequence"],
                event_id=row["sequence"],
                prev_hash=row["prev_hash"],
                hash=row["hash"],
                sealed_at=row["occurred_at"],
            )
            for row in batch
        )
        last = batch[-1]["sequence"]
    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [new]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_append_event_function")]

    operations = [
        migrations.RunPython(_on_postgresql(DROP_OLD_FUNCTIONS), migrations.RunPython.noop, elidable=False),
        migrations.CreateModel(
            name="SealedAuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("occurred_at", models.DateTimeField(db_index=True)),
                (
                    "actor_user_id",
                    models.BigIntegerField(
                        blank=True, help_text="Id of the user who acted; empty for system processes.", null=True
                    ),
                ),
                ("actor_name", models.CharField(help_text="Copy of the actor's name at the time.", max_length=150)),
                ("actor_ip", models.CharField(blank=True, max_length=45)),
                ("request_id", models.CharField(blank=True, max_length=64)),
                ("action", models.CharField(max_length=40)),
                (
                    "object_type",
                    models.CharField(blank=True, help_text="'app_label.model_name' of the object.", max_length=100),
                ),
                ("object_id", models.CharField(blank=True, max_length=64)),
                ("object_repr", models.CharField(blank=True, max_length=200)),
                ("changes", models.JSONField(blank=True, default=dict, help_text="{field: [old, new]}.")),
                ("context", models.JSONField(blank=True, default=dict)),
                (
                    "txid",
                    models.BigIntegerField(
                        blank=True,
                        db_default=apps.audit.models.CurrentTransactionId(),
                        editable=False,
                        help_text="The writing transaction (PostgreSQL; set by the database): the sealing order.",
                        null=True,
                    ),
                ),
            ],
            options={
                "db_table": "audit_event",
                "ordering": ["-id"],
                "indexes": [
                    models.Index(fields=["object_type", "object_id"], name="audit_event_object_idx2"),
                    models.Index(fields=["txid", "id"], name="audit_event_seal_order_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                (
                    "sequence",
                    models.PositiveBigIntegerField(
                        help_text="Position in the chain: 1, 2, 3... without gaps, in sealing order.",
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
                ("sealed_at", models.DateTimeField(help_text="When the sealer chained the event.")),
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="seal", to="audit.sealedauditevent"
                    ),
                ),
            ],
            options={"db_table": "audit_seal", "ordering": ["-sequence"]},
        ),
        migrations.RunPython(copy_events, migrations.RunPython.noop, elidable=False),
        migrations.DeleteModel(name="AuditEvent"),
        migrations.RenameModel(old_name="SealedAuditEvent", new_name="AuditEvent"),
        migrations.RunPython(_on_postgresql(APPEND_ONLY), _on_postgresql(DROP_APPEND_ONLY), elidable=False),
    ]
