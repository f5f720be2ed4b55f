from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diplohub.directory.importers import FORMATS, ImportReport, progress_bars
from diplohub.directory.services import organizations_import


class Command(BaseCommand):
    help = (
        "Import organisations from a CSV or XLSX file. Every row is checked first; "
        "errors are listed by row and column, and nothing is written if any row is "
        "wrong (unless --valid-rows-only). Possible duplicates of organisations "
        "already in the directory, or of earlier rows, are held back unless "
        "--merge-duplicates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .csv (UTF-8) or .xlsx file")
        parser.add_argument("--format", choices=FORMATS, help="default: the file's extension")
        parser.add_argument(
            "--encoding", help="the encoding of a CSV that is not UTF-8, e.g. cp1252"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report; write nothing"
        )
        parser.add_argument(
            "--valid-rows-only",
            action="store_true",
            help="write the valid rows even when other rows have errors",
        )
        parser.add_argument(
            "--merge-duplicates",
            action="store_true",
            help="merge possible duplicates: their non-empty cells update what they match",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = options["format"] or path.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise CommandError(
                f"Cannot tell the format of {path.name!r}: give --format csv or --format xlsx."
            )
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        with progress_bars(getattr(self.stderr, "_out", self.stderr)) as progress:
            report = organizations_import(
                data=data,
                format=fmt,
                encoding=options["encoding"],
                dry_run=options["dry_run"],
                valid_rows_only=options["valid_rows_only"],
                merge_duplicates=options["merge_duplicates"],
                progress=progress,
            )
        write_report(self, report)


def write_report(command: BaseCommand, report: ImportReport) -> None:
    """Print the report; fail (exit code 1) if the file or any row had an error."""
    for line in report.lines()[:-1]:
        command.stdout.write(line)
    style = command.style.SUCCESS if report.ok else command.style.ERROR
    command.stdout.write(style(report.summary()))
    if not report.ok:
        problems = len(report.file_errors) + len(report.errors)
        raise CommandError(f"{problems} problem{'s' if problems > 1 else ''}; see above.")
