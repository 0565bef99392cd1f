"""Import customer insights from a CSV file, all rows or none (see docs/insights.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.context import acting_as, system_actor
from apps.insights.csv_import import insights_csv_import, size_problem


class Command(BaseCommand):
    help = (
        "Import customer insights from a UTF-8 CSV file (columns as in docs/insights.md). Every row is checked "
        "first; if any row is wrong the errors are listed with their line numbers and nothing is written. Rows "
        "already imported from the same source (same source id) are left unchanged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path of the CSV file.")
        parser.add_argument(
            "--source", required=True, help="The system the rows come from (e.g. qualtrics); with the source id it "
            "makes a re-imported row the same insight."
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report, without writing.")

    def handle(self, *args: object, **options: object) -> None:
        path = options["file"]
        assert isinstance(path, Path)  # noqa: S101 - argparse's type=Path
        try:
            if problem := size_problem(path.stat().st_size):
                raise CommandError(f"{path}: {problem}")
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        with acting_as(system_actor("import_insights")):
            result = insights_csv_import(
                content=content,
                file_name=path.name,
                source_system=str(options["source"]),
                by=None,
                dry_run=bool(options["dry_run"]),
            )
        if not result.ok:
            heading = f"{path.name}: {len(result.errors)} error(s); nothing was written."
            raise CommandError("\n".join([heading, *result.error_lines()]))
        prefix = "Dry run, nothing written: " if result.dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{result.summary()}"))
