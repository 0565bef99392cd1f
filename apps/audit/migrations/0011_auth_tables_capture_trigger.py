"""PostgreSQL: a change to users, groups or their permissions that the ORM capture did not record is recorded by the
database itself, whatever wrote it (`User.objects.filter(...).update(is_superuser=True)`, `bulk_create`, raw SQL).

Deferred constraint triggers on auth_user, auth_group, auth_user_groups, auth_user_user_permissions and
auth_group_permissions (and UPDATE of auth_permission) run at commit, once per changed row. By then the ORM capture
has written its event in the same transaction (`audit_event.txid` is the transaction's id), so the trigger writes an
event only for a change that has none: the capture and the net never record the same change twice. Nothing on
SQLite (docs/audit.md, "Writes that always leave an event").
"""

from django.db import migrations

CAPTURE = r"""
CREATE OR REPLACE FUNCTION audit_auth_record(
    p_action text, p_object_type text, p_object_id text, p_object_repr text, p_changes jsonb, p_table text
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_event (occurred_at, actor_user_id, actor_name, actor_ip, request_id, action, object_type,
                             object_id, object_repr, changes, context)
    VALUES (clock_timestamp(), NULL, left('database: ' || session_user, 150),
            coalesce(host(inet_client_addr()), ''), '', p_action, p_object_type, left(p_object_id, 64),
            left(coalesce(p_object_repr, ''), 200), p_changes,
            jsonb_build_object('captured_by', 'database trigger', 'table', p_table));
END;
$$;

-- Whether this transaction already has an event on the object whose changes name every key given (any action
-- when p_action is NULL).
CREATE OR REPLACE FUNCTION audit_auth_recorded(
    p_object_type text, p_object_id text, p_action text, p_keys text[]
) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM audit_event
        WHERE txid = pg_current_xact_id()::text::bigint
          AND object_type = p_object_type AND object_id = p_object_id
          AND (p_action IS NULL OR action = p_action)
          AND changes ?& p_keys
    );
$$;

-- auth_user / auth_group / auth_permission rows.
CREATE OR REPLACE FUNCTION audit_auth_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    object_type text := TG_ARGV[0];
    repr_column text := TG_ARGV[1];
    old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    row_now jsonb := coalesce(new_row, old_row);
    object_id text := row_now->>'id';
    changes jsonb := '{}';
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
    PERFORM audit_auth_record(
        CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
        object_type, object_id, row_now->>repr_column, changes, TG_TABLE_NAME
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
    EXECUTE format('SELECT %I::text FROM %I WHERE id = $1', repr_column, source_table)
        INTO repr USING (source_id::bigint);
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

CREATE CONSTRAINT TRIGGER audit_capture_net AFTER INSERT OR UPDATE OR DELETE ON auth_user
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_auth_row('auth.user', 'username');
CREATE CONSTRAINT TRIGGER audit_capture_net AFTER INSERT OR UPDATE OR DELETE ON auth_group
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_auth_row('auth.group', 'name');
CREATE CONSTRAINT TRIGGER audit_capture_net AFTER UPDATE ON auth_permission
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_auth_row('auth.permission', 'codename');
CREATE CONSTRAINT TRIGGER audit_capture_net AFTER INSERT OR UPDATE OR DELETE ON auth_user_groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION audit_auth_link(
        'auth.user', 'user_id', 'auth.group', 'group_id', 'groups', 'auth_user', 'username');
CREATE CONSTRAINT TRIGGER audit_capture_net AFTER INSERT OR UPDATE OR DELETE ON auth_user_user_permissions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION audit_auth_link(
        'auth.user', 'user_id', 'auth.permission', 'permission_id', 'user_permissions', 'auth_user', 'username');
CREATE CONSTRAINT TRIGGER audit_capture_net AFTER INSERT OR UPDATE OR DELETE ON auth_group_permissions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION audit_auth_link(
        'auth.group', 'group_id', 'auth.permission', 'permission_id', 'permissions', 'auth_group', 'name');
"""

DROP_CAPTURE = """
DROP TRIGGER IF EXISTS audit_capture_net ON auth_user;
DROP TRIGGER IF EXISTS audit_capture_net ON auth_group;
DROP TRIGGER IF EXISTS audit_capture_net ON auth_permission;
DROP TRIGGER IF EXISTS audit_capture_net ON auth_user_groups;
DROP TRIGGER IF EXISTS audit_capture_net ON auth_user_user_permissions;
DROP TRIGGER IF EXISTS audit_capture_net ON auth_group_permissions;
DROP FUNCTION IF EXISTS audit_auth_link();
DROP FUNCTION IF EXISTS audit_auth_row();
DROP FUNCTION IF EXISTS audit_auth_recorded(text, text, text, text[]);
DROP FUNCTION IF EXISTS audit_auth_record(text, text, text, text, jsonb, text);
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no client-side formatting

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0010_seal_hash_scheme"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CAPTURE), _on_postgresql(DROP_CAPTURE), elidable=False),
    ]
