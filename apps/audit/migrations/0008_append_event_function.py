"""On PostgreSQL, a transaction's single event (the common case: one change, one event) is appended by a function
taking the event's values as parameters, not as a JSON array of rows: neither side encodes or parses that array.

Same steps and the same hash expression as `audit_append_events` (migration 0005): take the chain lock, read the
head, hash before || changes || ',"context":' || context || after || '"' || prev_hash || '"' || middle ||
sequence || '}' and insert the row. The result has the batch function's shape (first sequence, its previous
hash, the array of hashes), so the caller reads both alike.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_append_event(
    lock_key bigint,
    genesis varchar,
    p_before text,
    p_changes text,
    p_context text,
    p_after text,
    p_middle text,
    p_occurred_at text,
    p_actor_user_id bigint,
    p_actor_name varchar,
    p_actor_ip varchar,
    p_request_id varchar,
    p_action varchar,
    p_object_type varchar,
    p_object_id varchar,
    p_object_repr varchar,
    OUT first_sequence bigint,
    OUT first_prev_hash varchar,
    OUT hashes varchar[]
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_sequence bigint;
    head_hash varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    -- A VOLATILE function takes a fresh snapshot per statement: this read sees every append committed
    -- before the lock was granted.
    SELECT a.sequence, a.hash INTO head_sequence, head_hash FROM audit_auditevent a ORDER BY a.sequence DESC LIMIT 1;
    first_sequence := coalesce(head_sequence, 0) + 1;
    first_prev_hash := coalesce(head_hash, genesis);
    hashes := ARRAY[encode(
        sha256(convert_to(
            p_before || p_changes || ',"context":' || p_context || p_after
            || '"' || first_prev_hash || '"' || p_middle || first_sequence::text || '}',
            'UTF8'
        )),
        'hex'
    )];
    INSERT INTO audit_auditevent (
        sequence, occurred_at, actor_user_id, actor_name, actor_ip, request_id, action, object_type, object_id,
        object_repr, changes, context, prev_hash, hash
    ) VALUES (
        first_sequence, p_occurred_at::timestamptz, p_actor_user_id, p_actor_name, p_actor_ip, p_request_id,
        p_action, p_object_type, p_object_id, p_object_repr, p_changes::jsonb, p_context::jsonb,
        first_prev_hash, hashes[1]
    );
END;
$$;
"""

REVERSE = """
DROP FUNCTION IF EXISTS audit_append_event(
    bigint, varchar, text, text, text, text, text, text, bigint, varchar, varchar, varchar, varchar, varchar, varchar,
    varchar
);
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_sqlite_rowid_sequence")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(REVERSE), elidable=False)]
