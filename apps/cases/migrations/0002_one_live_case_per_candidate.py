"""One live case per candidate (by e-mail, case-insensitive) and cycle, like employees and units.

Existing duplicates are not merged silently: the migration stops and names them, so HR withdraws all but one in the
admin (which records who did it and why) before migrating again.
"""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


def refuse_duplicates(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    duplicates = (
        Case.objects.exclude(candidate_email="")
        .exclude(status="withdrawn")
        .annotate(email=Lower("candidate_email"))
        .values("cycle_id", "email")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("cycle_id", "email")
    )
    found = [f"cycle {row['cycle_id']}: {row['email']} ({row['n']} live cases)" for row in duplicates[:50]]
    if found:
        raise RuntimeError(
            "Cannot add the rule 'one live case per candidate and cycle': these candidates have several live cases. "
            "Withdraw all but one of each in the admin, then migrate again.\n  " + "\n  ".join(found)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="candidate_email",
            field=models.EmailField(
                blank=True,
                help_text="Required for hiring cases: one live case per candidate e-mail and cycle.",
                max_length=254,
            ),
        ),
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("candidate_email"),
                models.F("cycle"),
                condition=models.Q(models.Q(("candidate_email", ""), _negated=True), models.Q(("status", "withdrawn"), _negated=True)),
                name="one_live_case_per_candidate_and_cycle",
                violation_error_message="This candidate already has a live case in this cycle.",
            ),
        ),
    ]
