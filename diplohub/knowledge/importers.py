"""Import of initiatives from CSV and from another DiploHub's JSON feed, and their CSV
export (the same columns, so that an export imports again, here or at another hub).

services.initiatives_import() runs the steps:

1. read_csv() / read_feed(): refuse a file over MAX_IMPORT_BYTES before parsing it,
   decode it, follow a feed's pages (`next`, through the `fetch` the caller gives:
   the command's fetch_url(), or a fake one in tests; never another host), and give
   one `Record` per row or item. Nothing here touches the database.
2. clean(): turn each record's cells into values (vocabularies by slug or by name in
   any language, ISO country codes, dates, links, references), each problem a
   `Problem` naming the row or item, the column or field, and the reason.
3. apply(): find the initiative each record already is (the same item of the same
   source: see `_match`), and save it through services.initiative_save, the rules
   every path follows (Markdown without HTML, dates, languages, links, role
   addresses, slugs, the search index and the similar initiatives), in a savepoint
   per record so that a refused one leaves nothing behind.

An imported initiative keeps where it came from: source_name (the hub or partner),
source_url (the original page, which the initiative's page links back to) and
source_id (the original's permanent id; for another DiploHub, its `uri`). An item that
another hub had imported itself keeps its original source, so the same initiative
reached through two hubs is one initiative here. Importing the same file or feed again
updates what changed and reports the rest as unchanged; empty cells leave what is
stored.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from diplohub.directory.importers import CountryWidget, ImportFileError, read_table
from diplohub.directory.importers import _text as cell_text
from diplohub.directory.models import Organization, Topic
from diplohub.knowledge import services, slugs, validation
from diplohub.knowledge.feeds import identifier
from diplohub.knowledge.models import (
    Initiative,
    InitiativeStatus,
    InitiativeType,
    PublicationState,
    ResponseType,
)

# A callback for long jobs: progress(stage, done, total), as the directory's importers.
Progress = Callable[[str, int, int], None]
# Reads an address given by staff (a feed's page) and returns its bytes.
Fetch = Callable[[str], bytes]

FORMATS = ("csv", "json")
MAX_IMPORT_BYTES = 10 * 1024 * 1024  # a file, or each page of a feed
MAX_PAGES = 500
FETCH_TIMEOUT = 30  # seconds
TEXT_FIELDS = ("title", "summary", "body")
LIST_SEPARATOR = "|"


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def columns(*, with_contact_email: bool = True) -> list[str]:
    """The CSV columns, in the order the export writes them."""
    langs = languages()
    found = ["source_id", "source_url", "source_name"]
    for name in TEXT_FIELDS:
        found += [f"{name}_{code}" for code in langs]
    found += [
        "government",
        "city",
        "country",
        "type",
        "response_types",
        "topics",
        "languages",
        "links",
        "start_date",
        "status",
        "contact_organization",
        "contact_email",
        "related_organizations",
        "references",
    ]
    if not with_contact_email:
        found.remove("contact_email")
    return found


REQUIRED_COLUMNS = ("source_id", "government", "city", "country", "type")


def _quote(text: str) -> str:
    shown = text if len(text) <= 60 else text[:60] + "…"
    return "'" + shown + "'"


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{math.ceil(size / 1024)} KB"


def check_size(size: int, *, what: str = "") -> None:
    """Refuse anything over MAX_IMPORT_BYTES, before it is parsed."""
    if size > MAX_IMPORT_BYTES:
        raise ImportFileError(
            _("%(what)s is %(size)s; the most the importer reads is %(max)s.")
            % {"what": what or _("The file"), "size": _size(size), "max": _size(MAX_IMPORT_BYTES)}
        )


# --- The report ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    number: int
    where: str  # "row 4" or "item 12 (page 2)"
    field: str
    reason: str
    unit: str = "column"  # "column" for CSV, "field" for JSON

    def __str__(self) -> str:
        if not self.field:
            return f"{self.where}: {self.reason}"
        return f"{self.where}, {self.unit} {self.field}: {self.reason}"


@dataclass
class Outcome:
    number: int
    where: str
    action: str  # new | updated | unchanged
    title: str
    initiative_pk: int | None = None
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.action == "new":
            text = _("%(where)s: new initiative %(title)s")
        elif self.action == "updated":
            text = _("%(where)s: updates %(title)s (%(changes)s)")
        else:
            text = _("%(where)s: %(title)s is already here, unchanged")
        text %= {
            "where": self.where,
            "title": _quote(self.title),
            "changes": ", ".join(self.changes),
        }
        if self.notes:
            text += " — " + "; ".join(self.notes)
        return text


@dataclass
class ImportReport:
    format: str = "csv"
    dry_run: bool = False
    valid_rows_only: bool = False
    total: int = 0
    file_errors: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def unit(self) -> str:
        return "item" if self.format == "json" else "row"

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors

    def count(self, action: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.action == action)

    @property
    def created(self) -> int:
        return self.count("new")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def invalid(self) -> list[int]:
        return sorted({problem.number for problem in self.errors})

    def summary(self) -> str:
        if self.file_errors:
            return _("Nothing was imported.")
        if self.unit == "item":
            read = ngettext("%(count)d item read", "%(count)d items read", self.total)
        else:
            read = ngettext("%(count)d row read", "%(count)d rows read", self.total)
        counts = _(
            "%(read)s, %(new)d new, %(updated)d updated, %(unchanged)d unchanged, "
            "%(invalid)d with errors."
        ) % {
            "read": read % {"count": self.total},
            "new": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "invalid": len(self.invalid),
        }
        if self.written and self.errors:
            outcome = (
                _("Written, except the items with errors.")
                if self.unit == "item"
                else _("Written, except the rows with errors.")
            )
        elif self.written:
            outcome = _("Written.")
        elif self.dry_run:
            outcome = _("Dry run: nothing was written.")
        elif self.errors:
            outcome = _(
                "Nothing was written, because of the errors (--valid-rows-only writes the others)."
            )
        else:
            outcome = _("Nothing to write.")
        return f"{counts} {outcome}"

    def lines(self, *, limit: int = 1000) -> list[str]:
        """Problems first, then notes, then what happens to each row, then the summary."""
        found = list(self.file_errors)
        problems = [str(problem) for problem in self.errors]
        found += problems[:limit]
        if len(problems) > limit:
            found.append(_("… and %(count)d more.") % {"count": len(problems) - limit})
        found += self.notes
        found += [str(outcome) for outcome in self.outcomes[:limit]]
        if len(self.outcomes) > limit:
            found.append(_("… and %(count)d more.") % {"count": len(self.outcomes) - limit})
        found.append(self.summary())
        return found


# --- 1. Reading ------------------------------------------------------------------------------


@dataclass
class Record:
    """One row of a CSV file or one item of a feed, not yet checked."""

    number: int
    where: str
    cells: Any  # CSV: {column: text}; JSON: the item as parsed (an object, if well made)
    stray: list[int] = field(default_factory=list)  # CSV: columns with a value, no name


def read_csv(data: bytes, *, encoding: str | None = None) -> tuple[list[Record], list[str]]:
    """The rows of a CSV file (UTF-8, with or without a BOM; ',' ';' or tabs), and notes
    about the file. Raises ImportFileError for a file that cannot be read."""
    check_size(len(data))
    try:
        table = read_table(data, format="csv", encoding=encoding)
    except ImportFileError as error:
        if str(error).startswith("The first row must hold"):
            raise ImportFileError(
                _("The first row must hold the column names (%(columns)s…); it is empty.")
                % {"columns": ", ".join(REQUIRED_COLUMNS)}
            ) from None
        raise
    header = table.header
    notes = list(table.notes)
    aliases = {name: f"{name}_{settings.LANGUAGE_CODE}" for name in TEXT_FIELDS}
    known = set(columns())
    for alias, column in aliases.items():
        if alias in header and column in header:
            raise ImportFileError(
                _(
                    "The columns %(alias)s and %(column)s are the same (%(alias)s is the hub's "
                    "default language); keep one."
                )
                % {"alias": alias, "column": column}
            )
    header = [aliases.get(name, name) for name in header]
    has_title = any(f"title_{code}" in header for code in languages())
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if not has_title:
        missing.insert(1, "title")
    if missing:
        raise ImportFileError(
            _("Missing columns: %(missing)s. The columns are: %(columns)s.")
            % {"missing": ", ".join(missing), "columns": ", ".join(columns())}
        )
    unknown = [name for name in header if name and name not in known]
    if unknown:
        notes.append(
            _("Columns the importer does not know, left out: %(columns)s.")
            % {"columns": ", ".join(unknown)}
        )
    records = []
    for number, cells in table.rows:
        if not any(cell.strip() for cell in cells):
            continue  # a blank row
        stray = [
            index + 1 for index, name in enumerate(header) if not name and cells[index].strip()
        ]
        values = {name: cells[index] for index, name in enumerate(header) if name in known}
        where = _("row %(n)d") % {"n": number}
        records.append(Record(number=number, where=where, cells=values, stray=stray))
    return records, notes


def _same_site(first: str, other: str) -> bool:
    a, b = urlsplit(first), urlsplit(other)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def read_feed(
    data: bytes,
    *,
    url: str = "",
    fetch: Fetch | None = None,
    progress: Progress | None = None,
) -> tuple[list[Record], list[str]]:
    """The items of another DiploHub's initiatives list (`/api/v1/initiatives`), page
    after page while `next` leads on and `fetch` is given; or of a JSON file holding
    one such page, or a list of items. Raises ImportFileError with a message for a
    person."""
    notes: list[str] = []
    records: list[Record] = []
    seen = {url} if url else set()
    page_number, address = 1, url
    while True:
        check_size(len(data), what=_("Page %(n)d") % {"n": page_number} if page_number > 1 else "")
        items, following, pages = _feed_page(data, page_number, address)
        for item in items:
            number = len(records) + 1
            where = (
                _("item %(n)d (page %(page)d)") % {"n": number, "page": page_number}
                if following or page_number > 1
                else _("item %(n)d") % {"n": number}
            )
            records.append(Record(number=number, where=where, cells=item))
        if not following:
            break
        following = urljoin(address or following, following)
        if fetch is None:
            notes.append(
                _(
                    "The file is one page of a feed; only its items were read. Give the "
                    "feed's address (%(next)s…) to read every page."
                )
                % {"next": following}
            )
            break
        if address and not _same_site(address, following):
            raise ImportFileError(
                _(
                    "Page %(n)d leads to %(next)s, another site than the feed's; stopped there, "
                    "nothing was imported."
                )
                % {"n": page_number, "next": following}
            )
        if following in seen:
            raise ImportFileError(
                _("Page %(n)d leads back to %(next)s, a page already read: the feed loops.")
                % {"n": page_number, "next": following}
            )
        if page_number >= MAX_PAGES:
            raise ImportFileError(
                _(
                    "The feed has more than %(max)d pages; import it in parts (e.g. with "
                    "?updated_since=…)."
                )
                % {"max": MAX_PAGES}
            )
        seen.add(following)
        page_number += 1
        address = following
        if progress:
            progress("reading pages", page_number, max(pages, page_number))
        data = fetch(following)
    return records, notes


def _feed_page(data: bytes, number: int, address: str) -> tuple[list[Any], str | None, int]:
    """A page's items, the address of the next page, and the number of pages it says
    the feed has (0: it does not say)."""
    where = _("page %(n)d") % {"n": number} if number > 1 else _("the file")
    if address:
        where += f" ({address})"
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFileError(
            _("%(where)s is not UTF-8 text, so not JSON.") % {"where": where.capitalize()}
        ) from None
    except json.JSONDecodeError as error:
        raise ImportFileError(
            _("%(where)s is not JSON: %(error)s (line %(line)d, column %(column)d).")
            % {
                "where": where.capitalize(),
                "error": error.msg,
                "line": error.lineno,
                "column": error.colno,
            }
        ) from None
    if isinstance(parsed, list):
        return parsed, None, 1
    if not isinstance(parsed, dict) or not isinstance(parsed.get("items"), list):
        raise ImportFileError(
            _(
                "%(where)s is not a list of initiatives: a DiploHub feed is a JSON object with "
                "'items' (as /api/v1/initiatives answers), or a JSON list of items."
            )
            % {"where": where.capitalize()}
        )
    items = parsed["items"]
    sample = next((item for item in items if isinstance(item, dict)), None)
    if sample is not None and "government" not in sample and "type" not in sample:
        raise ImportFileError(
            _(
                "%(where)s lists something other than initiatives (its items have no "
                "'government' or 'type'); give the address of /api/v1/initiatives."
            )
            % {"where": where.capitalize()}
        )
    following = parsed.get("next")
    if following is not None and not isinstance(following, str):
        following = None
    pages = parsed.get("pages")
    return items, following or None, pages if isinstance(pages, int) and pages > 0 else 0


def fetch_url(url: str, *, timeout: float = FETCH_TIMEOUT) -> bytes:
    """Read an address staff gave (the import command's only network access): http or
    https only, within a timeout, and no more than MAX_IMPORT_BYTES."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ImportFileError(
            _("%(url)s is not a web address (http:// or https://).") % {"url": url}
        )
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, headers={"Accept": "application/json", "User-Agent": "DiploHub import"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            length = response.headers.get("Content-Length")
            if length and length.isdigit():
                check_size(int(length), what=url)
            body = response.read(MAX_IMPORT_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise ImportFileError(
            _("%(url)s answered %(status)d %(reason)s.")
            % {"url": url, "status": error.code, "reason": error.reason}
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise ImportFileError(
            _("%(url)s could not be read: %(reason)s.") % {"url": url, "reason": reason}
        ) from None
    check_size(len(body), what=url)
    return body


# --- 2. Cleaning ---------------------------------------------------------------------------


@dataclass
class Incoming:
    """A record's values, cleaned. None: not given (what is stored stays)."""

    number: int
    where: str
    values: dict[str, Any]  # model attributes
    topics: list[Topic] | None = None
    response_types: list[ResponseType] | None = None
    related_organizations: list[Organization] | None = None
    references: list[services.ReferenceIn] | None = None
    labels: dict[str, str] = field(default_factory=dict)  # attribute -> column or field
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        values = self.values
        return values["source_id"], values.get("source_url", ""), values.get("source_name", "")


class _Refused(ValueError):
    def __init__(self, label: str, reason: str) -> None:
        super().__init__(reason)
        self.label = label
        self.reason = reason


class Lookups:
    """Vocabularies and organisations, looked up once per distinct value and import."""

    def __init__(self) -> None:
        self._vocabulary: dict[tuple[type, str], Any] = {}
        self._organizations: dict[tuple[str, str], Organization | None] = {}

    def vocabulary(self, model: type[Any], value: str) -> Any:
        key = (model, value.strip().casefold())
        if key not in self._vocabulary:
            try:
                self._vocabulary[key] = services.vocabulary_resolve(model, value)
            except ValidationError as error:
                self._vocabulary[key] = ValueError(" ".join(error.messages))
        found = self._vocabulary[key]
        if isinstance(found, ValueError):
            raise found
        return found

    def organization(self, kind: str, value: str) -> Organization | None:
        key = (kind, value.strip().casefold())
        if not key[1]:
            return None
        if key not in self._organizations:
            organizations = Organization.objects.all()
            if kind == "name":
                match = Q()
                for code in languages():
                    match |= Q(**{f"name_{code}__iexact": value.strip()})
                organizations = organizations.filter(match)
            else:
                organizations = organizations.filter(**{kind: value.strip()})
            self._organizations[key] = organizations.order_by("pk").first()
        return self._organizations[key]


def _date(text: str) -> datetime.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text[:10] if text[10:11] in ("", "T", " ") else text)
    except ValueError:
        raise ValueError(
            _("%(value)s is not a date (write it as YYYY-MM-DD)") % {"value": _quote(text)}
        ) from None


def _status(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    for choice in InitiativeStatus:
        if text.casefold() in (choice.value, str(choice.label).casefold()):
            return choice.value
        for code in languages():
            with translation.override(code):
                if text.casefold() == str(choice.label).casefold():
                    return choice.value
    raise ValueError(
        _("%(value)s is not a status (%(known)s)")
        % {"value": _quote(text), "known": ", ".join(InitiativeStatus.values)}
    )


def _languages(codes: list[str]) -> list[str]:
    try:
        return validation.clean_languages([code for code in codes if code])
    except ValidationError as error:
        raise ValueError(" ".join(error.messages)) from None


def _links(links: Any) -> list[dict[str, str]]:
    try:
        return validation.clean_links(links)
    except ValidationError as error:
        raise ValueError(" ".join(error.messages)) from None


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def _link(text: str) -> dict[str, str]:
    """'https://…' or 'x https://x.com/…' (a kind, then the address)."""
    parts = text.split()
    if len(parts) == 1:
        return {"kind": validation.link_kind_of(parts[0]), "url": parts[0]}
    if len(parts) == 2 and "://" not in parts[0]:
        return {"kind": parts[0].lower(), "url": parts[1]}
    raise ValueError(
        _(
            "%(value)s is not a link: write an address (https://…), or a kind and an "
            "address (x https://x.com/…); separate links with |"
        )
        % {"value": _quote(text)}
    )


def _reference_line(text: str, number: int) -> services.ReferenceIn:
    """Line `number` of a references cell: outlet | title | date | language | address.
    The title may hold a |, the address is last; date and language may be empty."""
    parts = [part.strip() for part in text.split(LIST_SEPARATOR)]
    if len(parts) < 5:
        raise ValueError(
            _(
                "line %(n)d: %(value)s has %(count)d parts; a reference is outlet | title | "
                "date | language | address"
            )
            % {"n": number, "value": _quote(text), "count": len(parts)}
        )
    outlet, *title, date, language, url = parts
    try:
        when = _date(date)
    except ValueError as error:
        raise ValueError(_("line %(n)d: %(reason)s") % {"n": number, "reason": error}) from None
    return services.ReferenceIn(
        outlet=outlet,
        title=" | ".join(title),
        url=url,
        date=when,
        language=language.lower(),
    )


def _default_texts_filled(values: dict[str, Any]) -> str:
    """Fill the default language's empty texts from the first language that has a
    title, as the public submission does, so that the item has a title everywhere
    until it is translated. Returns that language, or "" when nothing was filled."""
    default = settings.LANGUAGE_CODE
    if values.get(f"title_{default}"):
        return ""
    for code in languages():
        if values.get(f"title_{code}"):
            for name in TEXT_FIELDS:
                if not values.get(f"{name}_{default}") and values.get(f"{name}_{code}"):
                    values[f"{name}_{default}"] = values[f"{name}_{code}"]
            return code
    return ""


class _Cleaner:
    """Collects a record's values and its problems."""

    def __init__(self, record: Record, unit: str) -> None:
        self.record = record
        self.unit = unit
        self.problems: list[Problem] = []
        self.incoming = Incoming(number=record.number, where=record.where, values={})

    def problem(self, label: str, reason: str) -> None:
        self.problems.append(
            Problem(
                number=self.record.number,
                where=self.record.where,
                field=label,
                reason=reason,
                unit=self.unit,
            )
        )

    def set(self, attribute: str, label: str, value: Any) -> None:
        """Keep a value; None or empty (refused, or not given) keeps nothing."""
        if value in (None, "", []):
            return
        self.incoming.values[attribute] = value
        self.incoming.labels[attribute] = label

    def run(self, label: str, step: Callable[..., Any], *args: Any) -> Any:
        """step(*args), or None with the problem recorded under `label` (or under the
        label a _Refused names)."""
        try:
            return step(*args)
        except _Refused as refused:
            self.problem(refused.label, refused.reason)
        except ValueError as error:
            self.problem(label, str(error))
        return None


def _source_checks(cleaner: _Cleaner, labels: dict[str, str]) -> None:
    own_host = urlsplit(settings.SITE_URL).hostname or "localhost"
    values = cleaner.incoming.values
    if not values.get("source_id"):
        cleaner.problem(
            labels["source_id"],
            _(
                "empty; each initiative needs its id at its source, so that importing again "
                "updates it rather than adding it twice"
            ),
        )
    elif values["source_id"].startswith(f"tag:{own_host},"):
        cleaner.problem(
            labels["source_id"],
            _(
                "%(value)s is one of this hub's own initiatives; it is not imported into the "
                "hub it comes from"
            )
            % {"value": _quote(values["source_id"])},
        )
    if not values.get("source_name"):
        cleaner.problem(
            labels["source_name"], _("empty; name the source here or with --source-name")
        )


def clean_csv_row(
    record: Record, *, lookups: Lookups, source_name: str
) -> tuple[Incoming, list[Problem]]:
    cleaner = _Cleaner(record, "column")
    incoming = cleaner.incoming
    for index in record.stray:
        cleaner.problem(str(index), _("has a value but no column name in the first row"))
    text: dict[str, str] = {}
    for column, cell in record.cells.items():
        value = cleaner.run(column, cell_text, cell)
        text[column] = value or ""
    for column in ("source_id", "source_url", "source_name", "government", "city"):
        if text.get(column):
            cleaner.set(column, column, text[column])
    if text.get("contact_email"):
        cleaner.set("contact_email", "contact_email", text["contact_email"])
    if source_name and not incoming.values.get("source_name"):
        cleaner.set("source_name", "source_name", source_name)
    for name in TEXT_FIELDS:
        for code in languages():
            column = f"{name}_{code}"
            if text.get(column):
                cleaner.set(column, column, text[column])
    if text.get("country"):
        cleaner.set("country", "country", cleaner.run("country", _country, text["country"]))
    if text.get("type"):
        found = cleaner.run("type", lookups.vocabulary, InitiativeType, text["type"])
        cleaner.set("initiative_type", "type", found)
    for column, model in (("response_types", ResponseType), ("topics", Topic)):
        if text.get(column):
            entries = [
                cleaner.run(column, lookups.vocabulary, model, part)
                for part in _split(text[column])
            ]
            if all(entry is not None for entry in entries):
                setattr(incoming, column, list(dict.fromkeys(entries)))
                incoming.labels[column] = column
    if text.get("languages"):
        codes = re.split(r"[|,;\s]+", text["languages"].strip())
        cleaner.set("languages", "languages", cleaner.run("languages", _languages, codes))
    if text.get("links"):
        links = [cleaner.run("links", _link, part) for part in _split(text["links"])]
        if all(links):
            cleaner.set("links", "links", cleaner.run("links", _links, links))
    if text.get("start_date"):
        cleaner.set(
            "start_date", "start_date", cleaner.run("start_date", _date, text["start_date"])
        )
    if text.get("status"):
        cleaner.set("status", "status", cleaner.run("status", _status, text["status"]))
    if text.get("contact_organization"):
        contact = _organizations([{"slug": text["contact_organization"]}], lookups, incoming)
        if contact:
            cleaner.set("contact_organization", "contact_organization", contact[0])
    if text.get("related_organizations"):
        refs = [{"slug": part} for part in _split(text["related_organizations"])]
        incoming.related_organizations = _organizations(refs, lookups, incoming)
        incoming.labels["related_organizations"] = "related_organizations"
    if text.get("references"):
        lines = [line for line in enumerate(text["references"].splitlines(), 1) if line[1].strip()]
        references = [
            cleaner.run("references", _reference_line, line, number) for number, line in lines
        ]
        if all(references):
            incoming.references = references
            incoming.labels["references"] = "references"
    _source_checks(cleaner, {"source_id": "source_id", "source_name": "source_name"})
    filled = _default_texts_filled(incoming.values)
    if filled:
        incoming.notes.append(_no_default_title(filled))
    return incoming, cleaner.problems


def _country(text: str) -> str:
    return str(CountryWidget().clean(text))


def _no_default_title(filled: str) -> str:
    return _("no text in %(default)s, the hub's default language: the %(code)s one stands in") % {
        "default": settings.LANGUAGE_CODE,
        "code": filled,
    }


def _organizations(refs: Iterable[Any], lookups: Lookups, incoming: Incoming) -> list[Organization]:
    """Organisations of this directory matching another's references (ROR id, Wikidata
    id, slug, then name); those not found are noted and left out, not refused: another
    hub's directory is not ours."""
    found: list[Organization] = []
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        match = None
        for kind in ("ror_id", "wikidata_id", "slug", "name"):
            value = ref.get(kind)
            if isinstance(value, str) and value.strip():
                match = lookups.organization(kind, value)
                if match is not None:
                    break
        if match is None:
            shown = ref.get("name") or ref.get("slug") or "?"
            incoming.notes.append(
                _("organisation %(value)s is not in the directory, left out")
                % {"value": _quote(str(shown))}
            )
        elif match not in found:
            found.append(match)
    return found


def _json_text(value: Any, label: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Refused(label, _("is not text"))
    try:
        return cell_text(value)
    except ValueError as error:
        raise _Refused(label, str(error)) from None


def _vocabulary_ref(lookups: Lookups, model: type[Any], ref: Any, label: str) -> Any:
    """A vocabulary entry from another hub: {slug, name, names} (or a bare slug), found
    here by slug, else by any of its names."""
    if isinstance(ref, str):
        ref = {"slug": ref}
    if not isinstance(ref, dict):
        raise _Refused(label, _("is not a vocabulary entry ({slug, name, names})"))
    names = ref.get("names") if isinstance(ref.get("names"), dict) else {}
    candidates = [ref.get("slug"), ref.get("name"), *names.values()]
    candidates = [c for c in candidates if isinstance(c, str) and c.strip()]
    if not candidates:
        raise _Refused(label, _("has neither a slug nor a name"))
    first_error: ValueError | None = None
    for candidate in candidates:
        try:
            return lookups.vocabulary(model, candidate)
        except ValueError as error:
            first_error = first_error or error
    raise _Refused(label, str(first_error))


def clean_feed_item(
    record: Record, *, lookups: Lookups, source_name: str, feed_host: str
) -> tuple[Incoming, list[Problem]]:
    cleaner = _Cleaner(record, "field")
    incoming = cleaner.incoming
    item = record.cells
    if not isinstance(item, dict):
        cleaner.problem("", _("is not a JSON object"))
        return incoming, cleaner.problems
    _feed_texts(cleaner, item)
    for name in ("government", "city"):
        cleaner.set(name, name, cleaner.run(name, _json_text, item.get(name), name))
    country = cleaner.run("country", _json_text, item.get("country"), "country")
    if country:
        cleaner.set("country", "country", cleaner.run("country", _country, country))
    if item.get("type") is not None:
        kind = cleaner.run("type", _vocabulary_ref, lookups, InitiativeType, item["type"], "type")
        cleaner.set("initiative_type", "type", kind)
    for name, model in (("response_types", ResponseType), ("topics", Topic)):
        refs = item.get(name)
        if refs in (None, []):
            continue
        if not isinstance(refs, list):
            cleaner.problem(name, _("is not a list"))
            continue
        entries = [
            cleaner.run(name, _vocabulary_ref, lookups, model, ref, f"{name}.{n}")
            for n, ref in enumerate(refs)
        ]
        if all(entry is not None for entry in entries):
            setattr(incoming, name, list(dict.fromkeys(entries)))
            incoming.labels[name] = name
    codes = item.get("languages")
    if codes not in (None, []):
        if isinstance(codes, list) and all(isinstance(code, str) for code in codes):
            cleaner.set("languages", "languages", cleaner.run("languages", _languages, codes))
        else:
            cleaner.problem("languages", _("is not a list of language codes"))
    if item.get("links") not in (None, []):
        cleaner.set("links", "links", cleaner.run("links", _links, item["links"]))
    for name, parse in (("start_date", _date), ("status", _status)):
        value = cleaner.run(name, _json_text, item.get(name), name)
        if value:
            cleaner.set(name, name, cleaner.run(name, parse, value))
    contact = item.get("contact_organization")
    if isinstance(contact, dict):
        found = _organizations([contact], lookups, incoming)
        if found:
            cleaner.set("contact_organization", "contact_organization", found[0])
    related = item.get("related_organizations")
    if isinstance(related, list) and related:
        incoming.related_organizations = _organizations(related, lookups, incoming)
        incoming.labels["related_organizations"] = "related_organizations"
    refs = item.get("references")
    if refs not in (None, []):
        if not isinstance(refs, list):
            cleaner.problem("references", _("is not a list"))
        else:
            references = [
                cleaner.run(f"references.{n}", _feed_reference, ref) for n, ref in enumerate(refs)
            ]
            if all(references):
                incoming.references = references
                incoming.labels["references"] = "references"
    if item.get("published"):
        published = cleaner.run("published", _moment, item["published"])
        if published is not None:
            incoming.values["published_at"] = published
    _feed_source(cleaner, item, source_name=source_name, feed_host=feed_host)
    _source_checks(cleaner, {"source_id": "uri", "source_name": "source.name"})
    filled = _default_texts_filled(incoming.values)
    if filled:
        incoming.notes.append(_no_default_title(filled))
    return incoming, cleaner.problems


def _feed_texts(cleaner: _Cleaner, item: dict[str, Any]) -> None:
    """Title, summary and body in every language of this hub the item has; without
    `translations`, its title, summary and body count as the default language's."""
    translations = item.get("translations")
    if not isinstance(translations, dict):
        for name in TEXT_FIELDS:
            value = cleaner.run(name, _json_text, item.get(name), name)
            cleaner.set(f"{name}_{settings.LANGUAGE_CODE}", name, value)
        return
    for code, texts in translations.items():
        if code not in languages():
            if isinstance(texts, dict) and any(texts.values()):
                cleaner.incoming.notes.append(
                    _("texts in %(code)s left out (not a language of this hub)") % {"code": code}
                )
            continue
        if not isinstance(texts, dict):
            cleaner.problem(f"translations.{code}", _("is not an object"))
            continue
        for name in TEXT_FIELDS:
            label = f"translations.{code}.{name}"
            cleaner.set(
                f"{name}_{code}", label, cleaner.run(label, _json_text, texts.get(name), label)
            )


def _moment(value: Any) -> datetime.datetime:
    try:
        when = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        raise ValueError(_("is not a date and time (ISO 8601)"))
    return timezone.make_aware(when, datetime.UTC) if timezone.is_naive(when) else when


def _feed_reference(ref: Any) -> services.ReferenceIn:
    if not isinstance(ref, dict):
        raise ValueError(_("is not an object"))
    values = {}
    for name in ("outlet", "title", "url", "date", "language"):
        value = ref.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(_("%(name)s is not text") % {"name": name})
        values[name] = (value or "").strip()
    return services.ReferenceIn(
        outlet=values["outlet"],
        title=values["title"],
        url=values["url"],
        date=_date(values["date"]),
        language=values["language"].lower(),
    )


def _feed_source(
    cleaner: _Cleaner, item: dict[str, Any], *, source_name: str, feed_host: str
) -> None:
    """Where the item comes from: its own `source` if the other hub had imported it,
    else the other hub (its page and its permanent id)."""
    original = item.get("source")
    if isinstance(original, dict) and isinstance(original.get("id"), str) and original["id"]:
        for name in ("name", "url", "id"):
            label = f"source.{name}"
            value = cleaner.run(label, _json_text, original.get(name), label)
            cleaner.set(f"source_{name}", label, value)
        return
    cleaner.set("source_id", "uri", cleaner.run("uri", _json_text, item.get("uri"), "uri"))
    urls = item.get("urls") if isinstance(item.get("urls"), dict) else {}
    page = urls.get(settings.LANGUAGE_CODE) or item.get("url")
    cleaner.set("source_url", "url", cleaner.run("url", _json_text, page, "url"))
    cleaner.set("source_name", "source.name", source_name or feed_host)


# --- 3. Writing --------------------------------------------------------------------------------


def _match(incoming: Incoming, candidates: list[Initiative]) -> Initiative | None:
    """The same item of the same source: the same source id, and the same original
    address or the same source name (so that a source's page may move, and a source
    may be renamed, without the initiative being doubled)."""
    source_id, source_url, source_name = incoming.key
    for initiative in candidates:
        if initiative.source_id != source_id:
            continue
        if (source_url and initiative.source_url == source_url) or (
            source_name and initiative.source_name == source_name
        ):
            return initiative
    return None


def _state_of(initiative: Initiative) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for f in initiative._meta.concrete_fields:
        state[f.attname] = getattr(initiative, f.attname)
    state["country"] = str(initiative.country or "")
    return state


def _relations_of(initiative: Initiative) -> dict[str, Any]:
    if not initiative.pk:
        return {
            "topics": set(),
            "response_types": set(),
            "related_organizations": set(),
            "references": [],
        }
    return {
        "topics": set(initiative.topics.values_list("pk", flat=True)),
        "response_types": set(initiative.response_types.values_list("pk", flat=True)),
        "related_organizations": set(initiative.related_organizations.values_list("pk", flat=True)),
        "references": [
            (r.outlet, r.title, r.url, r.date, r.language) for r in initiative.references.all()
        ],
    }


def _incoming_relations(incoming: Incoming) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ("topics", "response_types", "related_organizations"):
        values = getattr(incoming, name)
        if values is not None:
            found[name] = {value.pk for value in values}
    if incoming.references is not None:
        found["references"] = [
            (r.outlet.strip(), r.title.strip(), r.url.strip(), r.date, (r.language or "").strip())
            for r in incoming.references
        ]
    return found


def _label_of(incoming: Incoming, name: str, unit: str) -> str:
    """The column (CSV) or field (JSON) that gave a model attribute."""
    if name in incoming.labels:
        return incoming.labels[name]
    if name.endswith("_id") and name[:-3] in incoming.labels:
        return incoming.labels[name[:-3]]
    if unit == "field":
        text, _sep, code = name.rpartition("_")
        if text in TEXT_FIELDS and code in languages():
            return f"translations.{code}.{text}"
        return {"initiative_type": "type", "source_id": "uri", "source_url": "url"}.get(name, name)
    return {"initiative_type": "type"}.get(name, name)


def apply(
    records: list[Incoming],
    report: ImportReport,
    *,
    draft: bool,
    progress: Progress | None = None,
) -> None:
    """Save every clean record, each in a savepoint; record the outcomes and the
    problems the rules find in report."""
    ids = [incoming.values["source_id"] for incoming in records]
    candidates: dict[str, list[Initiative]] = {}
    stored = Initiative.objects.filter(source_id__in=ids)  # type: ignore[misc]
    for initiative in stored.exclude(source_id=""):
        candidates.setdefault(initiative.source_id, []).append(initiative)
    for done, incoming in enumerate(records, 1):
        if progress:
            progress("importing", done, len(records))
        source_id = incoming.values["source_id"]
        outcome, saved = _apply_one(incoming, candidates.get(source_id, []), report, draft=draft)
        if outcome is not None:
            report.outcomes.append(outcome)
        if outcome is not None and outcome.action == "new":
            candidates.setdefault(source_id, []).append(saved)


def _apply_one(
    incoming: Incoming, candidates: list[Initiative], report: ImportReport, *, draft: bool
) -> tuple[Outcome | None, Initiative]:
    unit = "field" if report.format == "json" else "column"
    existing = _match(incoming, candidates)
    initiative = existing or Initiative()
    before, relations_before = _state_of(initiative), _relations_of(initiative)
    values = dict(incoming.values)
    published_at = values.pop("published_at", None)
    for name, value in values.items():
        setattr(initiative, name, value)
    if existing is None:
        if draft:
            initiative.state = PublicationState.DRAFT
        else:
            initiative.state = PublicationState.PUBLISHED
            initiative.published_at = published_at or timezone.now()
    after, relations_after = _state_of(initiative), _incoming_relations(incoming)
    changed = [
        _label_of(incoming, name, unit)
        for name in after
        if after[name] != before[name] and name not in ("updated_at", "state", "published_at")
    ]
    changed += [
        _label_of(incoming, name, unit)
        for name, value in relations_after.items()
        if value != relations_before[name]
    ]
    title = initiative.title or incoming.values.get(f"title_{settings.LANGUAGE_CODE}", "")
    if existing is not None and not changed:
        unchanged = Outcome(
            number=incoming.number,
            where=incoming.where,
            action="unchanged",
            title=title,
            initiative_pk=existing.pk,
            notes=incoming.notes,
        )
        return unchanged, existing
    if existing is None:
        missing = [
            label
            for attribute, label in (
                ("government", "government"),
                ("city", "city"),
                ("country", "country"),
                ("initiative_type", "type"),
            )
            if not incoming.values.get(attribute)
        ]
        if missing:
            for label in missing:
                report.errors.append(
                    Problem(
                        number=incoming.number,
                        where=incoming.where,
                        field=label,
                        reason=_("empty; a new initiative needs it"),
                        unit=unit,
                    )
                )
            return None, initiative
    try:
        with transaction.atomic():
            services.initiative_save(
                initiative=initiative,
                topics=incoming.topics,
                response_types=incoming.response_types,
                related_organizations=incoming.related_organizations,
                references=incoming.references,
            )
    except ValidationError as error:
        _restore(initiative, before)
        if _same_source_item(error):
            report.errors.append(_stored_meanwhile(incoming, unit))
            return None, initiative
        for name, messages in _messages_by_field(error):
            for message in messages:
                report.errors.append(
                    Problem(
                        number=incoming.number,
                        where=incoming.where,
                        field="" if name == NON_FIELD_ERRORS else _label_of(incoming, name, unit),
                        reason=message,
                        unit=unit,
                    )
                )
        return None, initiative
    except IntegrityError:
        _restore(initiative, before)
        report.errors.append(_stored_meanwhile(incoming, unit))
        return None, initiative
    saved = Outcome(
        number=incoming.number,
        where=incoming.where,
        action="updated" if existing is not None else "new",
        title=initiative.title,
        initiative_pk=initiative.pk,
        changes=list(dict.fromkeys(changed)),
        notes=incoming.notes,
    )
    return saved, initiative


def _same_source_item(error: ValidationError) -> bool:
    """The model's check of one_initiative_per_source_item: the item was not here when
    the import looked, so another import (or an edit) stored it since."""
    messages = getattr(error, "error_dict", {}).get(NON_FIELD_ERRORS, [])
    return any("one_initiative_per_source_item" in " ".join(m.messages) for m in messages)


def _stored_meanwhile(incoming: Incoming, unit: str) -> Problem:
    return Problem(
        number=incoming.number,
        where=incoming.where,
        field=_label_of(incoming, "source_id", unit),
        reason=_(
            "another import or an edit stored this item at the same time; run the import again"
        ),
        unit=unit,
    )


def _restore(initiative: Initiative, state: dict[str, Any]) -> None:
    """After a refused save, the instance in memory is what the database holds again."""
    for name, value in state.items():
        if name != "country":
            setattr(initiative, name, value)
    initiative.country = state["country"]


def _messages_by_field(error: ValidationError) -> list[tuple[str, list[str]]]:
    """A field's first message (the rules' own; the model's generic twin, such as
    "Enter a valid URL.", would only repeat it), but every reference's."""
    if not hasattr(error, "error_dict"):
        return [("", list(error.messages))]
    return [
        (name, list(messages) if name == "references" else list(messages)[:1])
        for name, messages in error.message_dict.items()
    ]


def check_duplicates(records: list[Incoming], *, unit: str) -> list[Problem]:
    """Two rows of one file for the same source item: the later one is refused."""
    first: dict[tuple[str, str], Incoming] = {}
    problems = []
    for incoming in records:
        source_id, source_url, source_name = incoming.key
        keys = [(source_id, "url:" + source_url)] if source_url else []
        keys.append((source_id, "name:" + source_name))
        earlier = next((first[key] for key in keys if key in first), None)
        if earlier is not None:
            problems.append(
                Problem(
                    number=incoming.number,
                    where=incoming.where,
                    field=_label_of(incoming, "source_id", unit),
                    reason=_("the same item as %(where)s") % {"where": earlier.where},
                    unit=unit,
                )
            )
            continue
        for key in keys:
            first[key] = incoming
    return problems


# --- Export -----------------------------------------------------------------------------------


def _csv_cell(value: object) -> str:
    # As events.views._csv_cell: a cell starting with one of these would run as a
    # formula in a spreadsheet; the importer removes the apostrophe again.
    text = str(value or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _export_row(initiative: Initiative, page: str) -> list[str]:
    if initiative.source_id:
        source = [initiative.source_id, initiative.source_url, initiative.source_name]
    else:
        source = [identifier(initiative), page, settings.HUB_NAME]
    row = list(source)
    for name in TEXT_FIELDS:
        row += [getattr(initiative, f"{name}_{code}", "") or "" for code in languages()]
    contact = initiative.contact_organization
    row += [
        initiative.government,
        initiative.city,
        str(initiative.country or ""),
        initiative.initiative_type.slug,
        LIST_SEPARATOR.join(kind.slug for kind in initiative.response_types.all()),
        LIST_SEPARATOR.join(topic.slug for topic in initiative.topics.all()),
        LIST_SEPARATOR.join(str(code) for code in initiative.languages or []),
        LIST_SEPARATOR.join(
            f"{link.get('kind') or 'web'} {link['url']}"
            for link in initiative.links or []
            if isinstance(link, dict) and link.get("url")
        ),
        initiative.start_date.isoformat() if initiative.start_date else "",
        initiative.status,
        contact.slug if contact is not None and contact.is_public else "",
        LIST_SEPARATOR.join(
            organization.slug
            for organization in initiative.related_organizations.all()
            if organization.is_public
        ),
        "\n".join(
            " | ".join(
                [
                    reference.outlet,
                    reference.title,
                    reference.date.isoformat() if reference.date else "",
                    reference.language,
                    reference.url,
                ]
            )
            for reference in initiative.references.all()
        ),
    ]
    return [_csv_cell(cell) for cell in row]


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(
    initiatives: Any, *, page_of: Callable[[Initiative], str], batch: int = 500
) -> Iterator[str]:
    """The initiatives as CSV lines (UTF-8; a BOM first, for spreadsheets), in the
    importer's columns, without the contact address (the export is public). Reads in
    batches, each with its relations and slugs in a handful of queries."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(columns(with_contact_email=False))
    last = 0
    base = initiatives.select_related("initiative_type", "contact_organization").prefetch_related(
        "response_types", "topics", "related_organizations", "references"
    )
    while True:
        chunk = list(base.filter(pk__gt=last).order_by("pk")[:batch])
        if not chunk:
            return
        slugs.prefetch_slugs(chunk)
        for initiative in chunk:
            yield writer.writerow(_export_row(initiative, page_of(initiative)))
        last = chunk[-1].pk
