"""Build a realistic demo company; each app adds its part."""

import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.audit.checkpoints import ChainDoesNotExtendCheckpoint, CheckpointError, write_checkpoint
from apps.audit.sealer import audit_seal_pending
from apps.audit.services import audit_record
from apps.common.context import acting_as, system_actor
from apps.demo.constants import DemoAuditAction
from apps.demo.seed import notification_line, seed_all
from apps.org.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Create demo data: an org of about 20 units over customer layers 0-3 and N employees with managers, "
        "plus what later features need. Does nothing if the organisation already has units."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=int, default=200, help="How many employees (default 200).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable data.")

    def handle(self, *args, **options):
        employees = options["employees"]
        if employees < 25 or employees > 200_000:
            raise CommandError("--employees must be between 25 and 200000.")
        if OrgUnit.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        with acting_as(system_actor("seed_demo")), transaction.atomic():
            summary = seed_all(employees=employees, rng=random.Random(options["seed"]))
            audit_record(
                action=DemoAuditAction.DEMO_SEEDED,
                object_repr="demo company",
                context={"employees": employees, "seed": options["seed"], "summary": summary.lines[:1]},
            )
        # The case hooks have written their notifications now that the seed committed; the bells show them.
        notifications = notification_line()
        # The worker seals the trail within seconds; sealing here shows the demo's chain whole at once.
        sealed = audit_seal_pending()
        # And a first signed checkpoint outside the database, so verify_audit has a head to compare with at once.
        try:
            checkpoint = write_checkpoint(reason="seed_demo")
        except (CheckpointError, ChainDoesNotExtendCheckpoint) as exc:  # the demo still works; verify_audit says why
            self.stderr.write(f"No audit checkpoint written: {exc}")
            checkpoint = None
        for line in [*summary.lines, notifications]:
            self.stdout.write(line)
        where = f", a signed checkpoint of head {checkpoint.head_sequence} written" if checkpoint is not None else ""
        self.stdout.write(
            f"Audit trail: {sealed} events sealed into the hash chain{where} (manage.py verify_audit checks it)."
        )
        for line in summary.logins:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Demo data created."))
