from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diplohub.directory.importers import export_organizations
from diplohub.directory.popolo import export_directory


class Command(BaseCommand):
    help = (
        "Export the directory: every organisation as CSV or XLSX (the columns "
        "import_organizations reads), or the public directory as Popolo JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("csv", "xlsx", "popolo"), default="csv")
        parser.add_argument("-o", "--output", help="the file to write; default: standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt, output = options["format"], options["output"]
        if fmt == "xlsx" and not output:
            raise CommandError("XLSX is a binary format: give a file with -o FILE.xlsx.")
        if fmt == "popolo":
            text = json.dumps(export_directory(), ensure_ascii=False, indent=2) + "\n"
            data = text.encode()
        else:
            data = export_organizations(format=fmt)
        if not output:
            self.stdout.write(data.decode("utf-8-sig"), ending="")
            return
        try:
            Path(output).write_bytes(data)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
        self.stderr.write(f"Wrote {output} ({len(data)} bytes).")
