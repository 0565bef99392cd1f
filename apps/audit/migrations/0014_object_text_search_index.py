"""A trigram index for the audit trail's search by object text (issue #25), on PostgreSQL.

The admin searches the object's text with `icontains`, which PostgreSQL runs as `UPPER(object_repr::text) LIKE
UPPER('%term%')`. A GIN index of the trigrams of `UPPER(object_repr)` serves it, **partial**: only events whose text
is in clear. A person's values are stored encrypted (`enc:v1:…`, apps/audit/personal.py), and ciphertext can never
match what someone types, so the search leaves those rows out and the index skips them: the writes of personal rows
(evidence, people, cases, reminders: most of the trail) pay nothing for it. SQLite keeps its plain scan.
"""

from django.db import migrations

INDEX = "audit_event_object_text_trgm"
# The prefix of encrypted values (apps.audit.personal.PREFIX without its version: any version is ciphertext).
ENCRYPTED = "enc:%"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it (evidence 0003 did already).
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON audit_event USING gin (UPPER(object_repr) gin_trgm_ops) "
        f"WHERE object_repr NOT LIKE '{ENCRYPTED}'",
        params=None,  # no placeholders: the % of the pattern is a LIKE wildcard
    )


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0013_auth_trigger_no_personal_values")]

    operations = [migrations.RunPython(add_index, remove_index)]
