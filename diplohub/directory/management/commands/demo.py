from django.core.management.base import BaseCommand, CommandParser

from diplohub.directory.demo import build_demo, demo_is_loaded, reset_demo


class Command(BaseCommand):
    help = "Build the demo hub (Barcelona) from the reference data shipped with DiploHub."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the directory already has organisations.",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the directory first, then rebuild it."
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if options["if_empty"] and demo_is_loaded():
            self.stdout.write("Demo data already loaded.")
            return
        if options["reset"]:
            reset_demo()
        summary = build_demo(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
