"""On PostgreSQL, one round trip takes the chain lock and reads the head (instead of two per transaction)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_lock_chain_head(lock_key bigint, OUT head_sequence bigint, OUT head_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    -- A VOLATILE function takes a fresh snapshot per statement: this read sees every append committed
    -- before the lock was granted.
    SELECT sequence, hash INTO head_sequence, head_hash FROM audit_auditevent ORDER BY sequence DESC LIMIT 1;
END;
$$;
"""

REVERSE = "DROP FUNCTION IF EXISTS audit_lock_chain_head(bigint);"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_fewer_indexes")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(REVERSE), elidable=False)]
