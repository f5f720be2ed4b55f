from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from diplohub.directory.models import Organization
from diplohub.knowledge.demo import (
    DemoKnowledgeError,
    build_demo_knowledge,
    demo_knowledge_is_loaded,
)


class Command(BaseCommand):
    help = (
        "Add the demo knowledge hub (diplohub/knowledge/data/: the COVID-19 example and "
        "initiatives of other cities) to a demo hub built before it existed. "
        "`diplohub demo` builds everything from scratch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the catalogue has items or vocabularies already.",
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if demo_knowledge_is_loaded():
            if options["if_empty"]:
                self.stdout.write("Demo knowledge hub already loaded.")
                return
            raise CommandError("The catalogue is not empty: use `diplohub demo --reset`.")
        if not Organization.objects.exists():
            raise CommandError("The directory is empty: run `diplohub demo` first.")
        try:
            with transaction.atomic():
                summary = build_demo_knowledge(stdout=self.stdout)
        except DemoKnowledgeError as error:
            raise CommandError(f"The demo knowledge data is inconsistent: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Demo knowledge hub loaded: {summary}"))
