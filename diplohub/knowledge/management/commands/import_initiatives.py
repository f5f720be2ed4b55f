from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diplohub.directory.importers import progress_bars
from diplohub.knowledge import importers
from diplohub.knowledge.services import initiatives_import


class Command(BaseCommand):
    help = (
        "Import initiatives from a CSV file, or from another DiploHub's JSON feed (its "
        "/api/v1/initiatives address, whose pages are followed, or a saved page). Every "
        "row is checked first; errors are listed by row and column, and nothing is "
        "written if any row is wrong (unless --valid-rows-only). Importing again "
        "updates what changed. See docs/open-data.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="a .csv or .json file, or an http(s) address")
        parser.add_argument("--format", choices=importers.FORMATS, help="default: from the name")
        parser.add_argument("--encoding", help="the encoding of a CSV that is not UTF-8")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report; write nothing"
        )
        parser.add_argument(
            "--valid-rows-only",
            action="store_true",
            help="write the valid rows even when other rows have errors",
        )
        parser.add_argument(
            "--source-name",
            default="",
            help="where the initiatives come from, as their pages will say (default for a "
            "feed: its host; a CSV may have a source_name column instead)",
        )
        parser.add_argument(
            "--draft",
            action="store_true",
            help="import new initiatives as drafts, to publish after a review",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        is_url = urlsplit(source).scheme in ("http", "https")
        fmt = options["format"] or ("json" if is_url else Path(source).suffix.lower().lstrip("."))
        if fmt not in importers.FORMATS:
            raise CommandError(
                f"Cannot tell the format of {source!r}: give --format csv or --format json."
            )
        try:
            data = importers.fetch_url(source) if is_url else _read(Path(source))
        except importers.ImportFileError as error:
            raise CommandError(str(error)) from None
        with progress_bars(getattr(self.stderr, "_out", self.stderr)) as progress:
            report = initiatives_import(
                data=data,
                format=fmt,
                url=source if is_url else "",
                fetch=importers.fetch_url if is_url else None,
                dry_run=options["dry_run"],
                valid_rows_only=options["valid_rows_only"],
                source_name=options["source_name"].strip(),
                draft=options["draft"],
                encoding=options["encoding"],
                progress=progress,
            )
        for line in report.lines()[:-1]:
            self.stdout.write(line)
        style = self.style.SUCCESS if report.ok else self.style.ERROR
        self.stdout.write(style(report.summary()))
        if not report.ok:
            problems = len(report.file_errors) + len(report.errors)
            raise CommandError(f"{problems} problem{'s' if problems > 1 else ''}; see above.")


def _read(path: Path) -> bytes:
    """The file, refused before it is read when it is over the size limit."""
    try:
        importers.check_size(path.stat().st_size, what=path.name)
        return path.read_bytes()
    except OSError as error:
        raise importers.ImportFileError(f"Cannot read {path}: {error.strerror}.") from None
