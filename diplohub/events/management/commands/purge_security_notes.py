from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diplohub.events.services import registrations_purge_security_notes


class Command(BaseCommand):
    help = (
        "Blank the ID-check notes kept for the venue's security list once an event is "
        "over. Safe to run as often as you like (e.g. daily)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=1,
            help="purge events that ended more than this many days ago (default: 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 0:
            raise CommandError("--days must be 0 or more.")
        purged = registrations_purge_security_notes(days=options["days"])
        self.stdout.write(f"Purged the ID-check notes of {purged} registration(s).")
