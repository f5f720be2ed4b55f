"""Importing research organisations from ROR records (schema v1 and v2).

Sofia (staff) loads the city's research ecosystem from the Research Organization
Registry. The records in tests/data are real ones from Barcelona (see its README).
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diplohub.directory.models import Kind, Organization
from diplohub.directory.services import organizations_import_ror

DATA = Path(__file__).parent / "data"
SUBSET = (DATA / "ror_records_subset.json").read_bytes()


def ror(data: bytes = SUBSET, **options):  # type: ignore[no-untyped-def]
    options.setdefault("dry_run", False)
    return organizations_import_ror(data=data, **options)


def test_it_imports_v1_and_v2_records_with_their_labels_and_ids(cast):
    report = ror(by=cast.staff)

    assert report.ok and report.written, report.lines()
    assert report.created == 12
    assert "ROR schema v2: 8 records; schema v1: 4 records." in report.notes
    assert "Skipped 1 records that are not active in ROR: 018ndmv91 (inactive)." in report.notes
    assert not Organization.objects.filter(ror_id="018ndmv91").exists()

    ub = Organization.objects.get(ror_id="021018s57")  # v2, education + funder
    assert (ub.name_en, ub.name_es, ub.name_ca) == (
        "University of Barcelona",
        "Universidad de Barcelona",
        "Universitat de Barcelona",
    )
    assert (ub.kind, ub.sector, ub.wikidata_id) == (Kind.UNIVERSITY, "academia", "Q219615")
    assert (ub.country.code, ub.city, ub.website) == ("ES", "Barcelona", "https://web.ub.edu")
    assert ub.latitude == Decimal("41.388790")
    assert ub.history.get().history_user == cast.staff

    icfo = Organization.objects.get(ror_id="03g5ew477")  # v1
    assert (icfo.name_en, icfo.name_es, icfo.name_ca) == (
        "Institute of Photonic Sciences",
        "Instituto de Ciencias Fotónicas",
        "Institut de Ciències Fotòniques",
    )
    assert (icfo.kind, icfo.acronym, icfo.wikidata_id) == (
        Kind.SCIENTIFIC_FACILITY,
        "ICFO",
        "Q3775506",
    )

    sant_pau = Organization.objects.get(ror_id="005teat46")  # v2, a Catalan display name
    assert (sant_pau.name_en, sant_pau.name_ca) == (
        "Institut de Recerca Sant Pau",
        "Institut de Recerca Sant Pau",
    )
    assert sant_pau.kind == Kind.RESEARCH_CENTRE  # healthcare
    assert Organization.objects.get(ror_id="01bkbaq61").kind == Kind.PUBLIC_INSTITUTION


def test_it_links_parents_that_come_later_in_the_file(cast):
    ror()

    def parent_of(ror_id: str) -> str | None:
        parent = Organization.objects.get(ror_id=ror_id).parent
        return parent.ror_id if parent else None

    assert parent_of("005teat46") == "01bkbaq61"  # Sant Pau → CERCA, 3 records later
    assert parent_of("03g5ew477") == "03kpps236"  # ICFO → BIST, its first listed parent
    # IDIBELL lists the Hospitalet city council first; it is not here, the hospital is.
    assert parent_of("0008xqs48") == "00epner96"
    assert parent_of("05sd8tv96") is None  # BSC's parent, UPC, is not in the file
    assert parent_of("01bkbaq61") is None


def test_it_links_a_parent_already_in_the_directory(cast):
    upc = Organization.objects.create(
        kind=Kind.UNIVERSITY, name_en="UPC", slug="upc", ror_id="03mb6wj31", country="ES"
    )

    ror()

    assert Organization.objects.get(ror_id="05sd8tv96").parent == upc


def test_importing_again_updates_and_never_doubles(cast):
    ror()
    bsc = Organization.objects.get(ror_id="05sd8tv96")
    bsc.kind = Kind.RESEARCH_CENTRE  # Sofia knows better than ROR
    bsc.city = ""
    bsc.save()

    report = ror()

    assert report.ok and report.created == 0 and report.merged == 1
    assert report.unchanged == 11
    assert Organization.objects.filter(ror_id__isnull=False).count() == 12
    bsc.refresh_from_db()
    assert (bsc.kind, bsc.city) == (Kind.RESEARCH_CENTRE, "Barcelona")


def test_it_completes_an_organisation_it_finds_by_wikidata_id(cast):
    cast.centre.wikidata_id = "Q1580126"  # BSC's
    cast.centre.save()

    report = ror()

    assert report.merged == 1
    cast.centre.refresh_from_db()
    assert cast.centre.ror_id == "05sd8tv96"
    assert cast.centre.name_en == "Barcelona Supercomputing Center"
    assert cast.centre.kind == Kind.RESEARCH_CENTRE  # the kind staff chose stays


def test_it_reads_a_single_record_and_an_answer_from_the_ror_api(db):
    record = json.loads((DATA / "ror_example_record_v2_1.json").read_bytes())

    assert ror(json.dumps(record).encode()).created == 1
    report = ror(json.dumps({"number_of_results": 1, "items": [record]}).encode())

    assert report.unchanged == 1
    uc = Organization.objects.get(ror_id="00pjdza24")
    assert (uc.name_en, uc.country.code, uc.city) == (
        "University of California System",
        "US",
        "Oakland",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"id": ', "The file is not valid JSON: Expecting value at line 1, column 9."),
        (b'"hello"', "The file should hold a ROR record (a JSON object) or a list of them"),
        (b"[]", "The file holds no ROR records (an empty list)."),
        (b"", "The file is empty."),
        ("[{}]".encode("utf-16"), "The file is not UTF-8 text"),
    ],
)
def test_it_refuses_a_file_that_is_not_ror_json(db, data, message):
    report = ror(data)

    assert not report.ok and not report.written
    assert report.file_errors[0].startswith(message)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"foo": 1}, "record 1, column id: has no ROR id"),
        (
            {"id": "https://ror.org/021018s57", "title": "UB"},
            "record 1 (021018s57), column names: neither 'names' (ROR schema v2) nor 'name' "
            "(schema v1): not a ROR record",
        ),
        (
            {"id": "https://ror.org/021018s57", "names": "UB"},
            "record 1 (021018s57), column names: 'names' should be a list, not str",
        ),
        (
            {"id": "https://ror.org/021018s57", "names": [{"value": "UB", "types": ["label"]}]},
            "record 1 (021018s57), column names: no name of type 'ror_display'",
        ),
        ([1, 2], "record 1, column record: is not a JSON object"),
        (
            {
                "id": "https://ror.org/021018s57",
                "names": [{"value": "UB", "types": ["ror_display"], "lang": ["ca"]}],
            },
            "record 1 (021018s57), column names: a name's 'lang' should be a language code",
        ),
        (
            {"id": "https://ror.org/021018s57", "name": "UB", "addresses": [{"city": {}}]},
            "record 1 (021018s57), column city: 'city' should be a string, not dict",
        ),
        (
            {"id": "https://ror.org/021018s57", "name": "UB", "country": "ES"},
            "record 1 (021018s57), column country: 'country' should be an object, not str",
        ),
    ],
)
def test_it_names_the_record_that_follows_neither_schema(db, record, message):
    records = record if isinstance(record, list) else [record]

    report = ror(json.dumps(records).encode())

    assert str(report.errors[0]).startswith(message)
    assert not Organization.objects.exists()


def test_it_imports_the_valid_records_only_when_told(db):
    records = [*json.loads(SUBSET)[:2], {"foo": 1}]

    assert not ror(json.dumps(records).encode()).written
    assert not Organization.objects.exists()
    report = ror(json.dumps(records).encode(), valid_rows_only=True)

    assert report.written and len(report.errors) == 1
    assert Organization.objects.count() == 2


def test_the_command_imports_and_reports(db, tmp_path):
    path = tmp_path / "ror.json"
    path.write_bytes(SUBSET)
    out, err = io.StringIO(), io.StringIO()

    call_command("import_ror", str(path), stdout=out, stderr=err)

    assert "12 new" in out.getvalue()
    path.write_bytes(b"{")
    with pytest.raises(CommandError):
        call_command("import_ror", str(path), stdout=out, stderr=err)
    assert "The file is not valid JSON" in out.getvalue()


# Hypothesis: whatever the records hold, the importer answers with a report.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = [
    "id", "name", "names", "labels", "acronyms", "types", "links", "locations", "addresses",
    "country", "external_ids", "relationships", "status", "value", "lang", "iso639", "label",
    "type", "geonames_details", "lat", "lng", "city", "country_code", "all", "preferred",
]  # fmt: skip


def records() -> st.SearchStrategy[object]:
    real = json.loads(SUBSET)
    key_values = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6)

    def mangle(pair: tuple[dict[str, object], dict[str, object]]) -> dict[str, object]:
        record, changes = pair
        return {**record, **changes}

    return st.one_of(
        key_values,
        st.tuples(st.sampled_from(real), key_values).map(mangle),
        json_values,
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(records(), max_size=4))
def test_it_reports_rather_than_raises_whatever_the_records_hold(db, data):
    with transaction.atomic():
        report = ror(json.dumps(data).encode(), valid_rows_only=True)
        transaction.set_rollback(True)

    assert report.file_errors or report.total_rows <= len(data)  # inactive ones are skipped
