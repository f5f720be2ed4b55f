"""Importing organisations from CSV and XLSX, told as stories about Sofia (staff).

Sofia keeps the directory. She imports spreadsheets from partners, often badly made:
the wrong encoding, missing columns, countries written out, duplicates of
organisations already in the directory. Every problem must come back as a message
naming the row, the column and the reason, and nothing may be half-written.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diplohub.directory.importers import (
    ImportReport,
    export_organizations,
    read_table,
)
from diplohub.directory.models import Kind, Organization, Topic
from diplohub.directory.services import organizations_import

HEADER = [
    "name",
    "kind",
    "country",
    "city",
    "latitude",
    "longitude",
    "website",
    "ror_id",
    "wikidata_id",
    "parent",
    "topics",
]


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or HEADER, extrasaction="raise")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows: list[dict[str, object]], header: list[str] | None = None) -> bytes:
    header = header or HEADER
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column) for column in header])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(data: bytes, *, format: str = "csv", **options) -> ImportReport:  # type: ignore[no-untyped-def]
    options.setdefault("dry_run", False)
    options.setdefault("valid_rows_only", False)
    return organizations_import(data=data, format=format, **options)


def org(**cells: str) -> dict[str, str]:
    row = dict.fromkeys(HEADER, "")
    row.update({"kind": "research_centre", "country": "ES", "city": "Barcelona"})
    row.update(cells)
    return row


GOOD_ROWS = [
    org(
        name="Institute of Photonic Sciences",
        ror_id="https://ror.org/03g5ew477",
        wikidata_id="Q3775506",
        website="https://www.icfo.eu",
        latitude="41.2755",
        longitude="1.9867",
        parent="03kpps236",  # BIST, two rows below: parents may come later
        topics="health|hpc-ai",
    ),
    org(name="Àrea Metropolitana de Barcelona", kind="public_institution", website="amb.cat"),
    org(
        name="Barcelona Institute of Science and Technology",
        kind="university",
        ror_id="03kpps236",
    ),
]


@pytest.fixture
def topics(db):
    for slug, name in [("health", "Health"), ("hpc-ai", "HPC & AI")]:
        Topic.objects.create(slug=slug, name_en=name)


def test_it_imports_a_good_csv(cast, topics):
    report = run(csv_bytes(GOOD_ROWS), by=cast.staff)

    assert report.ok and report.written
    assert (report.total_rows, report.created) == (3, 3)
    icfo = Organization.objects.get(ror_id="03g5ew477")  # the URL became the bare id
    bist = Organization.objects.get(ror_id="03kpps236")
    amb = Organization.objects.get(slug="area-metropolitana-de-barcelona")
    assert icfo.parent == bist
    assert icfo.sector == "academia"  # derived from the kind
    assert icfo.latitude == Decimal("41.275500")
    assert sorted(icfo.topics.values_list("slug", flat=True)) == ["health", "hpc-ai"]
    assert amb.website == "https://amb.cat"
    assert amb.sort_name == "area metropolitana de barcelona"
    assert amb.sector == "government"
    history = icfo.history.get()
    assert history.history_type == "+"
    assert history.history_user == cast.staff
    assert history.name_en == "Institute of Photonic Sciences"


def test_it_imports_a_good_xlsx(cast, topics):
    rows: list[dict[str, object]] = [dict(row) for row in GOOD_ROWS]
    rows[0]["latitude"], rows[0]["longitude"] = 41.2755, 1.9867  # numbers, as Excel keeps them
    rows[1]["is_public"] = False

    report = run(xlsx_bytes(rows, [*HEADER, "is_public"]), format="xlsx", by=cast.staff)

    assert report.ok and report.created == 3
    icfo = Organization.objects.get(ror_id="03g5ew477")
    assert icfo.longitude == Decimal("1.986700")
    assert icfo.parent.ror_id == "03kpps236"
    assert not Organization.objects.get(name_en="Àrea Metropolitana de Barcelona").is_public


def test_it_previews_a_dry_run_and_writes_nothing(cast, topics):
    report = run(csv_bytes(GOOD_ROWS), dry_run=True)

    assert report.ok and not report.written
    assert [outcome.action for outcome in report.outcomes] == ["new", "new", "new"]
    assert "Dry run: nothing was written." in report.summary()
    assert Organization.objects.count() == 3  # the cast's


def test_it_reads_utf8_with_a_bom_and_semicolons(cast):
    data = "\ufeffname;kind;country\nFundació Catalana de Recerca;foundation;es\n"

    report = run(data.encode())

    assert report.ok, report.lines()
    assert Organization.objects.get(country="ES", kind=Kind.FOUNDATION).name_en == (
        "Fundació Catalana de Recerca"
    )
    assert "Columns are separated by ';'." in report.notes


def test_it_refuses_utf16_by_name(cast):
    data = "name,kind\nFundació,foundation\n".encode("utf-16")

    report = run(data)

    assert not report.ok and not report.written
    assert "UTF-16" in report.file_errors[0]
    assert "CSV UTF-8" in report.file_errors[0]


def test_it_refuses_bytes_that_are_not_utf8_and_says_where(cast):
    data = "name,kind\nFundació,foundation\n".encode("cp1252")

    report = run(data)

    assert report.file_errors == [
        "The file is not UTF-8 text: byte 0xf3 on line 2 is not valid UTF-8. Save it as "
        "'CSV UTF-8', or give the encoding it was saved in (e.g. cp1252 for Excel on Windows)."
    ]
    assert Organization.objects.count() == 3


def test_it_reads_another_encoding_only_when_told(cast):
    data = "name,kind\nFundació,foundation\n".encode("cp1252")

    report = run(data, encoding="cp1252")

    assert report.ok and "Read as cp1252, as asked." in report.notes
    assert Organization.objects.filter(name_en="Fundació").exists()


@pytest.mark.parametrize(
    ("data", "format", "message"),
    [
        (b"", "csv", "The file is empty."),
        (b"PK\x03\x04rest", "csv", "This is a zip file"),
        (b"name,kind\n", "xlsx", "is not an XLSX workbook"),
        (b"n\x00a\x00m\x00e\x00", "csv", "NUL characters"),
        (b"name,kind\n", "ods", "Unknown format 'ods'"),
        (b"name,kind,name\nA,company,B\n", "csv", "The column 'name' appears twice"),
        (b",,\nA,company,ES\n", "csv", "The first row must hold the column names"),
    ],
)
def test_it_refuses_unreadable_files_with_a_message(cast, data, format, message):
    report = run(data, format=format)

    assert not report.ok
    assert message in report.file_errors[0]


def test_it_lists_the_missing_columns(cast):
    report = run(b"nombre,pais\nUB,ES\n")

    assert report.file_errors[0].startswith("Missing required columns: name, kind.")
    assert Organization.objects.count() == 3


def test_it_names_a_bad_country_code(cast):
    report = run(csv_bytes([org(name="Somewhere Institute", country="XX")]))

    assert [str(error) for error in report.errors] == [
        "row 2, column country: 'XX' is not an ISO 3166 country code"
    ]


def test_it_suggests_the_code_for_a_country_written_another_way(cast):
    report = run(csv_bytes([org(name="A", country="ESP"), org(name="B", country="Spain")]))

    assert [error.reason for error in report.errors] == [
        "'ESP' is not an ISO 3166 country code (did you mean ES?)",
        "'Spain' is not an ISO 3166 country code (did you mean ES?)",
    ]


@pytest.mark.parametrize(
    ("latitude", "longitude", "column", "reason"),
    [
        ("north", "2.1", "latitude", "'north' is not a number"),
        ("95", "2.1", "latitude", "'95' is outside -90…90"),
        ("41.3", "-181", "longitude", "'-181' is outside -180…180"),
        ("NaN", "2.1", "latitude", "'NaN' is not a number"),
        ("41.3", "", "longitude", "latitude is given, longitude is empty"),
    ],
)
def test_it_names_bad_coordinates(cast, latitude, longitude, column, reason):
    report = run(csv_bytes([org(name="X", latitude=latitude, longitude=longitude)]))

    assert [(e.row, e.column, e.reason) for e in report.errors] == [(2, column, reason)]


def test_it_reads_a_decimal_comma(cast):
    report = run(csv_bytes([org(name="X", latitude="41,38", longitude="2,17")]))

    assert report.ok
    assert Organization.objects.get(name_en="X").latitude == Decimal("41.380000")


def test_it_reports_every_bad_cell_by_row_and_column(cast):
    rows = [
        org(name="Fine Institute"),
        org(name="", kind="castle", website="not a url", ror_id="ror-123"),
        org(name="Y" * 300, wikidata_id="P31", topics="unknown-topic"),
    ]

    report = run(csv_bytes(rows))

    assert {(e.row, e.column) for e in report.errors} == {
        (3, "kind"),
        (3, "website"),
        (3, "ror_id"),
        (3, "name"),
        (4, "name"),
        (4, "wikidata_id"),
        (4, "topics"),
    }
    reasons = {(e.row, e.column): e.reason for e in report.errors}
    assert reasons[3, "kind"].startswith("'castle' is not one of: consulate_general, consulate")
    assert reasons[3, "name"] == "a name is required"
    assert reasons[4, "name"] == "is 300 characters long; at most 255 fit"
    assert reasons[4, "topics"] == "unknown topic 'unknown-topic' (known topics: none yet)"
    assert report.invalid_rows == [3, 4]
    assert not report.written
    assert not Organization.objects.filter(name_en="Fine Institute").exists()


def test_it_writes_nothing_when_one_row_in_many_fails(cast):
    rows = [org(name=f"Centre {i}") for i in range(50)]
    rows[37]["country"] = "ZZ"

    report = run(csv_bytes(rows))

    assert [str(e) for e in report.errors] == [
        "row 39, column country: 'ZZ' is not an ISO 3166 country code"
    ]
    assert "Nothing was written, because of the errors." in report.summary()
    assert Organization.objects.count() == 3


def test_it_writes_only_the_valid_rows_when_asked(cast):
    rows = [
        org(name="Parent With A Typo", ror_id="03kpps236", country="XX"),
        org(name="Child Of The Typo", parent="03kpps236"),
        org(name="Fine Institute"),
    ]

    report = run(csv_bytes(rows), valid_rows_only=True)

    assert report.written
    assert [str(e) for e in report.errors] == [
        "row 2, column country: 'XX' is not an ISO 3166 country code",
        "row 3, column parent: '03kpps236' is row 2, which has errors",
    ]
    assert report.created == 1
    assert Organization.objects.filter(name_en="Fine Institute").exists()
    assert not Organization.objects.filter(name_en__contains="Typo").exists()
    assert "Written, except the rows with errors." in report.summary()


@pytest.fixture
def centre(cast):
    """The cast's research centre, with the identifiers the duplicate rules look at."""
    cast.centre.ror_id = "05sd8tv96"
    cast.centre.wikidata_id = "Q1580126"
    cast.centre.website = "https://www.example-supercomputing.test/en/"
    cast.centre.save()
    return cast.centre


DUPLICATE_OF_CENTRE = {
    "ror": ({"ror_id": "https://ror.org/05sd8tv96"}, "same ROR id 05sd8tv96"),
    "wikidata": ({"wikidata_id": "Q1580126"}, "same Wikidata id Q1580126"),
    "domain": (
        {"website": "http://example-supercomputing.test/about"},
        "same website domain example-supercomputing.test",
    ),
    "name": ({"name": "EXAMPLE SUPERCOMPUTING CENTRE"}, "same name and country"),
}


@pytest.mark.parametrize("rule", DUPLICATE_OF_CENTRE)
def test_it_holds_back_a_duplicate_of_an_organisation_in_the_directory(centre, rule):
    cells, reason = DUPLICATE_OF_CENTRE[rule]
    row = org(**{"name": "Another Name For It", "acronym": "ESC", **cells})

    report = run(csv_bytes([row], [*HEADER, "acronym"]))

    assert report.ok and report.created == 0
    (duplicate,) = report.duplicates
    assert duplicate.target_pk == centre.pk
    assert duplicate.rule == reason
    assert str(duplicate).startswith(
        "row 2: possible duplicate of 'Example Supercomputing Centre' "
        f"(example-supercomputing-centre) ({reason}); would change"
    )
    assert "--merge-duplicates" in report.lines()[-2]
    assert Organization.objects.count() == 3
    centre.refresh_from_db()
    assert centre.acronym == ""  # not merged without being asked


WITHIN_FILE = {
    "ror": {"ror_id": "05sd8tv96"},
    "wikidata": {"wikidata_id": "Q1580126"},
    "domain": {"website": "https://www.bsc.es/"},
    "name": {"name": "Barcelona Supercomputing Center"},
}


@pytest.mark.parametrize("rule", WITHIN_FILE)
def test_it_holds_back_a_duplicate_of_an_earlier_row(cast, rule):
    first = org(**{"name": "Barcelona Supercomputing Center", **WITHIN_FILE[rule]})
    second = org(**{"name": "BSC-CNS", "city": "Madrid", **WITHIN_FILE[rule]})
    if rule == "name":
        second["name"] = "BARCELONA SUPERCOMPUTING CENTER"

    report = run(csv_bytes([first, second]))

    assert report.created == 1
    (duplicate,) = report.duplicates
    assert (duplicate.row, duplicate.target) == (3, "row 2 ('Barcelona Supercomputing Center')")
    assert Organization.objects.filter(city="Madrid").count() == 0


def test_it_merges_duplicates_when_asked_keeping_what_the_row_leaves_empty(centre, cast):
    row = org(name="", ror_id="05sd8tv96", city="", acronym="BSC", kind="")
    row["name"] = "Example Supercomputing Centre"
    row["kind"] = "scientific_facility"

    report = run(csv_bytes([row], [*HEADER, "acronym"]), merge_duplicates=True, by=cast.staff)

    assert report.ok and report.merged == 1 and report.created == 0
    centre.refresh_from_db()
    assert (centre.acronym, centre.city, centre.kind) == ("BSC", "Barcelona", "scientific_facility")
    assert centre.sector == "academia"
    latest = centre.history.first()
    assert (latest.history_type, latest.history_user, latest.acronym) == ("~", cast.staff, "BSC")


def test_a_merge_keeps_the_sector_staff_chose_unless_the_kind_changes(centre):
    centre.sector = "civil_society"
    centre.save()
    same_kind = org(name="Example Supercomputing Centre", ror_id="05sd8tv96", acronym="ESC")
    new_kind = org(name="Example Supercomputing Centre", ror_id="05sd8tv96", kind="company")

    run(csv_bytes([same_kind], [*HEADER, "acronym"]), merge_duplicates=True)
    centre.refresh_from_db()
    assert (centre.acronym, centre.sector) == ("ESC", "civil_society")

    run(csv_bytes([new_kind]), merge_duplicates=True)
    centre.refresh_from_db()
    assert (centre.kind, centre.sector) == ("company", "private")


def test_it_says_when_a_row_is_already_in_the_directory(centre):
    row = org(name="Example Supercomputing Centre", ror_id="05sd8tv96")

    report = run(csv_bytes([row]))

    assert report.unchanged == 1 and not report.duplicates
    assert "Nothing to write." in report.summary()


def test_it_never_merges_two_organisations_with_different_ror_ids(centre):
    row = org(name="Example Supercomputing Centre", ror_id="021018s57")

    report = run(csv_bytes([row]))

    assert report.created == 1
    assert Organization.objects.filter(name_en="Example Supercomputing Centre").count() == 2


def test_it_refuses_identifiers_that_belong_to_two_organisations(centre, cast):
    cast.japan.wikidata_id = "Q123"
    cast.japan.save()
    row = org(name="Confused", ror_id="05sd8tv96", wikidata_id="Q123")

    report = run(csv_bytes([row]), merge_duplicates=True)

    (error,) = report.errors
    assert error.column == "wikidata_id"
    assert error.reason == (
        "Q123 is the Wikidata id of 'Consulate General of Japan' (consulate-general-of-japan), "
        "but the ROR id is that of 'Example Supercomputing Centre' (example-supercomputing-centre)"
    )


def test_it_links_parents_by_slug_and_gives_each_new_organisation_a_free_slug(cast):
    rows = [
        org(name="Example Supercomputing Centre", country="FR"),  # the slug is taken
        org(name="Child", parent="example-supercomputing-centre"),
        org(name="Grandchild", parent="child"),
    ]

    report = run(csv_bytes(rows))

    assert report.ok, report.lines()
    assert Organization.objects.get(country="FR").slug == "example-supercomputing-centre-2"
    assert Organization.objects.get(slug="grandchild").parent.parent == cast.centre


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (
            [org(name="Orphan", parent="nobody-here")],
            "no organisation with the slug 'nobody-here' in the directory or in this file",
        ),
        (
            [org(name="Narcissus", ror_id="021018s57", parent="021018s57")],
            "an organisation cannot be its own parent",
        ),
    ],
)
def test_it_refuses_a_parent_it_cannot_find(cast, rows, reason):
    report = run(csv_bytes(rows))

    assert [(e.column, e.reason) for e in report.errors] == [("parent", reason)]


def test_it_refuses_a_parent_loop(cast):
    rows = [org(name="Egg", parent="hen"), org(name="Hen", parent="egg")]

    report = run(csv_bytes(rows))

    assert not report.ok
    assert {e.column for e in report.errors} == {"parent"}
    assert "is already below" in report.errors[0].reason


def test_it_ignores_blank_rows_and_notes_unknown_columns(cast):
    data = b"name,kind,notes\n,,\nA Lab,company,keep this\n\n"

    report = run(data)

    assert report.ok and report.total_rows == 1
    assert report.notes == ["Ignored columns: notes."]


def test_it_refuses_values_in_a_column_without_a_header(cast):
    report = run(b"name,kind\nA Lab,company,surprise\n")

    assert [str(e) for e in report.errors] == [
        "row 2, column #3: a value in a column that has no header"
    ]


def test_it_imports_ten_thousand_rows(cast):
    rows = [
        org(
            name=f"Organisation {i:05d}",
            kind=["university", "company", "foundation", "consulate"][i % 4],
            country=["ES", "FR", "JP", "MX"][i % 4],
            website=f"https://org{i}.example.org/",
            wikidata_id=f"Q{1000 + i}",
            latitude=f"41.{i:05d}",
            longitude=f"2.{i:05d}",
            parent="" if i % 100 == 0 else f"organisation-{i - i % 100:05d}",
        )
        for i in range(10_000)
    ]
    seen: list[tuple[str, int, int]] = []

    report = run(csv_bytes(rows), progress=lambda *step: seen.append(step))

    assert report.ok and report.created == 10_000
    assert Organization.objects.count() == 10_003
    assert Organization.objects.filter(parent__isnull=False).count() == 9_900
    assert Organization.objects.get(slug="organisation-09999").parent.slug == "organisation-09900"
    assert Organization.history.filter(history_type="+").count() >= 10_000
    assert seen[-1] == ("writing", 10_000, 10_000)
    again = run(csv_bytes(rows), dry_run=True)
    assert again.unchanged == 10_000


def test_it_exports_what_it_imports(cast, topics):
    run(csv_bytes(GOOD_ROWS))

    exported = export_organizations(format="csv")
    table = read_table(exported, format="csv")

    assert exported.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads the accents
    assert table.header[:4] == ["name", "name_en", "name_es", "name_ca"]
    by_name = {cells[0]: dict(zip(table.header, cells, strict=True)) for _n, cells in table.rows}
    icfo = by_name["Institute of Photonic Sciences"]
    assert (icfo["parent"], icfo["topics"], icfo["ror_id"]) == (
        "03kpps236",
        "health|hpc-ai",
        "03g5ew477",
    )
    assert run(exported, dry_run=True).unchanged == 6


def test_it_exports_xlsx_that_imports_again(cast, topics):
    run(csv_bytes(GOOD_ROWS))

    exported = export_organizations(format="xlsx")
    Organization.objects.all().delete()
    report = run(exported, format="xlsx")

    assert report.ok and report.created == 6, report.lines()
    assert Organization.objects.get(ror_id="03g5ew477").parent.ror_id == "03kpps236"


def test_it_keeps_spreadsheet_formulas_from_running(cast):
    run(csv_bytes([org(name='=HYPERLINK("http://evil.test")', city="-1+1")]))

    exported = export_organizations(format="csv").decode("utf-8-sig")

    assert "'=HYPERLINK" in exported and "'-1+1" in exported
    Organization.objects.all().delete()
    run(exported.encode())
    assert Organization.objects.get(city="-1+1").name_en == '=HYPERLINK("http://evil.test")'


# Hypothesis: whatever the cells hold, the importer answers with a report.

# Each cell is either arbitrary text or a plausible value, so that the rows also meet
# each other: duplicates, parents in the file, merges.
PLAUSIBLE = {
    "name": ["A Lab", "a lab", "B Institute", "Example Supercomputing Centre"],
    "kind": [k.value for k in Kind] + ["University"],
    "country": ["", "ES", "fr", "XX"],
    "city": ["", "Barcelona"],
    "latitude": ["", "41.3", "91"],
    "longitude": ["", "2.1"],
    "website": ["", "https://a.example/", "a.example", "http://b.example/x"],
    "ror_id": ["", "021018s57", "https://ror.org/03kpps236"],
    "wikidata_id": ["", "Q1", "Q2"],
    "parent": ["", "021018s57", "03kpps236", "a-lab", "example-supercomputing-centre"],
    "topics": ["", "health", "health|nope"],
}
row_strategy = st.fixed_dictionaries(
    {
        column: st.one_of(st.sampled_from(PLAUSIBLE[column]), st.text(max_size=40))
        for column in HEADER
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row_strategy, max_size=6), merge=st.booleans())
def test_it_reports_rather_than_raises_whatever_the_cells_hold(cast, rows, merge):
    data = csv_bytes(rows)

    report = run(data, dry_run=True, valid_rows_only=True, merge_duplicates=merge)

    assert not report.file_errors or report.total_rows == 0
    planned = {outcome.row for outcome in report.outcomes}
    assert planned.isdisjoint(report.invalid_rows)
    assert len(planned) + len(report.invalid_rows) == report.total_rows


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row_strategy, max_size=4))
def test_it_writes_whatever_it_accepts_without_failing(cast, rows):
    with transaction.atomic():
        report = run(csv_bytes(rows), valid_rows_only=True, merge_duplicates=True)
        assert report.written or not (report.created or report.merged)
        transaction.set_rollback(True)


printable = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30
).map(str.strip)
valid_row = st.fixed_dictionaries(
    {
        "name": printable.filter(bool),
        "name_es": printable,
        "kind": st.sampled_from([k.value for k in Kind]),
        "country": st.sampled_from(["", "ES", "FR", "JP", "MX", "US"]),
        "city": printable,
        "acronym": printable,
        "latitude": st.decimals(-90, 90, places=6, allow_nan=False).map(str),
        "longitude": st.decimals(-180, 180, places=6, allow_nan=False).map(str),
        "description": printable,
    }
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(valid_row, min_size=1, max_size=5))
def test_it_round_trips_import_export_import(db, rows):
    header = list(rows[0])

    def stored() -> list[tuple[str, ...]]:
        values = Organization.objects.values_list(*compared, "slug")
        return sorted(tuple("" if v is None else str(v) for v in row) for row in values)

    compared = ["name_en", "name_es", "kind", "country", "city", "acronym", "description_en"]
    compared += ["latitude", "longitude"]
    with transaction.atomic():
        first = run(csv_bytes(rows, header), merge_duplicates=True)
        assert first.ok, first.lines()
        before = stored()
        exported = export_organizations(format="csv")
        Organization.objects.all().delete()
        second = run(exported)
        assert second.ok, second.lines()
        after = stored()
        assert after == before
        transaction.set_rollback(True)


# The command and the admin call the same service.


def test_the_command_prints_the_errors_and_fails(cast, tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes(csv_bytes([org(name="A"), org(name="B", country="XX")]))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match=r"1 problem; see above\."):
        call_command("import_organizations", str(path), stdout=out, stderr=err)

    assert "row 3, column country: 'XX' is not an ISO 3166 country code" in out.getvalue()
    assert "Nothing was written, because of the errors." in out.getvalue()
    assert "checking" in err.getvalue()  # the progress bar
    assert not Organization.objects.filter(name_en="A").exists()


def test_the_command_imports_valid_rows_and_merges_when_told(centre, tmp_path):
    path = tmp_path / "partners.xlsx"
    rows = [org(name="New Lab"), org(name="Centre again", ror_id="05sd8tv96", city="Sabadell")]
    path.write_bytes(xlsx_bytes(rows))
    out = io.StringIO()

    call_command("import_organizations", str(path), "--merge-duplicates", stdout=out, stderr=out)

    assert "1 new, 1 merged" in out.getvalue()
    centre.refresh_from_db()
    assert centre.city == "Sabadell"


def test_the_command_says_what_it_cannot_read(db, tmp_path):
    with pytest.raises(CommandError, match=r"Cannot tell the format of 'list\.ods'"):
        call_command("import_organizations", str(tmp_path / "list.ods"))
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv: No such file"):
        call_command("import_organizations", str(tmp_path / "missing.csv"))


def test_the_export_command_writes_each_format(cast, tmp_path):
    out = io.StringIO()
    call_command("export_organizations", stdout=out)
    assert out.getvalue().startswith("name,name_en,")

    call_command("export_organizations", "--format", "xlsx", "-o", str(tmp_path / "d.xlsx"))
    assert read_table((tmp_path / "d.xlsx").read_bytes(), format="xlsx").rows

    with pytest.raises(CommandError, match="XLSX is a binary format"):
        call_command("export_organizations", "--format", "xlsx")


def test_staff_import_through_the_admin_with_a_preview(client, cast, centre):
    client.force_login(cast.staff)
    rows = [org(name="Admin Lab"), org(name="Centre again", ror_id="05sd8tv96", city="Sabadell")]
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "partners.csv"

    preview = client.post(
        "/en/admin/directory/organization/import/",
        {"format": "0", "import_file": upload, "resource": "0"},
    )

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Preview" in page and "Admin Lab" in page
    assert "merge into &#x27;Example Supercomputing Centre&#x27;" in page
    assert not Organization.objects.filter(name_en="Admin Lab").exists()  # a dry run
    form = preview.context["confirm_form"]
    confirm = client.post(
        "/en/admin/directory/organization/process_import/",
        {name: form.initial.get(name, "") for name in form.fields},
    )
    assert confirm.status_code == 302
    assert Organization.objects.get(name_en="Admin Lab").history.get().history_user == cast.staff
    centre.refresh_from_db()
    assert centre.city == "Sabadell"


def test_staff_see_row_errors_in_the_admin_and_cannot_confirm(client, cast):
    client.force_login(cast.staff)
    upload = io.BytesIO(csv_bytes([org(name="Bad Lab", country="XX")]))
    upload.name = "partners.csv"

    response = client.post(
        "/en/admin/directory/organization/import/",
        {"format": "0", "import_file": upload, "resource": "0"},
    )

    page = response.content.decode()
    assert "Some rows failed to validate" in page
    assert "&#x27;XX&#x27; is not an ISO 3166 country code" in page
    assert "confirm_form" not in response.context or not response.context["confirm_form"]


def test_staff_get_a_clear_message_for_a_file_in_the_wrong_encoding(client, cast):
    client.force_login(cast.staff)
    upload = io.BytesIO("name,kind\nFundació,foundation\n".encode("utf-16"))
    upload.name = "partners.csv"

    response = client.post(
        "/en/admin/directory/organization/import/",
        {"format": "0", "import_file": upload, "resource": "0"},
    )

    assert response.status_code == 200
    assert "The file is UTF-16 text" in response.content.decode()


def test_staff_export_from_the_admin(client, cast):
    client.force_login(cast.staff)
    changelist = client.get("/en/admin/directory/organization/").content.decode()
    assert "/en/admin/directory/organization/import/" in changelist
    assert "/en/admin/directory/organization/export/" in changelist

    response = client.post(
        "/en/admin/directory/organization/export/",
        {"format": "0", "resource": "0", **{f"organizationresource_{c}": "on" for c in HEADER}},
    )

    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert re.search(r"Consulate General of Japan", text)


def test_someone_who_may_only_view_organisations_cannot_import(client, cast):
    from django.contrib.auth.models import Permission

    viewer = cast.outsider
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_organization"))
    client.force_login(viewer)

    assert client.get("/en/admin/directory/organization/import/").status_code == 403
    assert client.get("/en/admin/directory/organization/export/").status_code == 200


def test_it_writes_nothing_if_the_directory_changes_under_it(cast, monkeypatch):
    """Another import took a slug or an id between the plan and the write."""
    from django.db import IntegrityError

    from diplohub.directory import importers

    real_apply = importers.apply_plan

    def apply_then_collide(plan, **kwargs):  # type: ignore[no-untyped-def]
        real_apply(plan, **kwargs)
        raise IntegrityError("UNIQUE constraint failed: directory_organization.slug")

    monkeypatch.setattr(importers, "apply_plan", apply_then_collide)

    report = run(csv_bytes([org(name="Late Lab")]))

    assert not report.written and not report.ok
    assert report.file_errors[0].startswith("The directory changed while this file was being")
    assert not Organization.objects.filter(name_en="Late Lab").exists()


CONSULAR_HEADER = ["name", "kind", "country", "consular_class", "exequatur_date", "jurisdiction"]


def test_it_imports_the_consular_corps_with_class_and_exequatur(cast):
    rows = [
        {
            "name": "Consulate General of Ruritania",
            "kind": "consulate_general",
            "country": "FR",
            "consular_class": "consulate_general",
            "exequatur_date": "2019-10-25",
            "jurisdiction": "Catalonia, Aragon",
        },
        {
            "name": "Honorary Vice-Consulate of Freedonia",
            "kind": "honorary_consulate",
            "country": "IT",
            "consular_class": "Vice-consulate",
            "exequatur_date": "",
            "jurisdiction": "",
        },
    ]
    report = run(csv_bytes(rows, CONSULAR_HEADER))

    assert report.ok, [str(e) for e in report.errors]
    ruritania = Organization.objects.get(name_en="Consulate General of Ruritania")
    assert ruritania.consular_class == "consulate_general"
    assert ruritania.exequatur_date.isoformat() == "2019-10-25"
    assert ruritania.jurisdiction == "Catalonia, Aragon"
    freedonia = Organization.objects.get(name_en="Honorary Vice-Consulate of Freedonia")
    assert (freedonia.consular_class, freedonia.exequatur_date) == ("vice_consulate", None)


def test_it_names_a_bad_exequatur_date_and_class(cast):
    rows = [
        {
            "name": "Consulate of Nowhere",
            "kind": "consulate",
            "country": "FR",
            "consular_class": "embassy",
            "exequatur_date": "25/10/2019",
            "jurisdiction": "",
        },
    ]
    report = run(csv_bytes(rows, CONSULAR_HEADER))

    assert sorted(str(error) for error in report.errors) == [
        "row 2, column consular_class: 'embassy' is not one of: consulate_general, consulate, "
        "vice_consulate, consular_agency",
        "row 2, column exequatur_date: '25/10/2019' is not a date (write it as YYYY-MM-DD)",
    ]
    assert not Organization.objects.filter(name_en="Consulate of Nowhere").exists()
