"""Re-evaluate open cases now and store their results (what the nightly sweep does), for all cycles or one."""

from django.core.management.base import BaseCommand, CommandError

from apps.cases.evaluations import evaluations_sweep
from apps.cases.models import Cycle


class Command(BaseCommand):
    help = (
        "Re-evaluate every open case (or those of one cycle) as of today and store each requirement's result, as "
        "the nightly sweep does. Run it once after installing this version, to store the cases already open."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, help="Only the open cases of the cycle with this id (see the admin).")

    def handle(self, *args, **options):
        cycle_id = options["cycle"]
        if cycle_id is not None and not Cycle.objects.filter(pk=cycle_id).exists():
            raise CommandError(f"No cycle with id {cycle_id}.")
        result = evaluations_sweep(cycle_id=cycle_id)
        where = f"cycle {cycle_id}" if cycle_id is not None else "all cycles"
        self.stdout.write(f"Re-evaluated {result.examined} open cases ({where}); {result.changed} changed compliance.")
