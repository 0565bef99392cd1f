"""Each seal records how its hash was computed: seals already written are plain SHA-256 and keep verifying as such;
the sealer writes every new one keyed (HMAC-SHA256 with AUDIT_CHAIN_KEY, which is not in the database).

Adding a column with a default changes no row (PostgreSQL stores the default in the catalogue; SQLite copies the
table, which has no triggers there), so the append-only triggers of 0009 stay as they are and never fire.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0009_seal_after_commit")]

    operations = [
        migrations.AddField(
            model_name="auditseal",
            name="scheme",
            field=models.CharField(
                choices=[
                    ("sha256", "SHA-256 (unkeyed, before the chain key)"),
                    ("hmac-sha256", "HMAC-SHA256 keyed with AUDIT_CHAIN_KEY"),
                ],
                default="sha256",
                help_text="How `hash` was computed: keyed with AUDIT_CHAIN_KEY (every new seal) or plain SHA-256 "
                "(seals written before the chain was keyed).",
                max_length=16,
            ),
            preserve_default=False,
        ),
    ]
