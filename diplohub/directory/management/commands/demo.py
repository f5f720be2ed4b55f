from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from diplohub.directory.demo import DemoDataError, build_demo, demo_is_loaded, reset_demo
from diplohub.knowledge.demo import (
    DemoKnowledgeError,
    build_demo_knowledge,
    reset_demo_knowledge,
)


class Command(BaseCommand):
    help = (
        "Build the demo hub from the reference data shipped with DiploHub "
        "(diplohub/directory/data/). The same data gives the same directory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the directory already has organisations.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the directory (organisations, people, posts, topics and their "
            "history), the programme, the mailing data (policies, subscribers, consents) "
            "and the knowledge hub first, then rebuild it.",
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if options["if_empty"] and demo_is_loaded():
            self.stdout.write("Demo data already loaded.")
            return
        if not options["reset"] and demo_is_loaded():
            raise CommandError(
                "The directory already has organisations: use --reset to rebuild it "
                "or --if-empty to leave it as it is."
            )
        try:
            # One transaction: a failed rebuild leaves the old directory in place.
            with transaction.atomic():
                if options["reset"]:
                    reset_demo_knowledge()  # it holds on to organisations, people, events
                    reset_demo()
                summary = build_demo(stdout=self.stdout)
                knowledge = build_demo_knowledge(stdout=self.stdout)
        except (DemoDataError, DemoKnowledgeError) as error:
            raise CommandError(f"The demo data is inconsistent: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
        self.stdout.write(self.style.SUCCESS(f"Demo knowledge hub loaded: {knowledge}"))
