"""`manage.py export_person --employee E00012 --by <username> --output file.zip`: an access request's archive."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.context import Actor, acting_as
from apps.privacy.access import export_person

from ._person_args import acting_user, add_person_arguments, person_from


class Command(BaseCommand):
    help = (
        "Write everything about one person (manifest, one JSON file per model, their files, audit events about "
        "them) as one zip archive; the export is recorded in the audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument("--output", required=True, help="Where to write the zip archive.")

    def handle(self, *args: Any, **options: Any) -> None:
        person = person_from(options)
        by = acting_user(options)
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"--output {output}: the folder {output.parent} does not exist.")
        try:
            with acting_as(Actor(user_id=by.pk, name=by.get_username())):
                archive = export_person(person=person, by=by)
        except PermissionDenied as exc:
            raise CommandError(f"Nothing was exported: {exc}") from exc
        with archive.file, output.open("wb") as target:
            shutil.copyfileobj(archive.file, target)
        files = len(archive.manifest.get("files", []))
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {output} ({archive.size:,} bytes, {files} files) for {person.label}.")
        )
