from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from diplohub.directory.importers import progress_bars
from diplohub.knowledge.services import similar_recompute_all


class Command(BaseCommand):
    help = (
        "Recompute the similar initiatives of every published initiative (the worker "
        "keeps them up to date after each change; this is for a first run, a restore, "
        "or a change to the algorithm)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        with progress_bars(getattr(self.stderr, "_out", self.stderr)) as progress:
            report = similar_recompute_all(progress=progress)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        seconds = report.seconds
        self.stdout.write(
            f"{report.initiatives} initiatives, {report.rows} similar initiatives written "
            f"in {seconds.get('total', 0):.1f} s (reading {seconds.get('read', 0):.1f} s, "
            f"computing {seconds.get('compute', 0):.1f} s, writing "
            f"{seconds.get('write', 0):.1f} s); peak memory {report.peak_rss_mb:.0f} MB"
            + (
                f"; {report.skipped} changed meanwhile, left to the worker"
                if report.skipped
                else ""
            )
        )
