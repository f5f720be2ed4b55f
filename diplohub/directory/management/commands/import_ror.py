from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diplohub.directory.importers import progress_bars
from diplohub.directory.management.commands.import_organizations import write_report
from diplohub.directory.services import organizations_import_ror


class Command(BaseCommand):
    help = (
        "Import research organisations from Research Organization Registry records: a "
        "JSON file with one record or a list of them, ROR schema v1 or v2. Importing "
        "again updates the organisations; it never doubles them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .json file of ROR records")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report; write nothing"
        )
        parser.add_argument(
            "--valid-records-only",
            action="store_true",
            help="write the valid records even when other records have errors",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        with progress_bars(getattr(self.stderr, "_out", self.stderr)) as progress:
            report = organizations_import_ror(
                data=data,
                dry_run=options["dry_run"],
                valid_rows_only=options["valid_records_only"],
                progress=progress,
            )
        write_report(self, report)
