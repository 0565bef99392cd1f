"""PostgreSQL: the net trigger on the auth tables (0011) no longer writes a user's personal values in clear.

A write outside the ORM (raw SQL, `bulk_create`, `QuerySet.update`) has no person key at hand, so the changed
values of `auth_user.username`, `first_name`, `last_name` and `email` are recorded as "[changed outside the
application]" (the field names still listed, so the change is visible), and a user is named "user #<id>" instead of
by their login. Groups and permissions are unchanged. Nothing on SQLite.
"""

import importlib

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION audit_auth_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    object_type text := TG_ARGV[0];
    repr_column text := TG_ARGV[1];
    old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    row_now jsonb := coalesce(new_row, old_row);
    object_id text := row_now->>'id';
    changes jsonb := '{}';
    repr text;
    key text;
    before jsonb;
    after jsonb;
BEGIN
    FOR key IN SELECT jsonb_object_keys(row_now) LOOP
        before := old_row->key;
        after := new_row->key;
        IF before IS DISTINCT FROM after THEN
            IF key = 'password' THEN  -- never the value (MASK_OLD / MASK_CHANGED)
                before := CASE WHEN before IS NULL OR before = 'null' THEN 'null' ELSE '"***"' END;
                after := CASE WHEN after IS NULL OR after = 'null' THEN 'null' ELSE '"***changed***"' END;
            ELSIF object_type = 'auth.user' AND key IN ('username', 'first_name', 'last_name', 'email') THEN
                -- A person's value, with no key to encrypt it here: named, never written (apps.audit.personal).
                before := CASE WHEN before IS NULL OR before = 'null' THEN 'null'
                               ELSE '"[changed outside the application]"' END;
                after := CASE WHEN after IS NULL OR after = 'null' THEN 'null'
                              ELSE '"[changed outside the application]"' END;
            END IF;
            changes := changes || jsonb_build_object(key, jsonb_build_array(before, after));
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' AND object_type = 'auth.user' THEN
        -- A sign-in's side effect, recorded as the login event (apps.audit.auth_events).
        changes := changes - 'last_login';
    END IF;
    IF changes = '{}' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' AND audit_auth_recorded(object_type, object_id, 'create', '{}') THEN
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' AND audit_auth_recorded(object_type, object_id, 'delete', '{}') THEN
        RETURN NULL;
    ELSIF TG_OP = 'UPDATE' AND audit_auth_recorded(
        object_type, object_id, NULL, ARRAY(SELECT jsonb_object_keys(changes))
    ) THEN
        RETURN NULL;
    END IF;
    repr := CASE WHEN object_type = 'auth.user' THEN 'user #' || object_id ELSE row_now->>repr_column END;
    PERFORM audit_auth_record(
        CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
        object_type, object_id, repr, changes, TG_TABLE_NAME
    );
    RETURN NULL;
END;
$$;

-- Link tables: recorded as an update of the source (a user's groups, a group's permissions), as the capture does.
CREATE OR REPLACE FUNCTION audit_auth_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source_type text := TG_ARGV[0];
    source_column text := TG_ARGV[1];
    target_type text := TG_ARGV[2];
    target_column text := TG_ARGV[3];
    field text := TG_ARGV[4];
    source_table text := TG_ARGV[5];
    repr_column text := TG_ARGV[6];
    row_now jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
    source_id text := row_now->>source_column;
    target_id text := row_now->>target_column;
    current_ids jsonb;
    before jsonb;
    after jsonb;
    repr text;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- A link rewritten in place: recorded as it is, on the new row's source.
        IF NOT audit_auth_recorded(source_type, source_id, NULL, ARRAY[field]) THEN
            PERFORM audit_auth_record('update', source_type, source_id, NULL,
                jsonb_build_object(field, jsonb_build_array(to_jsonb(OLD), to_jsonb(NEW))), TG_TABLE_NAME);
        END IF;
        RETURN NULL;
    END IF;
    -- The capture recorded it (add/remove/clear/set, m2m_bulk_add), or the source or target was deleted through
    -- the ORM (its delete event stands for its links).
    IF audit_auth_recorded(source_type, source_id, NULL, ARRAY[field])
       OR audit_auth_recorded(source_type, source_id, 'delete', '{}')
       OR audit_auth_recorded(target_type, target_id, 'delete', '{}') THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT coalesce(jsonb_agg(%I ORDER BY %I), ''[]'') FROM %I WHERE %I = $1',
                   target_column, target_column, TG_TABLE_NAME, source_column)
        INTO current_ids USING (source_id::bigint);
    IF source_type = 'auth.user' THEN
        repr := 'user #' || source_id;  -- never the login: a person's value
    ELSE
        EXECUTE format('SELECT %I::text FROM %I WHERE id = $1', repr_column, source_table)
            INTO repr USING (source_id::bigint);
    END IF;
    -- The set at commit, and the same set without this row's change.
    after := current_ids;
    IF TG_OP = 'INSERT' THEN
        before := coalesce((SELECT jsonb_agg(value ORDER BY (value::text)::bigint)
                            FROM jsonb_array_elements(current_ids)
                            WHERE value <> row_now->target_column), '[]');
    ELSE
        before := coalesce((SELECT jsonb_agg(value ORDER BY (value::text)::bigint) FROM (
                               SELECT value FROM jsonb_array_elements(current_ids)
                               UNION SELECT row_now->target_column) AS ids), '[]');
    END IF;
    PERFORM audit_auth_record('update', source_type, source_id, repr,
                              jsonb_build_object(field, jsonb_build_array(before, after)), TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
"""


def _previous_functions() -> str:
    """The function definitions of 0011 (its triggers stay as they are): what reversing this migration restores."""
    previous = importlib.import_module("apps.audit.migrations.0011_auth_tables_capture_trigger")
    return previous.CAPTURE.split("CREATE CONSTRAINT TRIGGER", 1)[0]


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql() if callable(sql) else sql, params=None)  # no client-side formatting

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0012_person_key"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FUNCTIONS), _on_postgresql(_previous_functions), elidable=False),
    ]
