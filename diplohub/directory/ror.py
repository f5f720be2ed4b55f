"""Research Organization Registry (https://ror.org) records, schema v1 and v2, as rows.

A ROR file is a JSON list of records, a single record, or an API answer with its
records under "items". Each record becomes a row of the organisation importer's
columns, so ROR records go through the same checks, duplicate detection (by ROR id,
Wikidata id, or name and country) and bulk writes as a spreadsheet. Schema v2 has
`names` (with `types` and `lang`), `locations`, typed `links` and `external_ids`
and `relationships`; v1 has `name`, `labels`, `acronyms`, a `links` list,
`addresses`, `country` and `external_ids` keyed by scheme.

Names: the label in each of the hub's languages fills name_<lang>; the English
name is the English label, else the display name (v2 `ror_display`, v1 `name`),
and so is the default language's name when ROR has no label in it.
Parents: of the record's parent relationships, the first whose organisation is in
the file or already in the directory (ROR often lists several, e.g. a hospital,
a university and CERCA for one research institute; our model keeps one).
Records that are not active (inactive, withdrawn) are skipped and named in a note.
"""

from __future__ import annotations

import json
from typing import Any

from diplohub.directory.importers import (
    RowError,
    Table,
    WebsiteWidget,
    WikidataIdWidget,
    columns,
    default_language,
    languages,
    normalise_ror_id,
)
from diplohub.directory.models import Kind, Organization

KIND_OF_TYPE = {
    "education": Kind.UNIVERSITY,
    "facility": Kind.SCIENTIFIC_FACILITY,
    "company": Kind.COMPANY,
    "government": Kind.PUBLIC_INSTITUTION,
    "nonprofit": Kind.FOUNDATION,
    "healthcare": Kind.RESEARCH_CENTRE,
    "funder": Kind.FOUNDATION,
    "archive": Kind.RESEARCH_CENTRE,
    "other": Kind.RESEARCH_CENTRE,
}
ACRONYM_MAX = 40


class RorFileError(ValueError):
    """The file is not ROR JSON at all; the message says why."""


class RecordError(ValueError):
    """One record does not follow either ROR schema."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def kind_of(types: list[str]) -> Kind:
    """Funding is a secondary role: a university that funds research is a university."""
    folded = [str(t).lower() for t in types]
    main = [t for t in folded if t != "funder"] or folded or ["other"]
    return KIND_OF_TYPE.get(main[0], Kind.RESEARCH_CENTRE)


def schema_version(record: dict[str, Any]) -> int:
    if "names" in record:
        return 2
    if "name" in record:
        return 1
    raise RecordError(
        "names", "neither 'names' (ROR schema v2) nor 'name' (schema v1): not a ROR record"
    )


def _get(record: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = record.get(key, default)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise RecordError(key, f"'{key}' should be {_KIND_NAME[kind]}, not {type(value).__name__}")
    return value


_KIND_NAME: dict[type, str] = {list: "a list", dict: "an object", str: "a string"}


def _dicts(record: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = _get(record, key, list, [])
    for item in items:
        if not isinstance(item, dict):
            raise RecordError(key, f"each item of '{key}' should be an object")
    return items


def _first_id(ids: dict[str, Any]) -> str:
    """The preferred id of an external_ids entry, else the first of all (a list or, in
    some v1 records, a bare string)."""
    every = ids.get("all")
    if isinstance(every, str):
        every = [every]
    if not isinstance(every, list):
        every = []
    return str(ids.get("preferred") or (every[0] if every else "") or "")


def _number(value: Any) -> str:
    return "" if value is None or isinstance(value, bool) else str(value)


def _record_v2(record: dict[str, Any]) -> dict[str, Any]:
    labels: dict[str, str] = {}
    display, display_lang = "", None
    acronyms: list[str] = []
    for name in _dicts(record, "names"):
        value, types, lang = name.get("value"), name.get("types") or [], name.get("lang")
        if not isinstance(value, str) or not isinstance(types, list):
            raise RecordError("names", "each name needs a 'value' string and a 'types' list")
        if lang is not None and not isinstance(lang, str):
            raise RecordError("names", f"a name's 'lang' should be a language code, not {lang!r}")
        if "ror_display" in types:
            display, display_lang = value, lang
            if lang:
                labels[lang] = value  # the display name wins over other labels
        elif "label" in types and lang:
            labels.setdefault(lang, value)
        if "acronym" in types:
            acronyms.append(value)
    if not display:
        raise RecordError("names", "no name of type 'ror_display'")
    website = next(
        (
            link.get("value")
            for link in _dicts(record, "links")
            if link.get("type") == "website" and link.get("value")
        ),
        "",
    )
    place: dict[str, Any] = {}
    locations = _dicts(record, "locations")
    if locations:
        place = _get(locations[0], "geonames_details", dict, {})
    wikidata = ""
    for ids in _dicts(record, "external_ids"):
        if ids.get("type") == "wikidata":
            wikidata = _first_id(ids)
    parents = _parent_ids(record)
    return {
        "display": display,
        "display_lang": display_lang,
        "labels": labels,
        "acronyms": acronyms,
        "website": website,
        "city": _get(place, "name", str, ""),
        "latitude": _number(place.get("lat")),
        "longitude": _number(place.get("lng")),
        "country": place.get("country_code") or "",
        "wikidata": wikidata,
        "types": _get(record, "types", list, []),
        "parents": parents,
    }


def _parent_ids(record: dict[str, Any]) -> list[Any]:
    return [
        rel.get("id")
        for rel in _dicts(record, "relationships")
        if str(rel.get("type", "")).lower() == "parent"
    ]


def _record_v1(record: dict[str, Any]) -> dict[str, Any]:
    display = _get(record, "name", str, "")
    if not display:
        raise RecordError("name", "the 'name' is empty")
    labels: dict[str, str] = {}
    for label in _dicts(record, "labels"):
        if label.get("iso639") and label.get("label"):
            labels.setdefault(str(label["iso639"]), str(label["label"]))
    links = _get(record, "links", list, [])
    addresses = _dicts(record, "addresses")
    address = addresses[0] if addresses else {}
    external = _get(record, "external_ids", dict, {})
    wikidata = _first_id(_get(external, "Wikidata", dict, {}))
    parents = _parent_ids(record)
    return {
        "display": display,
        "display_lang": None,
        "labels": labels,
        "acronyms": [a for a in _get(record, "acronyms", list, []) if isinstance(a, str)],
        "website": next((link for link in links if isinstance(link, str) and link), ""),
        "city": _get(address, "city", str, ""),
        "latitude": _number(address.get("lat")),
        "longitude": _number(address.get("lng")),
        "country": (_get(record, "country", dict, {}) or {}).get("country_code") or "",
        "wikidata": wikidata or "",
        "types": _get(record, "types", list, []),
        "parents": parents,
    }


def _records(data: bytes) -> list[Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RorFileError(
            f"The file is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); ROR JSON is always UTF-8."
        ) from None
    if not text.strip():
        raise RorFileError("The file is empty.")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise RorFileError(
            f"The file is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    if isinstance(parsed, dict) and isinstance(parsed.get("items"), list):
        return list(parsed["items"])  # an answer from the ROR API
    if isinstance(parsed, dict):
        return [parsed]
    if isinstance(parsed, list):
        return parsed
    raise RorFileError(
        "The file should hold a ROR record (a JSON object) or a list of them, "
        f"not a JSON {type(parsed).__name__}."
    )


def table_from_json(data: bytes) -> Table:
    """ROR records as a table of the importer's columns, one row per active record."""
    records = _records(data)
    if not records:
        raise RorFileError("The file holds no ROR records (an empty list).")
    header = columns()
    table = Table(header=header, rows=[], unit="record")
    mapped: list[tuple[int, str, dict[str, Any]]] = []
    skipped: list[str] = []
    for number, record in enumerate(records, 1):
        table.labels[number] = f"record {number}"
        if not isinstance(record, dict):
            table.errors.append(
                RowError(number, "record", "is not a JSON object", f"record {number}")
            )
            continue
        raw_id = record.get("id")
        ror_id = normalise_ror_id(raw_id) if isinstance(raw_id, str) else None
        if ror_id is None:
            table.errors.append(
                RowError(
                    number,
                    "id",
                    "has no ROR id ('id' like https://ror.org/021018s57): not a ROR record",
                    f"record {number}",
                )
            )
            continue
        where = f"record {number} ({ror_id})"
        table.labels[number] = where
        try:
            version = schema_version(record)
            fields = _record_v2(record) if version == 2 else _record_v1(record)
        except RecordError as error:
            table.errors.append(RowError(number, error.field, str(error), where))
            continue
        status = str(record.get("status") or "active")
        if status != "active":
            skipped.append(f"{ror_id} ({status})")
            continue
        fields["version"] = version
        mapped.append((number, ror_id, fields))

    in_file = {ror_id for _n, ror_id, _f in mapped}
    parent_ids = (normalise_ror_id(str(p)) for _n, _r, f in mapped for p in f["parents"] if p)
    wanted = {ror_id for ror_id in parent_ids if ror_id} - in_file
    in_directory = {
        str(ror_id)
        for ror_id in Organization.objects.filter(ror_id__in=wanted).values_list(
            "ror_id", flat=True
        )
    }
    present = in_file | in_directory
    for number, ror_id, fields in mapped:
        cells = _cells(ror_id, fields, present, table.notes, table.labels[number])
        table.rows.append((number, [cells.get(column, "") for column in header]))
    if skipped:
        table.notes.append(
            f"Skipped {len(skipped)} records that are not active in ROR: {', '.join(skipped)}."
        )
    versions = [f["version"] for _n, _r, f in mapped]
    table.notes.append(
        f"ROR schema v2: {versions.count(2)} records; schema v1: {versions.count(1)} records."
    )
    return table


def _cells(
    ror_id: str, fields: dict[str, Any], present: set[str], notes: list[str], where: str
) -> dict[str, str]:
    labels: dict[str, str] = fields["labels"]
    names = {code: labels[code] for code in languages() if code in labels}
    if fields["display_lang"] in languages():
        names.setdefault(fields["display_lang"], fields["display"])
    names.setdefault("en", fields["display"])
    names.setdefault(default_language(), fields["display"])
    cells = {f"name_{code}": name for code, name in names.items() if code in languages()}
    cells["name"] = names[default_language()]
    acronym = next((a for a in fields["acronyms"] if len(a) <= ACRONYM_MAX), "")
    cells.update(
        {
            "acronym": acronym,
            "kind": kind_of(fields["types"]).value,
            "country": str(fields["country"]),
            "city": str(fields["city"])[:120],
            "latitude": fields["latitude"],
            "longitude": fields["longitude"],
            "ror_id": ror_id,
        }
    )
    # ROR's optional values that our model would refuse are dropped, with a note,
    # rather than failing the whole record.
    for column, widget, value in (
        ("website", WebsiteWidget(), fields["website"]),
        ("wikidata_id", WikidataIdWidget(), fields["wikidata"]),
    ):
        try:
            cells[column] = widget.render(widget.clean(value)) if value else ""
        except ValueError as error:
            notes.append(f"{where}: {column} left empty: {error}.")
    parents = [normalise_ror_id(str(p)) for p in fields["parents"] if p]
    parent = next((p for p in parents if p and p in present), None)
    if parent:
        cells["parent"] = parent
    return cells
