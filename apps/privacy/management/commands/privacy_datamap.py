"""Print the data map, write it into docs/privacy.md, or check that the document is up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.privacy.datamap import render_markdown
from apps.privacy.datamap.render import BEGIN, END


def merged(document: str, generated: str) -> str:
    """`document` with the part between the markers replaced by `generated` (which carries the markers)."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise CommandError(f"The document has no generated section: put the two marker lines in it:\n{BEGIN}\n{END}")
    return document[:start] + generated.rstrip("\n") + document[end + len(END) :]


class Command(BaseCommand):
    help = (
        "Print the data map's tables (the record of processing), write them into a document between its markers "
        "(--write docs/privacy.md), or check that the document is up to date (--check docs/privacy.md: exit 1 if not)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--write", metavar="FILE", help="Replace the generated section of FILE.")
        group.add_argument("--check", metavar="FILE", help="Exit 1 when FILE's generated section is out of date.")

    def handle(self, *args: Any, write: str | None = None, check: str | None = None, **options: Any) -> None:
        generated = render_markdown()
        if write is None and check is None:
            self.stdout.write(generated, ending="")
            return
        path = Path(write or check or "")
        try:
            document = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        updated = merged(document, generated)
        if check is not None:
            if updated != document:
                raise CommandError(
                    f"{path} is out of date with the data map: run manage.py privacy_datamap --write {path}."
                )
            self.stdout.write(f"{path} is up to date with the data map.")
            return
        path.write_text(updated, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"Wrote the data map into {path}."))
