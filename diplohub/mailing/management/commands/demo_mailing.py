from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from diplohub.directory.models import Organization
from diplohub.mailing.demo import build_demo_mailing
from diplohub.mailing.models import PolicyDocument


class Command(BaseCommand):
    help = (
        "Add the demo mailing data (privacy policy and terms v1, a few subscribers) to a "
        "demo hub built before it existed. `diplohub demo` builds everything from scratch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if there are policy documents already.",
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if PolicyDocument.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Demo mailing data already loaded.")
                return
            raise CommandError("There are policy documents already: use `diplohub demo --reset`.")
        if not Organization.objects.exists():
            raise CommandError("The directory is empty: run `diplohub demo` first.")
        with transaction.atomic():
            summary = build_demo_mailing()
        self.stdout.write(self.style.SUCCESS(f"Demo mailing data loaded: {summary}"))
