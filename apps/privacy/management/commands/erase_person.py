"""`manage.py erase_person --employee E00012 --reason "..." --by <username> [--dry-run]`: an erasure request."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.context import Actor, acting_as
from apps.privacy.erasure import erase_person, erasure_plan

from ._person_args import acting_user, add_person_arguments, person_from


class Command(BaseCommand):
    help = (
        "Erase one person's personal data (an employee with their login, or a login alone): audit keys destroyed, "
        "rows blanked as the data map says, files deleted. --dry-run lists what would be erased and kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument("--reason", default="", help="The request and its date (recorded as its length only).")
        parser.add_argument("--dry-run", action="store_true", help="List what would be erased; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        person = person_from(options)
        by = acting_user(options)
        if options["dry_run"]:
            plan = erasure_plan(person, by=by)
            for what, count in plan.rows:
                self.stdout.write(f"erase  {count:>6}  {what}")
            self.stdout.write(f"delete {plan.files:>6}  stored files")
            self.stdout.write(f"keep   {plan.decided_cases:>6}  decided cases (still counted by reports)")
            for refusal in plan.refusals:
                self.stdout.write(self.style.ERROR(f"refused: {refusal}"))
            self.stdout.write(f"Dry run: nothing was erased for {person.label}.")
            return
        if not options["reason"].strip():
            raise CommandError('Give --reason "..." (the request and its date).')
        try:
            with acting_as(Actor(user_id=by.pk, name=by.get_username())):
                report = erase_person(person=person, by=by, reason=options["reason"])
        except ValidationError as exc:
            raise CommandError(f"Nothing was erased: {' '.join(exc.messages)}") from exc
        except PermissionDenied as exc:
            raise CommandError(f"Nothing was erased: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(report.summary()))
