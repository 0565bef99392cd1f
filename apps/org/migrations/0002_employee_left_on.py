from django.db import migrations, models
from django.db.models.functions import TruncDate


def backfill_left_on(apps, schema_editor):
    """People already inactive left, at the latest, when their row last changed (retention counts from then)."""
    Employee = apps.get_model("org", "Employee")
    Employee.objects.filter(active=False, left_on__isnull=True).update(left_on=TruncDate("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="employee",
            name="left_on",
            field=models.DateField(
                blank=True,
                editable=False,
                help_text="The day the person left (set when 'active' goes off, cleared if they return); retention "
                "counts from it.",
                null=True,
            ),
        ),
        migrations.RunPython(backfill_left_on, migrations.RunPython.noop),
    ]
