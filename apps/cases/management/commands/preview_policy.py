"""Show which open cases would change compliance if a draft policy version were in force."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.cases.preview import policy_preview
from apps.policies.models import PolicyVersion


class Command(BaseCommand):
    help = "Preview a draft policy version: list the open cases whose compliance would flip if it were in force."

    def add_arguments(self, parser):
        parser.add_argument("version_id", type=int, help="Id of the policy version (see the admin).")

    def handle(self, *args, **options):
        version = PolicyVersion.objects.select_related("policy").filter(pk=options["version_id"]).first()
        if version is None:
            raise CommandError(f"No policy version with id {options['version_id']}.")
        preview = policy_preview(version=version, today=timezone.localdate())
        self.stdout.write(f"{version}: {preview.examined} open cases examined, {len(preview.rows)} would change.")
        self.stdout.write(
            f"  would become non-compliant: {preview.would_fail}; would become compliant: {preview.would_pass}"
        )
        for row in preview.rows:
            change = "compliant -> NOT compliant" if row.now_compliant else "not compliant -> compliant"
            detail = ", ".join(row.newly_unmet) if row.newly_unmet else ", ".join(row.newly_met)
            self.stdout.write(f"  case {row.case_id}: {row.subject} ({row.unit}, {row.cycle}): {change} [{detail}]")
