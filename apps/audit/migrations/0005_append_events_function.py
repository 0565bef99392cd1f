"""On PostgreSQL, one statement appends a batch of events: it takes the chain lock, reads the head, chains the
events' hashes from the head and inserts them, so a transaction's events cost one round trip.

The caller sends the events as one JSON array of rows. Each row carries the event's canonical JSON in pieces
around the two values only the database knows, the previous hash and the sequence (apps/audit/chain.py,
`_HashParts`): before, changes, context, after, middle. The hash is SHA-256 of
before || changes || ',"context":' || context || after || '"' || prev_hash || '"' || middle || sequence || '}',
exactly the bytes Python hashes for the same event (tests/audit/test_chain_hash.py checks the two agree).
Row layout: [before, changes, context, after, middle, occurred_at, actor_user_id, actor_name, actor_ip,
request_id, action, object_type, object_id, object_repr].
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_append_events(
    lock_key bigint,
    genesis varchar,
    events jsonb,
    OUT first_sequence bigint,
    OUT first_prev_hash varchar,
    OUT hashes varchar[]
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_sequence bigint;
    head_hash varchar;
    prev varchar;
    event jsonb;
    prevs varchar[] := '{}';
BEGIN
    SELECT h.head_sequence, h.head_hash INTO head_sequence, head_hash FROM audit_lock_chain_head(lock_key) AS h;
    first_sequence := coalesce(head_sequence, 0) + 1;
    first_prev_hash := coalesce(head_hash, genesis);
    IF jsonb_array_length(events) = 1 THEN
        -- The common case (one change in the transaction), without the loop and the join.
        event := events->0;
        hashes := ARRAY[encode(
            sha256(convert_to(
                (event->>0) || (event->>1) || ',"context":' || (event->>2) || (event->>3)
                || '"' || first_prev_hash || '"' || (event->>4) || first_sequence::text || '}',
                'UTF8'
            )),
            'hex'
        )];
        INSERT INTO audit_auditevent (
            sequence, occurred_at, actor_user_id, actor_name, actor_ip, request_id, action, object_type, object_id,
            object_repr, changes, context, prev_hash, hash
        ) VALUES (
            first_sequence, (event->>5)::timestamptz, (event->>6)::bigint, event->>7, event->>8, event->>9,
            event->>10, event->>11, event->>12, event->>13, (event->>1)::jsonb, (event->>2)::jsonb,
            first_prev_hash, hashes[1]
        );
        RETURN;
    END IF;
    prev := first_prev_hash;
    hashes := '{}';
    FOR event IN SELECT value FROM jsonb_array_elements(events) LOOP
        prevs := prevs || prev;
        prev := encode(
            sha256(convert_to(
                (event->>0) || (event->>1) || ',"context":' || (event->>2) || (event->>3)
                || '"' || prev || '"' || (event->>4) || (first_sequence + cardinality(hashes))::text || '}',
                'UTF8'
            )),
            'hex'
        );
        hashes := hashes || prev;
    END LOOP;
    INSERT INTO audit_auditevent (
        sequence, occurred_at, actor_user_id, actor_name, actor_ip, request_id, action, object_type, object_id,
        object_repr, changes, context, prev_hash, hash
    )
    SELECT first_sequence + e.n - 1, (e.v->>5)::timestamptz, (e.v->>6)::bigint, e.v->>7, e.v->>8, e.v->>9,
           e.v->>10, e.v->>11, e.v->>12, e.v->>13, (e.v->>1)::jsonb, (e.v->>2)::jsonb, c.prev_hash, c.hash
    FROM jsonb_array_elements(events) WITH ORDINALITY AS e(v, n)
    JOIN unnest(prevs, hashes) WITH ORDINALITY AS c(prev_hash, hash, n) ON c.n = e.n
    ORDER BY e.n;
END;
$$;
"""

REVERSE = "DROP FUNCTION IF EXISTS audit_append_events(bigint, varchar, jsonb);"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_head_function")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(REVERSE), elidable=False)]
