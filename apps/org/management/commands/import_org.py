"""Import org units or employees from a CSV file, all rows or none."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.common.context import acting_as, system_actor
from apps.org.importers import ImportKind, org_csv_import, size_problem


class Command(BaseCommand):
    help = (
        "Import org units or employees from a UTF-8 CSV file (see docs/org-import.md). Every row is checked "
        "first; if any row is wrong the errors are listed and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values, help="What the file holds.")
        parser.add_argument("file", type=Path, help="Path of the CSV file.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report, without writing.")

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            if problem := size_problem(path.stat().st_size):
                raise CommandError(f"{path}: {problem}")
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        with acting_as(system_actor("import_org")):
            result = org_csv_import(
                kind=options["kind"], content=content, file_name=path.name, dry_run=options["dry_run"]
            )
        if not result.ok:
            heading = f"{path.name}: {len(result.errors)} error(s); nothing was written."
            raise CommandError("\n".join([heading, *result.error_lines()]))
        self.stdout.write(self.style.SUCCESS(result.summary()))
