from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from diplohub.directory.models import Organization
from diplohub.events.demo import DemoEventsError, build_demo_events
from diplohub.events.models import Event


class Command(BaseCommand):
    help = (
        "Add the demo programme (diplohub/events/data/demo_events.json) to a demo directory "
        "built before the programme existed. `diplohub demo` builds both from scratch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if there are events already."
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if Event.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Demo programme already loaded.")
                return
            raise CommandError("There are events already: use `diplohub demo --reset`.")
        if not Organization.objects.exists():
            raise CommandError("The directory is empty: run `diplohub demo` first.")
        try:
            with transaction.atomic():
                summary = build_demo_events()
        except DemoEventsError as error:
            raise CommandError(f"The demo programme is inconsistent: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Demo programme loaded: {summary}"))
