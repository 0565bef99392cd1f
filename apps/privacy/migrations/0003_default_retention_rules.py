from django.db import migrations

from apps.privacy.constants import DEFAULT_RULES


def create_rules(apps, schema_editor):
    """One rule per kind, enabled, with the default period; an existing rule (HR's choice) is left as it is."""
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for kind, (keep_days, note) in DEFAULT_RULES.items():
        RetentionRule.objects.get_or_create(kind=str(kind), defaults={"keep_days": keep_days, "note": note})


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_candidate_erasure_hold_case_set_null")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
