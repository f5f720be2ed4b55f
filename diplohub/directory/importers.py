"""Import and export of the directory's organisations as CSV and XLSX.

One pipeline serves the `import_organizations` and `import_ror` commands, the admin's
import page (django-import-export, whose dry-run preview shows what the pipeline
plans) and the tests:

1. read_table(): decode and parse the file into a header and rows of text cells;
   a file that cannot be read raises ImportFileError with a message for a person.
2. plan_import(): check the columns, clean every cell (one widget per column, each
   raising ValueError with the reason), find duplicates against the directory and
   within the file, resolve parents (in the file or the directory) and allocate
   slugs. Reads the directory in a handful of queries and writes nothing.
3. apply_plan(): write the plan with bulk operations, parents before children, with
   a history record per organisation.

services.organizations_import() runs the three steps in one transaction.

Duplicates are rows that share a ROR id, a Wikidata id, a website domain, or a name
and country with an organisation already in the directory or with an earlier row.
They are never doubled: they are offered for merge (the incoming non-empty values
update the existing record) and merged only when the staff member asks. Two records
whose ROR ids (or Wikidata ids) both exist and differ are different organisations,
whatever their names or websites say.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, slug_re
from django.db import connection
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.text import slugify
from django_countries import countries
from import_export import resources, widgets
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.results import Error, Result, RowResult
from modeltranslation import settings as mt_settings
from tablib import Dataset

from diplohub.directory.models import (
    SECTOR_OF_KIND,
    ConsularClass,
    Kind,
    Organization,
    Sector,
    Topic,
    domain_of,
    sort_key,
)

# A callback for long jobs: progress(stage, done, total), e.g. ("checking", 2000, 10000).
Progress = Callable[[str, int, int], None]

FORMATS = ("csv", "xlsx")
REQUIRED_COLUMNS = ("name", "kind")
RULES = ("ror", "wikidata", "domain", "name")
RULE_TEXT = {
    "ror": "same ROR id",
    "wikidata": "same Wikidata id",
    "domain": "same website domain",
    "name": "same name and country",
}
# Cells that a spreadsheet would run as a formula are written with a leading
# apostrophe (OWASP's advice against CSV injection); the importer removes it again.
FORMULA_STARTS = ("=", "+", "-", "@")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ROR = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?ror\.org/)?(0[a-z0-9]{6}[0-9]{2})/?$", re.IGNORECASE
)
_WIKIDATA = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?wikidata\.org/(?:wiki|entity)/)?(Q[1-9][0-9]*)/?$",
    re.IGNORECASE,
)
_validate_url = URLValidator(schemes=["http", "https"])


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why, for a person."""


def languages() -> list[str]:
    """The languages of the translated fields (modeltranslation's, from LANGUAGES)."""
    return list(mt_settings.AVAILABLE_LANGUAGES)


def default_language() -> str:
    return str(mt_settings.DEFAULT_LANGUAGE)


def columns() -> list[str]:
    """The columns the importer understands, in the order the exporter writes them."""
    langs = languages()
    return [
        "name",
        *(f"name_{code}" for code in langs),
        "acronym",
        "slug",
        "kind",
        "sector",
        "country",
        "city",
        "address",
        "latitude",
        "longitude",
        "website",
        "ror_id",
        "wikidata_id",
        "parent",
        "topics",
        "consular_class",
        "exequatur_date",
        "jurisdiction",
        "is_public",
        "description",
        *(f"description_{code}" for code in langs),
    ]


def _attribute(column: str) -> str:
    """The model attribute a column fills ("name" is the default language's name)."""
    if column in ("name", "description"):
        return f"{column}_{default_language()}"
    return column


def _quote(text: str) -> str:
    shown = text if len(text) <= 60 else text[:60] + "…"
    return "'" + shown + "'"


def normalise_ror_id(text: str) -> str | None:
    match = _ROR.match(text.strip())
    return match.group(1).lower() if match else None


def _text(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS and text[1:2]:
        text = text[1:]
    bad = _CONTROL.search(text)
    if bad:
        raise ValueError(f"contains a control character (U+{ord(bad.group()):04X})")
    return text


def _escape_formula(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# 1. Widgets: one per kind of column. clean() turns a cell into a Python value or
# raises ValueError with the reason; render() writes the value for export.


class TextWidget(widgets.Widget):
    def __init__(self, max_length: int | None = None) -> None:
        super().__init__()
        self.max_length = max_length

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        if self.max_length and len(text) > self.max_length:
            raise ValueError(f"is {len(text)} characters long; at most {self.max_length} fit")
        return text

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return _escape_formula(str(value)) if value else ""


@cache
def _choice_lookup(choices: type[Kind] | type[Sector] | type[ConsularClass]) -> dict[str, str]:
    """Codes and their labels in every language, folded, to the code."""
    lookup: dict[str, str] = {}
    for code in languages():
        with translation.override(code):
            for choice in choices:
                lookup[str(choice.label).casefold()] = choice.value
    lookup.update({choice.value: choice.value for choice in choices})
    return lookup


class ChoiceWidget(widgets.Widget):
    def __init__(self, choices: type[Kind] | type[Sector] | type[ConsularClass]) -> None:
        super().__init__()
        self.choices = choices

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        if not text:
            return ""
        code = _choice_lookup(self.choices).get(text.casefold().replace(" ", "_"))
        code = code or _choice_lookup(self.choices).get(text.casefold())
        if code is None:
            raise ValueError(
                f"{_quote(text)} is not one of: {', '.join(c.value for c in self.choices)}"
            )
        return code

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


@cache
def _country_codes() -> frozenset[str]:
    return frozenset(str(code) for code, _name in countries)


class CountryWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        if not text:
            return ""
        code = text.upper()
        if len(code) == 2 and code in _country_codes():
            return code
        reason = f"{_quote(text)} is not an ISO 3166 country code"
        guess = countries.alpha2(text) or countries.by_name(text)
        if guess:
            reason += f" (did you mean {guess}?)"
        raise ValueError(reason)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(getattr(value, "code", value) or "")


class CoordinateWidget(widgets.Widget):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Decimal | None:
        text = _text(value)
        if not text:
            return None
        if "," in text and "." not in text:  # a decimal comma, as Spanish Excel writes
            text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{_quote(text)} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{_quote(text)} is not a number")
        if not -self.limit <= number <= self.limit:
            raise ValueError(f"{_quote(text)} is outside -{self.limit}…{self.limit}")
        return number.quantize(Decimal("0.000001"))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class WebsiteWidget(widgets.Widget):
    max_length = 300

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        if not text:
            return ""
        url = text if "://" in text else f"https://{text}"
        if len(url) > self.max_length:
            raise ValueError(f"is longer than {self.max_length} characters")
        try:
            _validate_url(url)
        except (ValidationError, ValueError):
            raise ValueError(
                f"{_quote(text)} is not a web address (like https://example.org)"
            ) from None
        return url

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


class RorIdWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        text = _text(value)
        if not text:
            return None
        ror_id = normalise_ror_id(text)
        if ror_id is None:
            raise ValueError(
                f"{_quote(text)} is not a ROR id (like 021018s57 or https://ror.org/021018s57)"
            )
        return ror_id

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


class WikidataIdWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        text = _text(value)
        if not text:
            return None
        match = _WIKIDATA.match(text)
        if not match:
            raise ValueError(f"{_quote(text)} is not a Wikidata id (like Q1492)")
        return match.group(1).upper()

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


class SlugWidget(widgets.Widget):
    max_length = 120

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        if not text:
            return ""
        if not slug_re.match(text):
            raise ValueError(f"{_quote(text)} is not a slug (letters, digits, - and _ only)")
        if len(text) > self.max_length:
            raise ValueError(f"is longer than {self.max_length} characters")
        return text

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


class DateWidget(widgets.Widget):
    """ISO dates (2019-10-25); spreadsheets' own date cells are taken as they are."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> datetime.date | None:
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = _text(value)
        if not text:
            return None
        try:
            return datetime.date.fromisoformat(text[:10] if text[10:11] in ("", " ", "T") else text)
        except ValueError:
            raise ValueError(f"{_quote(text)} is not a date (write it as YYYY-MM-DD)") from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.isoformat() if value else ""


class YesNoWidget(widgets.Widget):
    TRUE = frozenset({"true", "yes", "y", "1", "sí", "si", "s", "x"})
    FALSE = frozenset({"false", "no", "n", "0"})

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool | None:
        text = _text(value).casefold()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"{_quote(text)} is not yes or no (true/false)")

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else ("true" if value else "false")


class ParentWidget(widgets.Widget):
    """A parent organisation by ROR id (bare or as a URL) or by slug."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        text = _text(value)
        if not text:
            return None
        ror_id = normalise_ror_id(text)
        if ror_id:
            return f"ror:{ror_id}"
        if slug_re.match(text):
            return f"slug:{text}"
        raise ValueError(f"{_quote(text)} is neither a ROR id nor the slug of an organisation")

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        return str(value.ror_id or value.slug)


class TopicsWidget(widgets.Widget):
    """Topic slugs separated by |."""

    separator = "|"

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> tuple[str, ...] | None:
        text = _text(value)
        if not text:
            return None
        slugs = [part.strip().lower() for part in text.split(self.separator)]
        for slug in slugs:
            if slug and not slug_re.match(slug):
                raise ValueError(f"{_quote(slug)} is not a topic slug")
        return tuple(dict.fromkeys(slug for slug in slugs if slug))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        return self.separator.join(sorted(topic.slug for topic in value.all()))


def _max_length(attribute: str) -> int | None:
    return Organization._meta.get_field(attribute).max_length  # type: ignore[union-attr]


def _widget(column: str) -> widgets.Widget:
    attribute = _attribute(column)
    special: dict[str, widgets.Widget] = {
        "slug": SlugWidget(),
        "kind": ChoiceWidget(Kind),
        "sector": ChoiceWidget(Sector),
        "country": CountryWidget(),
        "latitude": CoordinateWidget(90),
        "longitude": CoordinateWidget(180),
        "website": WebsiteWidget(),
        "ror_id": RorIdWidget(),
        "wikidata_id": WikidataIdWidget(),
        "parent": ParentWidget(),
        "topics": TopicsWidget(),
        "consular_class": ChoiceWidget(ConsularClass),
        "exequatur_date": DateWidget(),
        "is_public": YesNoWidget(),
    }
    if column in special:
        return special[column]
    return TextWidget(_max_length(attribute))


@contextmanager
def progress_bars(stream: Any) -> Iterator[Progress]:
    """A progress callback that draws one tqdm bar per stage on stream."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="row", file=stream)
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


# 2. Reading files.


@dataclass
class Table:
    """A header and rows of text cells, each row with the number a person would use."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    notes: list[str] = field(default_factory=list)
    unit: str = "row"
    labels: dict[int, str] = field(default_factory=dict)
    # Rows that could not even be turned into cells (e.g. a malformed ROR record).
    errors: list[RowError] = field(default_factory=list)

    def label(self, number: int) -> str:
        return self.labels.get(number, f"{self.unit} {number}")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _normalise_header(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", _cell_text(name).strip().lstrip("\ufeff").lower())


def table_from_records(records: Sequence[Sequence[Any]], *, notes: list[str]) -> Table:
    """The first record is the header (row 1); the others are rows 2, 3, …"""
    if not records or not any(_cell_text(cell).strip() for cell in records[0]):
        raise ImportFileError(
            "The first row must hold the column names (name, kind, country, …); it is empty."
        )
    width = max(len(record) for record in records)
    header = [_normalise_header(cell) for cell in records[0]]
    header += [""] * (width - len(header))
    seen: dict[str, int] = {}
    for index, name in enumerate(header, 1):
        if name and name in seen:
            raise ImportFileError(
                f"The column {name!r} appears twice (columns {seen[name]} and {index})."
            )
        seen[name] = index
    rows = []
    for number, record in enumerate(records[1:], 2):
        cells = [_cell_text(cell) for cell in record]
        rows.append((number, cells + [""] * (width - len(cells))))
    return Table(header=header, rows=rows, notes=notes)


def _decode(data: bytes, encoding: str | None, notes: list[str]) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "This is a zip file (an XLSX workbook?), not CSV text: import it as xlsx."
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ImportFileError(
            "The file is UTF-16 text (Excel's 'Unicode text'); save it as "
            "'CSV UTF-8 (comma delimited)' and import that."
        )
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise ImportFileError(f"Unknown encoding {encoding!r}.") from None
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise ImportFileError(
                f"The file is not {encoding} text: byte 0x{data[error.start]:02x} "
                f"on line {line} cannot be read as {encoding}."
            ) from None
        notes.append(f"Read as {encoding}, as asked.")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise ImportFileError(
                f"The file is not UTF-8 text: byte 0x{data[error.start]:02x} on line {line} "
                "is not valid UTF-8. Save it as 'CSV UTF-8', or give the encoding it was "
                "saved in (e.g. cp1252 for Excel on Windows)."
            ) from None
    if "\x00" in text:
        raise ImportFileError(
            "The file contains NUL characters, so it is not CSV text "
            "(UTF-16 without a byte-order mark, or a binary file?)."
        )
    return text


def _read_csv(data: bytes, encoding: str | None) -> Table:
    notes: list[str] = []
    text = _decode(data, encoding, notes)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    if delimiter != ",":
        notes.append(f"Columns are separated by {'tabs' if delimiter == chr(9) else delimiter!r}.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:
        raise ImportFileError(
            f"The CSV cannot be read near line {reader.line_num}: {error}."
        ) from None
    return table_from_records(records, notes=notes)


def _read_xlsx(data: bytes) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # an untrusted file: whatever openpyxl trips on, the answer is the same
        raise ImportFileError(
            "The file is not an XLSX workbook (Excel 2007 or later); "
            "save it as .xlsx, or import it as CSV."
        ) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError("The workbook has no sheet.")
        records = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError("The workbook is damaged: its first sheet cannot be read.") from None
    finally:
        workbook.close()
    notes = []
    if len(workbook.worksheets) > 1:
        notes.append("Only the first sheet of the workbook was read.")
    return table_from_records(records, notes=notes)


def read_table(data: bytes, *, format: str, encoding: str | None = None) -> Table:
    """Decode and parse a CSV (UTF-8, with or without BOM) or XLSX file."""
    kind = format.lower().lstrip(".")
    if not data.strip():
        raise ImportFileError("The file is empty.")
    if kind == "csv":
        return _read_csv(data, encoding)
    if kind == "xlsx":
        return _read_xlsx(data)
    raise ImportFileError(f"Unknown format {format!r}: use csv or xlsx.")


# 3. The plan and its report.


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.where or f'row {self.row}'}, column {self.column}: {self.reason}"


@dataclass
class RowOutcome:
    """What the import does with one valid row."""

    row: int
    action: str  # new | merge | duplicate | unchanged
    name: str
    target: str = ""
    target_pk: int | None = None
    rule: str = ""
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    where: str = ""

    def __str__(self) -> str:
        where = self.where or f"row {self.row}"
        changes = "; ".join(
            f"{column} {old!r} → {new!r}" for column, (old, new) in self.changes.items()
        )
        if self.action == "new":
            return f"{where}: new organisation {self.name!r}"
        if self.action == "unchanged":
            return f"{where}: already in the directory as {self.target} ({self.rule})"
        if self.action == "merge":
            return f"{where}: merged into {self.target} ({self.rule}): {changes}"
        return f"{where}: possible duplicate of {self.target} ({self.rule}); would change {changes}"


@dataclass
class ImportReport:
    dry_run: bool = False
    merge_duplicates: bool = False
    valid_rows_only: bool = False
    columns: list[str] = field(default_factory=list)
    total_rows: int = 0
    file_errors: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: bool = False
    unit: str = "row"

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors

    def count(self, action: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.action == action)

    @property
    def created(self) -> int:
        return self.count("new")

    @property
    def merged(self) -> int:
        return self.count("merge")

    @property
    def duplicates(self) -> list[RowOutcome]:
        return [outcome for outcome in self.outcomes if outcome.action == "duplicate"]

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors})

    def summary(self) -> str:
        if self.file_errors:
            return "Nothing was imported."
        unit = self.unit
        parts = [
            f"{self.total_rows} {unit}s read",
            f"{self.created} new",
            f"{self.merged} merged",
            f"{len(self.duplicates)} possible duplicates held back",
            f"{self.unchanged} already in the directory",
            f"{len(self.invalid_rows)} {unit}s with errors",
        ]
        if self.written:
            outcome = "Written."
            if self.errors:
                outcome = f"Written, except the {unit}s with errors."
        elif self.dry_run:
            outcome = "Dry run: nothing was written."
        elif self.errors:
            outcome = "Nothing was written, because of the errors."
        else:
            outcome = "Nothing to write."
        return ", ".join(parts) + ". " + outcome

    def lines(self, *, limit: int = 1000) -> list[str]:
        """The report as lines of text: problems first, then what happens to each row."""
        lines = list(self.file_errors) + list(self.notes)
        problems = [str(error) for error in self.errors]
        problems += [str(outcome) for outcome in self.duplicates]
        lines += problems[:limit]
        if len(problems) > limit:
            lines.append(f"… and {len(problems) - limit} more.")
        if self.duplicates and not self.merge_duplicates:
            lines.append(
                f"{len(self.duplicates)} possible duplicates were not imported; "
                "merge them (their non-empty cells update the existing organisation) "
                "with --merge-duplicates."
            )
        lines.append(self.summary())
        return lines


# 4. Planning.

_EMPTY: tuple[Any, ...] = (None, "", ())


def _topics_text(topics: Iterable[str] | None) -> str:
    return "|".join(sorted(topics or ()))


class _Record:
    """An organisation as the plan sees it: one already in the directory, or a new one."""

    def __init__(
        self,
        *,
        pk: int | None,
        row: int | None,
        state: dict[str, Any],
        parent_pk: int | None = None,
        topics: frozenset[str] | None = None,
    ) -> None:
        self.pk = pk
        self.row = row
        self.state = state
        self.parent_pk = parent_pk
        self.parent_ref: str | None = None
        self.parent_row: int | None = None
        self.parent: _Record | None = None
        self.topics = topics
        self.topics_changed = False
        self.changed: set[str] = set()

    @property
    def name(self) -> str:
        names = [self.state.get(f"name_{code}") for code in [default_language(), *languages()]]
        return str(next((name for name in names if name), ""))

    @property
    def label(self) -> str:
        if self.pk is None:
            return f"row {self.row} ({self.name!r})"
        return f"{self.name!r} ({self.state.get('slug')})"


def _state_attributes() -> list[str]:
    return [
        _attribute(column)
        for column in columns()
        if column not in ("name", "description", "parent", "topics")
    ]


def _new_state() -> dict[str, Any]:
    state: dict[str, Any] = {}
    for attribute in _state_attributes():
        model_field = Organization._meta.get_field(attribute)
        state[attribute] = model_field.get_default()  # type: ignore[union-attr]
    state["is_public"] = True
    return state


class _Directory:
    """The directory as it is before the import, read once."""

    def __init__(self, *, with_topics: bool) -> None:
        attributes = _state_attributes()
        self.state: dict[int, dict[str, Any]] = {}
        self.parent: dict[int, int | None] = {}
        self.ror: dict[str, int] = {}
        self.wikidata: dict[str, int] = {}
        self.domain: dict[str, list[int]] = {}
        self.name: dict[tuple[str, str], list[int]] = {}
        self.slug: dict[str, int] = {}
        rows = Organization.objects.order_by("pk").values_list("pk", "parent_id", *attributes)
        for pk, parent_id, *values in rows.iterator(chunk_size=2000):
            state = dict(zip(attributes, values, strict=True))
            state["country"] = str(state["country"] or "")
            self.state[pk] = state
            self.parent[pk] = parent_id
            for key, index in _keys(state, RULES):
                if key in ("ror", "wikidata"):
                    getattr(self, key)[index] = pk
                else:
                    getattr(self, key).setdefault(index, []).append(pk)
            self.slug[state["slug"]] = pk
        self.topics: dict[int, frozenset[str]] = {}
        if with_topics:
            pairs: dict[int, set[str]] = {}
            through = Organization.topics.through.objects.values_list(
                "organization_id", "topic__slug"
            )
            for org_id, slug in through:
                pairs.setdefault(org_id, set()).add(slug)
            self.topics = {pk: frozenset(slugs) for pk, slugs in pairs.items()}

    def parent_refs(self, pk: int | None) -> set[str]:
        if pk is None or pk not in self.state:
            return set()
        state = self.state[pk]
        refs = {f"slug:{state['slug']}"}
        if state["ror_id"]:
            refs.add(f"ror:{state['ror_id']}")
        return refs


def _keys(state: dict[str, Any], rules: Sequence[str]) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = []
    if "ror" in rules and state.get("ror_id"):
        keys.append(("ror", state["ror_id"]))
    if "wikidata" in rules and state.get("wikidata_id"):
        keys.append(("wikidata", state["wikidata_id"]))
    if "domain" in rules:
        domain = domain_of(state.get("website") or "")
        if domain:
            keys.append(("domain", domain))
    if "name" in rules:
        name = state.get(f"name_{default_language()}") or ""
        if name:
            keys.append(("name", (sort_key(name), str(state.get("country") or ""))))
    return keys


@dataclass
class _Row:
    number: int
    where: str
    values: dict[str, Any] = field(default_factory=dict)
    parent_ref: str | None = None
    topics: tuple[str, ...] | None = None
    errors: list[RowError] = field(default_factory=list)
    keys: list[tuple[str, Any]] = field(default_factory=list)

    def error(self, column: str, reason: str) -> RowError:
        error = RowError(self.number, column, reason, self.where)
        self.errors.append(error)
        return error


def _clean_row(
    number: int,
    cells: dict[str, str],
    extra: list[tuple[int, str]],
    widgets_by_column: dict[str, widgets.Widget],
    known_topics: frozenset[str],
    where: str,
) -> _Row:
    row = _Row(number, where)
    for column, widget in widgets_by_column.items():
        if column not in cells:
            continue
        try:
            value = widget.clean(cells[column])
        except ValueError as error:
            row.error(column, str(error))
            continue
        if column == "parent":
            row.parent_ref = value
        elif column == "topics":
            row.topics = value
        elif value not in _EMPTY:
            # "name" and "name_<default>" fill the same field; columns() puts "name"
            # first, so a name_<default> cell wins.
            row.values[_attribute(column)] = value
    for index, cell in extra:
        if cell.strip():
            row.error(f"#{index}", "a value in a column that has no header")
    name_attribute = f"name_{default_language()}"
    if not row.values.get(name_attribute) and not any(
        e.column in ("name", name_attribute) for e in row.errors
    ):
        row.error("name", "a name is required")
    if not row.values.get("kind") and not any(e.column == "kind" for e in row.errors):
        row.error("kind", f"a kind is required (one of: {', '.join(k.value for k in Kind)})")
    has_lat = "latitude" in row.values
    has_lon = "longitude" in row.values
    if has_lat != has_lon and not any(e.column in ("latitude", "longitude") for e in row.errors):
        missing = "longitude" if has_lat else "latitude"
        row.error(missing, f"{'latitude' if has_lat else 'longitude'} is given, {missing} is empty")
    if row.topics:
        unknown = [slug for slug in row.topics if slug not in known_topics]
        if unknown:
            known = ", ".join(sorted(known_topics)) or "none yet"
            row.error("topics", f"unknown topic {_quote(unknown[0])} (known topics: {known})")
    if not row.errors:
        row.keys = _keys(row.values, RULES)
    return row


@dataclass
class ImportPlan:
    report: ImportReport
    new: list[_Record] = field(default_factory=list)
    merged: list[_Record] = field(default_factory=list)


class _Planner:
    """One planning pass over the clean rows (see plan_import)."""

    def __init__(
        self,
        directory: _Directory,
        rows: list[_Row],
        *,
        merge: bool,
        rules: Sequence[str],
        keep_on_merge: frozenset[str],
    ) -> None:
        self.directory = directory
        self.rows = rows
        self.merge = merge
        self.rules = rules
        self.keep_on_merge = keep_on_merge | {"slug"}
        self.touched: dict[int, _Record] = {}
        self.index: dict[str, dict[Any, list[_Record]]] = {rule: {} for rule in RULES}
        self.slugs: dict[str, _Record] = {}
        self.new: list[_Record] = []
        self.outcomes: list[RowOutcome] = []
        self.errors: list[RowError] = []
        self.defaults = _new_state()

    def _existing(self, pk: int) -> _Record:
        record = self.touched.get(pk)
        if record is None:
            record = _Record(
                pk=pk,
                row=None,
                state=dict(self.directory.state[pk]),
                parent_pk=self.directory.parent[pk],
                topics=self.directory.topics.get(pk, frozenset()),
            )
            self.touched[pk] = record
        return record

    def _candidates(self, rule: str, key: Any) -> list[_Record]:
        found = list(self.index[rule].get(key, ()))
        stored = getattr(self.directory, rule).get(key)
        if isinstance(stored, int):
            stored = [stored]
        for pk in stored or ():
            record = self._existing(pk)
            if record not in found:
                found.append(record)
        return found

    @staticmethod
    def _differs(record: _Record, row: _Row) -> bool:
        """Both have a ROR id (or a Wikidata id), and they are not the same."""
        for attribute in ("ror_id", "wikidata_id"):
            mine, theirs = row.values.get(attribute), record.state.get(attribute)
            if mine and theirs and mine != theirs:
                return True
        return False

    def _match(self, row: _Row) -> tuple[_Record | None, str]:
        strong: dict[str, _Record] = {}
        for rule, key in row.keys:
            if rule in ("ror", "wikidata") and rule in self.rules:
                found = self._candidates(rule, key)
                if found:
                    strong[rule] = found[0]
        if len(strong) == 2 and strong["ror"] is not strong["wikidata"]:
            row.error(
                "wikidata_id",
                f"{row.values['wikidata_id']} is the Wikidata id of {strong['wikidata'].label}, "
                f"but the ROR id is that of {strong['ror'].label}",
            )
            return None, ""
        for rule in ("ror", "wikidata"):
            if rule in strong:
                return strong[rule], f"{RULE_TEXT[rule]} {row.values[rule + '_id']}"
        for rule, key in row.keys:
            if rule in ("domain", "name") and rule in self.rules:
                for record in self._candidates(rule, key):
                    if not self._differs(record, row):
                        shown = key if rule == "domain" else ""
                        return record, f"{RULE_TEXT[rule]} {shown}".strip()
        return None, ""

    def _changes(self, record: _Record, row: _Row) -> dict[str, tuple[Any, Any]]:
        changes: dict[str, tuple[Any, Any]] = {}
        for attribute, value in row.values.items():
            if attribute in self.keep_on_merge:
                continue
            old = record.state.get(attribute)
            if old != value:
                changes[attribute] = (old, value)
        if "kind" in changes and "sector" not in row.values and "sector" not in self.keep_on_merge:
            # A new kind brings its sector, unless the row gives one.
            sector = SECTOR_OF_KIND[Kind(row.values["kind"])].value
            if sector != record.state.get("sector"):
                changes["sector"] = (record.state.get("sector"), sector)
        if row.parent_ref is not None:
            current = (
                {record.parent_ref}
                if record.parent_ref
                else self.directory.parent_refs(record.parent_pk)
            )
            if row.parent_ref not in current:
                changes["parent"] = (sorted(current)[0] if current else "", row.parent_ref)
        if row.topics is not None and frozenset(row.topics) != record.topics:
            changes["topics"] = (_topics_text(record.topics), _topics_text(row.topics))
        return changes

    def _apply(self, record: _Record, row: _Row, changes: dict[str, tuple[Any, Any]]) -> None:
        for attribute, (_old, new) in changes.items():
            if attribute == "parent":
                record.parent_ref, record.parent_row = new, row.number
            elif attribute == "topics":
                record.topics = frozenset(row.topics or ())
                record.topics_changed = True
            else:
                record.state[attribute] = new
                record.changed.add(attribute)

    def _add_to_index(self, record: _Record, row: _Row) -> None:
        for rule, key in row.keys:
            found = self.index[rule].setdefault(key, [])
            if record not in found:
                found.append(record)

    def run(self, invalid: set[int]) -> list[RowError]:
        """Plan every row not in invalid; returns the errors found on the way."""
        for row in self.rows:
            if row.number in invalid:
                continue
            errors_before = len(row.errors)
            record, rule = self._match(row)
            if len(row.errors) > errors_before:
                self.errors += row.errors[errors_before:]
                continue
            if record is None:
                record = self._create(row)
                if record is None:
                    self.errors += row.errors[errors_before:]
                    continue
                self.outcomes.append(RowOutcome(row.number, "new", record.name, where=row.where))
            else:
                changes = self._changes(record, row)
                target = record.label  # as the directory knows it, before this row
                if not changes:
                    action = "unchanged"
                elif self.merge:
                    action = "merge"
                    self._apply(record, row, changes)
                else:
                    action = "duplicate"
                shown = {
                    _column(attribute): (_shown(old), _shown(new))
                    for attribute, (old, new) in changes.items()
                }
                self.outcomes.append(
                    RowOutcome(
                        row.number,
                        action,
                        str(row.values.get(f"name_{default_language()}", "")),
                        target=target,
                        target_pk=record.pk,
                        rule=rule,
                        changes=shown,
                        where=row.where,
                    )
                )
            self._add_to_index(record, row)
        self._allocate_slugs()
        self._resolve_parents(invalid)
        return self.errors

    def _create(self, row: _Row) -> _Record | None:
        state = {**self.defaults, **row.values}
        slug = state.get("slug")
        if slug:
            owner = self.slugs.get(slug)
            owner_pk = self.directory.slug.get(slug)
            if owner is not None or owner_pk is not None:
                label = owner.label if owner else self._existing(owner_pk).label  # type: ignore[arg-type]
                row.error("slug", f"{_quote(slug)} is already used by {label}")
                return None
        record = _Record(pk=None, row=row.number, state=state, topics=frozenset(row.topics or ()))
        record.topics_changed = bool(row.topics)
        if row.parent_ref:
            record.parent_ref, record.parent_row = row.parent_ref, row.number
        if slug:
            self.slugs[slug] = record
        self.new.append(record)
        return record

    def _allocate_slugs(self) -> None:
        taken = set(self.directory.slug) | set(self.slugs)
        next_suffix: dict[str, int] = {}
        for record in self.new:
            if record.state.get("slug"):
                continue
            base = slugify(record.name)[:100] or "organisation"
            slug, n = base, next_suffix.get(base, 1)
            if n > 1:
                slug = f"{base}-{n}"
            while slug in taken:
                n += 1
                slug = f"{base}-{n}"
            next_suffix[base] = n
            taken.add(slug)
            record.state["slug"] = slug
            self.slugs[slug] = record

    def _lookup(self, ref: str) -> _Record | None:
        scheme, _sep, key = ref.partition(":")
        if scheme == "ror":
            found = self.index["ror"].get(key)
            if found:
                return found[0]
            pk = self.directory.ror.get(key)
        else:
            if key in self.slugs:
                return self.slugs[key]
            pk = self.directory.slug.get(key)
        return self._existing(pk) if pk is not None else None

    def _resolve_parents(self, invalid: set[int]) -> None:
        rows = {row.number: row for row in self.rows}
        bad_refs: dict[str, int] = {}
        for row in self.rows:
            if row.number in invalid:
                for ref in _refs_of(row):
                    bad_refs.setdefault(ref, row.number)
        with_parent = [r for r in [*self.new, *self.touched.values()] if r.parent_ref]
        for record in with_parent:
            row = rows[record.parent_row]  # type: ignore[index]
            wanted = str(record.parent_ref)
            parent = self._lookup(wanted)
            if parent is None:
                shown = wanted.partition(":")[2]
                if wanted in bad_refs:
                    reason = f"{_quote(shown)} is row {bad_refs[wanted]}, which has errors"
                else:
                    what = "ROR id" if wanted.startswith("ror:") else "slug"
                    reason = (
                        f"no organisation with the {what} {_quote(shown)} "
                        "in the directory or in this file"
                    )
                self.errors.append(row.error("parent", reason))
            elif parent is record:
                self.errors.append(row.error("parent", "an organisation cannot be its own parent"))
            else:
                record.parent = parent
        for record in with_parent:
            if record.parent is not None and self._loops(record):
                row = rows[record.parent_row]  # type: ignore[index]
                self.errors.append(
                    row.error("parent", f"{record.parent.label} is already below {record.label}")
                )
        # Duplicates held back are not written, but their parent cell must still make sense.
        held_back = {o.row for o in self.outcomes if o.action == "duplicate"}
        for number in sorted(held_back):
            row = rows[number]
            if row.parent_ref and self._lookup(row.parent_ref) is None:
                shown = row.parent_ref.partition(":")[2]
                self.errors.append(
                    row.error(
                        "parent",
                        f"no organisation {_quote(shown)} in the directory or in this file",
                    )
                )

    def _loops(self, record: _Record) -> bool:
        seen: set[int] = set()
        current: _Record | None = record.parent
        while current is not None:
            if current is record:
                return True
            if id(current) in seen:
                return False  # a loop above, already in the directory: not this row's doing
            seen.add(id(current))
            if current.parent is not None or current.parent_ref:
                current = current.parent
            elif current.parent_pk is not None and current.parent_pk in self.directory.state:
                current = self._existing(current.parent_pk)
            else:
                current = None
        return False


def _refs_of(row: _Row) -> set[str]:
    refs = set()
    if row.values.get("ror_id"):
        refs.add(f"ror:{row.values['ror_id']}")
    if row.values.get("slug"):
        refs.add(f"slug:{row.values['slug']}")
    return refs


def _column(attribute: str) -> str:
    if attribute == f"name_{default_language()}":
        return "name"
    if attribute == f"description_{default_language()}":
        return "description"
    return attribute


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(("ror:", "slug:")):
        return value.partition(":")[2]
    return str(value)


def plan_import(
    table: Table,
    *,
    merge_duplicates: bool,
    rules: Sequence[str] = RULES,
    keep_on_merge: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> ImportPlan:
    """Check a table and decide what to do with each row, without writing anything.

    1. Check the header: required columns present; unknown columns noted.
    2. Clean every cell; a row with any error is invalid.
    3. Match each valid row, in order, against the directory and the earlier rows;
       allocate slugs; resolve parents. Rows that fail here (a parent that is not
       found, conflicting identifiers…) become invalid and the pass runs again
       without them, so that nothing refers to a row that will not be written.
    """
    report = ImportReport(merge_duplicates=merge_duplicates, notes=list(table.notes))
    report.unit = table.unit
    known = set(columns())
    present = [name for name in table.header if name in known]
    report.columns = present
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if f"name_{default_language()}" in present and "name" in missing:
        missing.remove("name")
    if missing:
        report.file_errors.append(
            f"Missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
            f"The first row must name the columns; the importer knows: {', '.join(columns())}."
        )
        return ImportPlan(report)
    unknown = [name for name in table.header if name and name not in known]
    if unknown:
        report.notes.append(f"Ignored columns: {', '.join(unknown)}.")

    widgets_by_column = {column: _widget(column) for column in columns() if column in present}
    position = {name: index for index, name in enumerate(table.header) if name in known}
    headless = [index for index, name in enumerate(table.header) if not name]
    known_topics = frozenset(Topic.objects.values_list("slug", flat=True))
    rows: list[_Row] = []
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, 1):
        if any(cell.strip() for cell in cells):
            by_column = {name: cells[index] for name, index in position.items()}
            extra = [(index + 1, cells[index]) for index in headless]
            rows.append(
                _clean_row(
                    number,
                    by_column,
                    extra,
                    widgets_by_column,
                    known_topics,
                    table.label(number),
                )
            )
        if progress and (done % 500 == 0 or done == total):
            progress("checking", done, total)
    report.total_rows = len(rows)

    directory = _Directory(with_topics="topics" in present)
    invalid = {row.number for row in rows if row.errors}
    while True:
        planner = _Planner(
            directory, rows, merge=merge_duplicates, rules=rules, keep_on_merge=keep_on_merge
        )
        found = planner.run(invalid)
        if not found:
            break
        invalid |= {error.row for error in found}
    report.errors = sorted(
        [*table.errors, *(error for row in rows for error in row.errors)],
        key=lambda error: error.row,
    )
    report.total_rows += len({error.row for error in table.errors})
    report.outcomes = planner.outcomes
    merged = [
        record
        for record in planner.touched.values()
        if record.changed or record.topics_changed or (record.parent and record.parent_ref)
    ]
    return ImportPlan(report, new=planner.new, merged=merged)


# 5. Writing.


def _depth(record: _Record) -> int:
    depth, current = 0, record.parent
    while current is not None and current.pk is None:
        depth += 1
        current = current.parent
    return depth


def _organization(record: _Record) -> Organization:
    values = {**record.state, "id": None, "parent_id": record.parent.pk if record.parent else None}
    values["sort_name"] = sort_key(record.name)
    values["sector"] = values["sector"] or SECTOR_OF_KIND[Kind(values["kind"])]
    # Positional arguments: modeltranslation rewrites every keyword of a model's
    # constructor, which is most of the cost of building 10,000 of them.
    return Organization(*(values.get(f.attname, _DEFAULTS.get(f.attname)) for f in _FIELDS))


_FIELDS = Organization._meta.concrete_fields
_DEFAULTS: dict[str, Any] = {"consular_class": "", "jurisdiction": ""}


def _record_history(pks: list[int], *, history_type: str, by: Any, reason: str) -> None:
    """Copy the rows as they now are into the history table, inside the database.

    simple_history's bulk helpers build a Python object per row (the slowest part of
    a large import) and leave the per-language columns empty; INSERT … SELECT copies
    every column the two tables share, at once.
    """
    history = Organization.history.model  # type: ignore[attr-defined]
    source = {f.column for f in _FIELDS}
    shared = [f.column for f in history._meta.concrete_fields if f.column in source]
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in shared)
    extra = ", ".join(
        quote(column)
        for column in ("history_date", "history_type", "history_user_id", "history_change_reason")
    )
    when = connection.ops.adapt_datetimefield_value(timezone.now())
    user_id = getattr(by, "pk", None)
    with connection.cursor() as cursor:
        for start in range(0, len(pks), 500):
            batch = pks[start : start + 500]
            # Identifiers come from the models' metadata; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({names}, {extra}) "  # noqa: S608
                f"SELECT {names}, %s, %s, %s, %s FROM {quote(Organization._meta.db_table)} "
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(batch))})",
                [when, history_type, user_id, reason, *batch],
            )


def apply_plan(
    plan: ImportPlan, *, by: Any = None, reason: str = "import", progress: Progress | None = None
) -> None:
    """Write a plan: new organisations level by level (parents first), then merges."""
    total = len(plan.new) + len(plan.merged)
    done = 0
    with translation.override(default_language()):
        levels: dict[int, list[_Record]] = {}
        for record in plan.new:
            levels.setdefault(_depth(record), []).append(record)
        for depth in sorted(levels):
            records = levels[depth]
            for start in range(0, len(records), 1000):
                batch = records[start : start + 1000]
                created = Organization.objects.bulk_create([_organization(r) for r in batch])
                for org, record in zip(created, batch, strict=True):
                    record.pk = org.pk
                _record_history([r.pk for r in batch], history_type="+", by=by, reason=reason)  # type: ignore[misc]
                done += len(batch)
                if progress:
                    progress("writing", done, total)

        if plan.merged:
            orgs_by_pk = Organization.objects.in_bulk([record.pk for record in plan.merged])
            changed_fields: set[str] = {"sort_name", "updated_at"}
            now = timezone.now()
            for record in plan.merged:
                org = orgs_by_pk[record.pk]  # type: ignore[index]
                for attribute in record.changed:
                    setattr(org, attribute, record.state[attribute])
                changed_fields |= record.changed
                if record.parent_ref and record.parent is not None:
                    org.parent_id = record.parent.pk
                    changed_fields.add("parent")
                org.sort_name = sort_key(record.name)
                org.updated_at = now
            if any(attribute.startswith("name_") for attribute in changed_fields):
                changed_fields.add("name")
            Organization.objects.bulk_update(
                list(orgs_by_pk.values()), sorted(changed_fields), batch_size=500
            )
            _record_history(list(orgs_by_pk), history_type="~", by=by, reason=reason)
            done += len(plan.merged)
            if progress:
                progress("writing", done, total)

        topic_pk = dict(Topic.objects.values_list("slug", "pk"))
        through = Organization.topics.through
        with_topics = [r for r in [*plan.new, *plan.merged] if r.topics_changed]
        through.objects.filter(
            organization_id__in=[r.pk for r in with_topics if r.row is None]
        ).delete()
        through.objects.bulk_create(
            [
                through(organization_id=record.pk, topic_id=topic_pk[slug])
                for record in with_topics
                for slug in sorted(record.topics or ())
            ],
            batch_size=1000,
        )


# 6. django-import-export: the resource (columns, export, admin import) and formats.


def _default_name(org: Organization) -> str:
    for attribute in [f"name_{default_language()}", *(f"name_{code}" for code in languages())]:
        value = getattr(org, attribute, None)
        if value:
            return str(value)
    return str(org.__dict__.get("name") or "")


def _default_description(org: Organization) -> str:
    return _escape_formula(str(getattr(org, f"description_{default_language()}", "") or ""))


def _resource_fields() -> dict[str, Field]:
    result: dict[str, Field] = {}
    for column in columns():
        widget = _widget(column)
        attribute = _attribute(column)
        if column == "name":
            result[column] = Field(
                attribute=attribute,
                column_name=column,
                widget=widget,
                dehydrate_method=lambda org: _escape_formula(_default_name(org)),
            )
        elif column == "description":
            result[column] = Field(
                attribute=attribute,
                column_name=column,
                widget=widget,
                dehydrate_method=_default_description,
            )
        else:
            result[column] = Field(attribute=attribute, column_name=column, widget=widget)
    return result


class OrganizationResource(resources.ModelResource):
    """The organisation columns, for export and for the admin's import page.

    Importing goes through the same plan as the command (plan_import), so the admin's
    dry-run preview shows exactly what will be written: new rows, merges into
    existing organisations (with what changes), rows already present, and errors by
    row and column. In the admin, confirming the preview merges the duplicates it
    listed as updates.
    """

    class Meta:
        model = Organization
        fields: tuple[str, ...] = ()
        chunk_size = 2000

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields = _resource_fields()

    def get_import_order(self) -> tuple[str, ...]:
        return tuple(self.fields)

    def get_export_order(self) -> tuple[str, ...]:
        return tuple(self.fields)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Organization.objects.order_by("sort_name", "pk")

    def filter_export(self, queryset, **kwargs):  # type: ignore[no-untyped-def]
        return queryset.select_related("parent").prefetch_related("topics")

    def import_data(  # type: ignore[override]
        self,
        dataset: Dataset,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> Result:
        from diplohub.directory.services import organizations_import_table

        try:
            table = table_from_records(
                [list(dataset.headers or []), *(list(row) for row in dataset)], notes=[]
            )
        except ImportFileError as error:
            report = ImportReport(dry_run=dry_run, file_errors=[str(error)])
        else:
            report = organizations_import_table(
                table=table,
                dry_run=dry_run,
                valid_rows_only=False,
                merge_duplicates=True,
                by=kwargs.get("user"),
            )
        return report_as_result(report, table_rows=dataset)


def report_as_result(report: ImportReport, *, table_rows: Dataset) -> Result:
    """An import-export Result, so its admin preview shows our report."""
    result = Result()
    headers = ["row", "action", *report.columns]
    result.diff_headers = headers
    result.total_rows = report.total_rows
    for message in report.file_errors:
        result.append_base_error(Error(ImportFileError(message)))
    cells: dict[int, dict[str, str]] = {}
    header = [_normalise_header(name) for name in (table_rows.headers or [])]
    for number, record in enumerate(table_rows, 2):
        cells[number] = {
            name: _cell_text(value) for name, value in zip(header, record, strict=False)
        }
    by_row: dict[int, dict[str, list[str]]] = {}
    for error in report.errors:
        by_row.setdefault(error.row, {}).setdefault(error.column, []).append(error.reason)
    for number, errors in sorted(by_row.items()):
        values = {"row": str(number), "action": "", **cells.get(number, {})}
        result.append_invalid_row(number, values, ValidationError(errors))
        result.increment_row_result_total(_row_result(RowResult.IMPORT_TYPE_INVALID))
    kinds = {
        "new": RowResult.IMPORT_TYPE_NEW,
        "merge": RowResult.IMPORT_TYPE_UPDATE,
        "duplicate": RowResult.IMPORT_TYPE_UPDATE,
        "unchanged": RowResult.IMPORT_TYPE_SKIP,
    }
    for outcome in report.outcomes:
        row_result = _row_result(kinds[outcome.action])
        row_result.object_id = outcome.target_pk
        row_result.object_repr = outcome.target or outcome.name
        action = {
            "new": "new",
            "merge": f"merge into {outcome.target}: {outcome.rule}",
            "duplicate": f"duplicate of {outcome.target}: {outcome.rule}",
            "unchanged": f"already there: {outcome.target}",
        }[outcome.action]
        row_cells = cells.get(outcome.row, {})
        diff = [str(outcome.row), action]
        for column in report.columns:
            if column in outcome.changes:
                old, new = outcome.changes[column]
                diff.append(format_html("<del>{}</del> <ins>{}</ins>", old, new))
            else:
                diff.append(row_cells.get(column, ""))
        row_result.diff = diff
        result.append_row_result(row_result)
        result.increment_row_result_total(row_result)
    return result


def _row_result(import_type: str) -> RowResult:
    row_result = RowResult()
    row_result.import_type = import_type
    return row_result


class DirectoryCSV(base_formats.CSV):
    """CSV read by read_table(): UTF-8 with or without BOM, `,` `;` or tab separated."""

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> Dataset:
        return _dataset(read_table(_bytes(in_stream), format="csv"))


class DirectoryXLSX(base_formats.XLSX):
    def create_dataset(self, in_stream: Any) -> Dataset:
        return _dataset(read_table(_bytes(in_stream), format="xlsx"))


def _bytes(in_stream: Any) -> bytes:
    return in_stream.encode() if isinstance(in_stream, str) else bytes(in_stream)


def _dataset(table: Table) -> Dataset:
    dataset = Dataset(headers=table.header)
    for _number, cells in table.rows:
        dataset.append(cells)
    return dataset


def export_organizations(*, format: str, queryset: Any = None) -> bytes:
    """Every organisation (public or not) as CSV (UTF-8 with a BOM, for Excel) or XLSX."""
    dataset = OrganizationResource().export(queryset=queryset)
    if format == "csv":
        return str(dataset.export("csv")).encode("utf-8-sig")
    if format == "xlsx":
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        clean = Dataset(headers=dataset.headers)
        for row in dataset:
            clean.append(
                [ILLEGAL_CHARACTERS_RE.sub("\ufffd", c) if isinstance(c, str) else c for c in row]
            )
        return bytes(clean.export("xlsx"))
    raise ValueError(f"Unknown export format {format!r}: use csv or xlsx.")
