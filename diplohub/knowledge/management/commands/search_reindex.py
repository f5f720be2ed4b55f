from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from diplohub.directory.importers import progress_bars
from diplohub.knowledge.models import SearchDocument
from diplohub.knowledge.search import reindex


class Command(BaseCommand):
    help = (
        "Make the search index match the published catalogue: every published "
        "initiative, development, publication and press item written again if it "
        "changed, and whatever is no longer published taken out. Safe while the hub "
        "serves. The services keep the index up to date; this is for a first run, a "
        "restore, or a change to the search itself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fresh",
            action="store_true",
            help="empty the index first (after restoring a database without it, or if "
            "SQLite's full-text index is suspect); searches find less until it ends",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if the index already has documents (for `make run`)",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and SearchDocument.objects.exists():
            return
        with progress_bars(getattr(self.stderr, "_out", self.stderr)) as progress:
            count = reindex(
                progress=progress, fresh=options["fresh"], batch_size=options["batch_size"]
            )
        self.stdout.write(f"{count} items in the search index.")
