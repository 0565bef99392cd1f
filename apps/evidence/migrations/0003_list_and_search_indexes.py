"""Indexes for the evidence lists (issue #25): the list order, and on PostgreSQL trigram indexes for the admin search.

The admin's search is `icontains`, which PostgreSQL runs as `UPPER(col::text) LIKE UPPER('%term%')`: a GIN index of
the trigrams of `UPPER(col)` serves it. SQLite has no such index and keeps its plain scan, so the trigram part is a
no-op there (the operation changes no model state: the indexes are a storage detail of one vendor).
"""

from django.db import migrations, models

# The searched columns of evidence (apps/evidence/admin.py, EvidenceAdmin.search_fields) and their index names.
TRIGRAM_INDEXES = {
    "title": "evidence_title_trgm",
    "customer_quote": "evidence_quote_trgm",
    "source_reference": "evidence_source_ref_trgm",
}


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    quote = schema_editor.quote_name
    table = quote(apps.get_model("evidence", "Evidence")._meta.db_table)
    for column, name in TRIGRAM_INDEXES.items():
        # Written out: Django's OpClass needs django.contrib.postgres installed to render `UPPER(col) opclass`.
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {table} USING gin (UPPER({quote(column)}) gin_trgm_ops)"
        )


def remove_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES.values():
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_solicitation_phrases"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="evidence",
            index=models.Index(fields=["impact_date", "id"], name="evidence_impact_date_id_idx"),
        ),
        migrations.RunPython(add_trigram_indexes, remove_trigram_indexes, elidable=False),
    ]
