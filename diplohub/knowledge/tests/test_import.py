"""Importing initiatives from CSV and from another DiploHub's JSON feed, told as
stories about Sofia (staff), who gathers initiatives from partner cities and from the
hubs of other cities. Every problem comes back naming the row (or item), the column
(or field) and the reason; nothing is half-written; importing again updates rather
than doubles; an imported initiative keeps where it came from. No test goes to the
network: feeds are read through a fake fetch.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import threading
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diplohub.knowledge import importers, slugs
from diplohub.knowledge.models import Initiative, PublicationState
from diplohub.knowledge.services import initiatives_import
from diplohub.knowledge.tests import stories

HEADER = [
    "source_id",
    "source_url",
    "title",
    "title_ca",
    "summary",
    "body",
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
    "related_organizations",
    "references",
]
PARTNERS = "Partner cities network"


@pytest.fixture
def catalogue(db):
    return stories.build()


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or HEADER, extrasaction="raise")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def row(**cells: str) -> dict[str, str]:
    found = dict.fromkeys(HEADER, "")
    found.update(
        {
            "source_id": "lyon-7",
            "source_url": "https://partners.example/initiatives/7",
            "title": "Lyon science shop",
            "title_ca": "Botiga de ciència de Lió",
            "summary": "Citizens ask, researchers answer.",
            "body": "Questions from **citizens**.",
            "government": "Lyon Metropolis",
            "city": "Lyon",
            "country": "FR",
            "type": "Plataforma",  # a name in Spanish
            "response_types": "science-advice",
            "topics": "Salut",  # a name in Catalan
            "languages": "fr|en",
            "links": "https://lyon.example/shop | x https://x.com/lyon_example",
            "start_date": "2021-09-01",
            "status": "Ongoing",
            "related_organizations": "isglobal-example",
            "references": (
                "Le Progrès Example | A shop for science | 2021-09-03 | fr | https://progres.example/a\n"
                "The Example Times | Science on demand | | en | https://times.example/b"
            ),
        }
    )
    found.update(cells)
    return found


def run(data: bytes, **options) -> importers.ImportReport:  # type: ignore[no-untyped-def]
    options.setdefault("format", "csv")
    options.setdefault("dry_run", False)
    options.setdefault("valid_rows_only", False)
    options.setdefault("source_name", PARTNERS)
    return initiatives_import(data=data, **options)


def imported() -> list[Initiative]:
    return list(Initiative.objects.exclude(source_name="").order_by("pk"))


# --- CSV ---------------------------------------------------------------------------------


def test_it_imports_a_good_csv(client, catalogue):
    report = run(csv_bytes([row(), row(source_id="porto-2", title="Porto ocean lab", title_ca="")]))

    assert report.ok, "\n".join(report.lines())
    assert (report.created, report.written) == (2, True)
    lyon, porto = imported()
    assert lyon.state == PublicationState.PUBLISHED and lyon.published_at is not None
    assert (lyon.source_name, lyon.source_url, lyon.source_id) == (
        PARTNERS,
        "https://partners.example/initiatives/7",
        "lyon-7",
    )
    assert lyon.title_en == "Lyon science shop" and lyon.title_ca == "Botiga de ciència de Lió"
    assert lyon.initiative_type == catalogue.platform
    assert list(lyon.topics.all()) == [catalogue.health]
    assert list(lyon.response_types.all()) == [catalogue.advice]
    assert list(lyon.related_organizations.all()) == [catalogue.isglobal]
    assert lyon.languages == ["fr", "en"]
    assert lyon.links == [
        {"kind": "web", "url": "https://lyon.example/shop"},
        {"kind": "x", "url": "https://x.com/lyon_example"},
    ]
    assert lyon.status == "ongoing" and str(lyon.start_date) == "2021-09-01"
    assert [(r.outlet, r.date, r.language) for r in lyon.references.all()] == [
        ("Le Progrès Example", lyon.references.first().date, "fr"),
        ("The Example Times", None, "en"),
    ]
    # Addresses in every language, and a page that links back to the original.
    assert slugs.slug_of(lyon, "ca") == "botiga-de-ciencia-de-lio"
    assert slugs.slug_of(porto, "ca") == "porto-ocean-lab"  # falls back to the default title
    page = client.get("/en/initiatives/lyon-science-shop/")
    assert page.status_code == 200
    assert "https://partners.example/initiatives/7" in page.content.decode()
    assert "Partner cities network" in page.content.decode()


def test_imported_initiatives_are_found_by_the_search_and_get_similar_ones(catalogue):
    from diplohub.knowledge import search

    run(csv_bytes([row()]), dry_run=True)
    assert search.search(query="botiga", language="ca").total == 0  # a dry run leaves no trace

    run(csv_bytes([row()]))

    [hit] = search.search(query="botiga", language="ca").hits
    [lyon] = imported()
    assert hit.object_id == lyon.pk
    # The background job computes its similar initiatives (it is due: never computed).
    assert lyon.similar_computed_at is None


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(catalogue):
    before = Initiative.objects.count()
    report = run(csv_bytes([row()]), dry_run=True)

    assert report.ok and report.created == 1 and not report.written
    assert Initiative.objects.count() == before
    assert report.lines()[-1] == (
        "1 row read, 1 new, 0 updated, 0 unchanged, 0 with errors. Dry run: nothing was written."
    )
    assert "row 2: new initiative 'Lyon science shop'" in report.lines()


def test_it_names_every_bad_cell_by_row_column_and_reason(catalogue):
    rows = [
        row(),
        row(source_id="b", type="hackathon"),
        row(source_id="c", country="XX", start_date="2020-02-30"),
        row(source_id="d", topics="health|nope", languages="ca|klingon"),
        row(source_id="e", links="ftp://files.example/x", status="paused"),
        row(source_id="f", references="Outlet | Title | 2020-13-01 | en | https://a.example/"),
        row(source_id="g", start_date="1850-01-01"),
        row(source_id="h", references="Only | three | parts", country="Spain"),
    ]

    report = run(csv_bytes(rows))

    problems = [str(problem) for problem in report.errors]
    assert problems[0] == (
        "row 3, column type: hackathon is not a known type of initiative; use one of: platform."
    )
    assert "row 4, column country: 'XX' is not an ISO 3166 country code" in problems
    assert (
        "row 4, column start_date: '2020-02-30' is not a date (write it as YYYY-MM-DD)" in problems
    )
    assert "row 5, column topics: nope is not a known topic; use one of: health." in problems
    assert any(
        p.startswith("row 5, column languages: klingon is not a language code") for p in problems
    )
    assert any(
        p.startswith("row 6, column links: ftp://files.example/x is not a web address")
        for p in problems
    )
    assert (
        "row 6, column status: 'paused' is not a status (planned, ongoing, completed)" in problems
    )
    assert (
        "row 7, column references: line 1: '2020-13-01' is not a date (write it as YYYY-MM-DD)"
        in problems
    )
    assert (
        "row 9, column country: 'Spain' is not an ISO 3166 country code (did you mean ES?)"
        in problems
    )
    assert "row 8, column start_date: 1850-01-01 is too early: use a date from 1900 on." in problems
    assert any(
        p.startswith("row 9, column references: line 1: 'Only | three | parts' has 3 parts")
        for p in problems
    )
    assert report.invalid == [3, 4, 5, 6, 7, 8, 9]
    # One bad row in many: nothing is written.
    assert not report.written and imported() == []
    assert report.summary().startswith("8 rows read, 1 new, 0 updated, 0 unchanged, 7 with errors.")


def test_it_writes_only_the_valid_rows_when_asked(catalogue):
    report = run(csv_bytes([row(), row(source_id="b", type="hackathon")]), valid_rows_only=True)

    assert report.written and report.created == 1
    assert [i.source_id for i in imported()] == ["lyon-7"]
    assert report.summary().endswith("Written, except the rows with errors.")


def test_importing_again_updates_rather_than_doubles(client, catalogue):
    run(csv_bytes([row()]))
    [lyon] = imported()

    again = run(csv_bytes([row()]))
    assert (again.created, again.updated, again.unchanged, again.written) == (0, 0, 1, False)
    assert "row 2: 'Lyon science shop' is already here, unchanged" in again.lines()

    changed = run(csv_bytes([row(title_ca="Botiga de la ciència de Lió", topics="")]))
    assert (changed.created, changed.updated) == (0, 1)
    assert changed.outcomes[0].changes == ["title_ca"]  # an empty cell leaves what is stored
    assert [i.pk for i in imported()] == [lyon.pk]
    lyon.refresh_from_db()
    assert lyon.title_ca == "Botiga de la ciència de Lió"
    assert list(lyon.topics.all()) == [catalogue.health]
    # The old Catalan address redirects to the new one.
    old = client.get("/ca/initiatives/botiga-de-ciencia-de-lio/")
    assert old.status_code == 301
    assert old["Location"] == "/ca/initiatives/botiga-de-la-ciencia-de-lio/"


def test_an_original_that_moved_is_still_the_same_initiative(catalogue):
    run(csv_bytes([row()]))
    report = run(csv_bytes([row(source_url="https://partners.example/v2/initiatives/7")]))

    assert report.updated == 1 and report.outcomes[0].changes == ["source_url"]
    [lyon] = imported()
    assert lyon.source_url == "https://partners.example/v2/initiatives/7"


def test_the_same_id_from_another_source_is_another_initiative(catalogue):
    run(csv_bytes([row()]))
    report = run(
        csv_bytes([row(source_url="https://other.example/7")]), source_name="Another network"
    )
    assert report.created == 1
    assert len(imported()) == 2


def test_a_file_with_the_same_item_twice_is_refused(catalogue):
    report = run(csv_bytes([row(), row(title="Lyon science shop, again")]))
    assert [str(problem) for problem in report.errors] == [
        "row 3, column source_id: the same item as row 2"
    ]
    assert imported() == []


def test_html_in_markdown_is_refused_and_html_in_a_title_stays_text(client, catalogue):
    report = run(
        csv_bytes(
            [
                row(body="Hello <script>alert(1)</script>"),
                row(source_id="b", body="[click](javascript:alert(1))"),
                row(source_id="c", title="<b>Bold</b> & <i>brave</i>", title_ca="", body=""),
            ]
        ),
        valid_rows_only=True,
    )

    problems = [str(problem) for problem in report.errors]
    assert problems[0].startswith(
        "row 2, column body_en: Write Markdown without HTML: <script> is not allowed."
    )
    assert problems[1] == (
        "row 3, column body_en: Links may only go to web (https://…) or e-mail (mailto:…) "
        "addresses."
    )
    [bold] = imported()
    assert bold.title_en == "<b>Bold</b> & <i>brave</i>"  # kept as written
    page = client.get(bold.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;i&gt;brave&lt;/i&gt;" in page
    assert "<b>Bold</b>" not in page


def test_a_new_initiative_needs_its_government_city_country_and_type(catalogue):
    report = run(csv_bytes([row(government="", city="", country="", type="")]))
    assert [str(problem) for problem in report.errors] == [
        "row 2, column government: empty; a new initiative needs it",
        "row 2, column city: empty; a new initiative needs it",
        "row 2, column country: empty; a new initiative needs it",
        "row 2, column type: empty; a new initiative needs it",
    ]


def test_each_row_needs_a_source_id_and_a_source(catalogue):
    report = run(csv_bytes([row(source_id="")]), source_name="")
    assert [str(problem) for problem in report.errors] == [
        "row 2, column source_id: empty; each initiative needs its id at its source, so that "
        "importing again updates it rather than adding it twice",
        "row 2, column source_name: empty; name the source here or with --source-name",
    ]


def test_a_source_name_column_names_each_rows_source(catalogue):
    header = [*HEADER, "source_name"]
    report = run(csv_bytes([row(source_name="Lyon Metropolis open data")], header), source_name="")
    assert report.ok
    assert imported()[0].source_name == "Lyon Metropolis open data"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b"title,city\nA,B\n", "Missing columns: source_id, government, country, type."),
        (b"PK\x03\x04rest", "This is a zip file"),
        ("source_id,title\nx,Caf\xe9\n".encode("latin-1"), "The file is not UTF-8 text"),
        (b"source_id,title,title_en\n", "The columns title and title_en are the same"),
    ],
)
def test_it_refuses_files_it_cannot_read_with_a_message(catalogue, data, message):
    report = run(data)
    assert report.file_errors and report.file_errors[0].startswith(message), report.file_errors
    assert report.summary() == "Nothing was imported."


def test_it_refuses_a_huge_file_before_parsing_it(catalogue, monkeypatch):
    monkeypatch.setattr(importers, "MAX_IMPORT_BYTES", 1024)

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("parsed a file over the limit")

    monkeypatch.setattr(importers, "read_table", never)
    monkeypatch.setattr(importers.json, "loads", never)
    report = run(b"x" * 2048)
    assert report.file_errors == ["The file is 2 KB; the most the importer reads is 1 KB."]
    report = run(b"x" * 2048, format="json")
    assert report.file_errors == ["The file is 2 KB; the most the importer reads is 1 KB."]


def test_it_notes_columns_it_does_not_know_and_ignores_blank_rows(catalogue):
    header = [*HEADER, "favourite_colour"]
    data = csv_bytes([row(favourite_colour="blue"), dict.fromkeys(header, "")], header)
    report = run(data)
    assert report.ok and report.created == 1 and report.total == 1
    assert "Columns the importer does not know, left out: favourite_colour." in report.notes


def test_it_keeps_spreadsheet_formulas_from_running_both_ways(catalogue):
    run(csv_bytes([row(title='\'=HYPERLINK("https://evil.example")')]))
    [lyon] = imported()
    assert lyon.title_en == '=HYPERLINK("https://evil.example")'


def test_the_hubs_own_initiatives_are_not_imported_into_it(client, catalogue):
    exported = b"".join(client.get("/en/initiatives.csv").streaming_content)

    report = run(exported, source_name="")

    assert len(report.errors) == 2
    assert str(report.errors[0]).startswith("row 2, column source_id: 'tag:127.0.0.1,")
    assert str(report.errors[0]).endswith(
        "is one of this hub's own initiatives; it is not imported into the hub it comes from"
    )


def test_new_initiatives_may_wait_as_drafts(catalogue):
    run(csv_bytes([row()]), draft=True)
    [lyon] = imported()
    assert lyon.state == PublicationState.DRAFT and lyon.published_at is None


@pytest.mark.django_db(transaction=True)
def test_imports_running_at_once_never_double_an_initiative():
    """Four imports of the same file at the same time, each on its own connection: one
    writes the initiatives; the others find them, or are refused whole and say so."""
    stories.build()
    data = csv_bytes([row(source_id=f"lyon-{n}", title=f"Lyon {n}") for n in range(3)])
    reports: list[importers.ImportReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        try:
            reports.append(run(data))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(i.source_id for i in imported()) == ["lyon-0", "lyon-1", "lyon-2"]
    assert sum(report.created for report in reports if report.written) == 3
    for report in reports:
        if not report.ok:
            assert not report.written
            problems = [*report.file_errors, *map(str, report.errors)]
            assert all("at the same time" in problem for problem in problems), problems


# --- Another hub's export and feed -----------------------------------------------------


class OtherHub:
    """Hub A, on hub-a.example: its pages and API as another hub reads them."""

    def __init__(self, client, settings) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        settings.ALLOWED_HOSTS = ["hub-a.example", "testserver"]
        settings.SITE_URL = "https://hub-a.example"
        self.settings = settings

    def get(self, url: str) -> bytes:
        parts = urlsplit(url)
        response = self.client.get(
            f"{parts.path}?{parts.query}", HTTP_HOST=parts.netloc, secure=parts.scheme == "https"
        )
        assert response.status_code == 200, response.content
        if response.streaming:
            return b"".join(response.streaming_content)
        return response.content

    def pages(self, first: str) -> dict[str, bytes]:
        """Every page of a feed, as hub A answers it now."""
        found, url = {}, first
        while url:
            found[url] = self.get(url)
            url = json.loads(found[url])["next"]
        return found

    def becomes_hub_b(self) -> None:
        """The catalogue goes (hub B starts empty) and this process is hub B."""
        Initiative.objects.all().delete()
        self.settings.SITE_URL = "https://hub-b.example"


@pytest.fixture
def hub_a(client, settings, catalogue):
    return OtherHub(client, settings)


FEED = "https://hub-a.example/api/v1/initiatives?page_size=1"


def fake_fetch(pages: dict[str, bytes]):  # type: ignore[no-untyped-def]
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return pages[url]

    fetch.asked = asked  # type: ignore[attr-defined]
    return fetch


def test_another_hubs_csv_export_imports_with_its_source(hub_a, catalogue):
    exported = hub_a.get("https://hub-a.example/en/initiatives.csv")
    a_ids = [item.source_id or "" for item in Initiative.objects.published()]
    assert a_ids == ["", ""]
    hub_a.becomes_hub_b()

    report = run(exported, source_name="")

    assert report.ok and report.created == 2, "\n".join(report.lines())
    science, _lisbon = imported()
    assert science.source_name == "Science & Technology Diplomacy Hub"
    assert science.source_url == (
        "https://hub-a.example/en/initiatives/science-diplomacy-against-the-pandemic/"
    )
    assert science.source_id.startswith("tag:hub-a.example,")
    assert science.title_ca == "Diplomàcia científica contra la pandèmia"
    assert [r.outlet for r in science.references.all()] == ["The Example Times", "El Ejemplo"]
    assert list(science.related_organizations.all()) == [catalogue.isglobal]
    assert science.links[1] == {"kind": "x", "url": "https://x.com/hub_example"}
    assert run(exported, source_name="").unchanged == 2


def test_another_hubs_feed_imports_page_after_page(hub_a, catalogue):
    pages = hub_a.pages(FEED)
    assert len(pages) == 2
    hub_a.becomes_hub_b()
    fetch = fake_fetch(pages)

    report = run(pages[FEED], format="json", url=FEED, fetch=fetch, source_name="")

    assert report.ok and report.created == 2, "\n".join(report.lines())
    assert fetch.asked == ["https://hub-a.example/api/v1/initiatives?page_size=1&page=2"]
    science, _lisbon = imported()
    assert science.source_name == "hub-a.example"  # the feed's host, unless named
    assert science.source_url == (
        "https://hub-a.example/en/initiatives/science-diplomacy-against-the-pandemic/"
    )
    assert science.source_id.startswith("tag:hub-a.example,")
    assert (science.title_es, science.summary_ca) == (
        "Diplomacia científica contra la pandemia",
        "La ciutat comparteix la seva recerca amb el món.",
    )
    assert science.initiative_type == catalogue.platform
    assert list(science.topics.all()) == [catalogue.health]
    assert list(science.response_types.all()) == [catalogue.advice]
    assert [r.title for r in science.references.all()] == [
        "A city shares its science",
        "Una ciudad comparte su ciencia",
    ]
    assert str(science.start_date) == "2020-03-16" and science.status == "completed"
    assert report.outcomes[0].where == "item 1 (page 1)"
    assert report.outcomes[1].where == "item 2 (page 2)"
    # Again: the same items, unchanged.
    again = run(pages[FEED], format="json", url=FEED, fetch=fake_fetch(pages), source_name="")
    assert (again.created, again.unchanged) == (0, 2)


def test_an_item_another_hub_had_imported_keeps_its_original_source(hub_a, catalogue):
    lisbon = catalogue.lisbon
    lisbon.source_name = "Lisbon Science Hub"
    lisbon.source_url = "https://hub.lisbon.example/en/initiatives/health-data/"
    lisbon.source_id = "tag:hub.lisbon.example,2020-05-01:initiative/7"
    lisbon.save()
    pages = hub_a.pages(FEED)
    hub_a.becomes_hub_b()

    run(pages[FEED], format="json", url=FEED, fetch=fake_fetch(pages), source_name="Hub A")

    science, lisbon = imported()
    assert science.source_name == "Hub A"
    assert (lisbon.source_name, lisbon.source_url, lisbon.source_id) == (
        "Lisbon Science Hub",
        "https://hub.lisbon.example/en/initiatives/health-data/",
        "tag:hub.lisbon.example,2020-05-01:initiative/7",
    )


def feed(*items: dict, next_url: str | None = None) -> bytes:
    return json.dumps({"count": len(items), "next": next_url, "items": list(items)}).encode()


def item(**fields) -> dict:  # type: ignore[no-untyped-def]
    found = {
        "id": 3,
        "uri": "tag:hub-c.example,2021-01-01:initiative/3",
        "url": "https://hub-c.example/en/initiatives/seoul-open-lab/",
        "translations": {
            "en": {"title": "Seoul open lab", "summary": "A lab.", "body": None},
            "ko": {"title": "서울 오픈 랩", "summary": None, "body": None},
        },
        "government": "Seoul Metropolitan Government",
        "city": "Seoul",
        "country": "KR",
        "type": {"slug": "lab", "name": "Lab", "names": {"en": "Lab", "es": "Plataforma"}},
        "topics": [{"slug": "public-health", "names": {"en": "Health"}}],
        "languages": ["ko", "en"],
        "published": "2021-01-02T10:00:00Z",
    }
    found.update(fields)
    return found


def test_a_feeds_vocabularies_are_found_by_slug_or_by_any_name(catalogue):
    report = run(feed(item()), format="json", source_name="Hub C")

    assert report.ok, "\n".join(report.lines())
    [seoul] = imported()
    assert seoul.initiative_type == catalogue.platform  # by its Spanish name
    assert list(seoul.topics.all()) == [catalogue.health]  # by its English name
    assert seoul.published_at.isoformat() == "2021-01-02T10:00:00+00:00"
    assert report.outcomes[0].notes == ["texts in ko left out (not a language of this hub)"]


def test_a_feed_item_with_an_unknown_vocabulary_or_bad_values_is_refused(catalogue):
    report = run(
        feed(
            item(type={"slug": "hackathon", "name": "Hackathon"}),
            item(
                uri="tag:hub-c.example,2021-01-01:initiative/4",
                country="Korea",
                start_date="2021-02-30",
                topics="health",
                references=[{"outlet": 3}],
            ),
            "not an object",
        ),
        format="json",
        source_name="Hub C",
    )

    assert [str(problem) for problem in report.errors] == [
        "item 1, field type: hackathon is not a known type of initiative; use one of: platform.",
        "item 2, field country: 'Korea' is not an ISO 3166 country code",
        "item 2, field topics: is not a list",
        "item 2, field start_date: '2021-02-30' is not a date (write it as YYYY-MM-DD)",
        "item 2, field references.0: outlet is not text",
        "item 3: is not a JSON object",
    ]
    assert imported() == []


def test_a_feed_without_the_default_languages_title_fills_it_in(catalogue):
    report = run(
        feed(item(translations={"ca": {"title": "Laboratori obert de Seül"}})),
        format="json",
        source_name="Hub C",
    )
    [seoul] = imported()
    assert seoul.title_en == seoul.title_ca == "Laboratori obert de Seül"
    assert "no text in en, the hub's default language: the ca one stands in" in (
        report.outcomes[0].notes
    )


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        (
            {FEED: feed(item(), next_url="https://elsewhere.example/api/v1/initiatives?page=2")},
            "Page 1 leads to https://elsewhere.example/api/v1/initiatives?page=2, another site "
            "than the feed's",
        ),
        ({FEED: feed(item(), next_url=FEED)}, "Page 1 leads back to"),
        ({FEED: b"<html>Not JSON</html>"}, "The file (https://hub-a.example/api/v1/initiatives"),
        (
            {FEED: b'{"detail": "nope"}'},
            f"The file ({FEED}) is not a list of initiatives",
        ),
        (
            {FEED: b'{"items": [{"slug": "x", "name": "An organisation"}]}'},
            f"The file ({FEED}) lists something other than initiatives",
        ),
    ],
)
def test_a_feed_it_cannot_follow_is_refused_whole(catalogue, pages, message):
    report = run(pages[FEED], format="json", url=FEED, fetch=fake_fetch(pages), source_name="A")
    assert report.file_errors[0].startswith(message), report.file_errors
    assert imported() == []


def test_a_saved_page_of_a_feed_is_read_alone_and_says_so(catalogue):
    report = run(
        feed(item(), next_url="https://hub-c.example/api/v1/initiatives?page=2"),
        format="json",
        source_name="Hub C",
    )
    assert report.created == 1
    assert report.notes == [
        "The file is one page of a feed; only its items were read. Give the feed's address "
        "(https://hub-c.example/api/v1/initiatives?page=2…) to read every page."
    ]


def test_a_feed_with_too_many_pages_is_refused(catalogue, monkeypatch):
    monkeypatch.setattr(importers, "MAX_PAGES", 2)
    pages = {
        FEED: feed(item(), next_url=FEED + "&page=2"),
        FEED + "&page=2": feed(item(), next_url=FEED + "&page=3"),
    }
    report = run(pages[FEED], format="json", url=FEED, fetch=fake_fetch(pages), source_name="A")
    assert report.file_errors == [
        "The feed has more than 2 pages; import it in parts (e.g. with ?updated_since=…)."
    ]


def test_fetching_refuses_what_is_not_the_web_or_too_big(monkeypatch):
    with pytest.raises(importers.ImportFileError, match="is not a web address"):
        importers.fetch_url("file:///etc/passwd")

    class Response:
        headers = {"Content-Length": str(importers.MAX_IMPORT_BYTES + 1)}

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            return False

        def read(self, size: int) -> bytes:
            raise AssertionError("read a body announced as too big")

    asked = {}

    def urlopen(request, timeout):  # type: ignore[no-untyped-def]
        asked["timeout"] = timeout
        return Response()

    monkeypatch.setattr(importers.urllib.request, "urlopen", urlopen)
    with pytest.raises(importers.ImportFileError, match="the most the importer reads is"):
        importers.fetch_url("https://hub-a.example/api/v1/initiatives")
    assert asked["timeout"] == importers.FETCH_TIMEOUT

    def unreachable(request, timeout):  # type: ignore[no-untyped-def]
        raise importers.urllib.error.URLError("timed out")

    monkeypatch.setattr(importers.urllib.request, "urlopen", unreachable)
    with pytest.raises(importers.ImportFileError, match="could not be read: timed out"):
        importers.fetch_url("https://hub-a.example/api/v1/initiatives")


# --- The command ------------------------------------------------------------------------------


def test_the_command_imports_a_csv_and_prints_what_it_did(catalogue, tmp_path, capsys):
    path = tmp_path / "partners.csv"
    path.write_bytes(csv_bytes([row()]))

    call_command("import_initiatives", str(path), "--source-name", PARTNERS, "--dry-run")
    assert imported() == []
    call_command("import_initiatives", str(path), "--source-name", PARTNERS)

    out = capsys.readouterr().out
    assert "row 2: new initiative 'Lyon science shop'" in out
    assert "1 row read, 1 new, 0 updated, 0 unchanged, 0 with errors. Written." in out
    assert len(imported()) == 1


def test_the_command_prints_the_errors_and_fails(catalogue, tmp_path, capsys):
    path = tmp_path / "partners.csv"
    path.write_bytes(csv_bytes([row(type="hackathon")]))
    with pytest.raises(CommandError, match=r"1 problem; see above\."):
        call_command("import_initiatives", str(path), "--source-name", PARTNERS)
    assert "row 2, column type: hackathon is not a known type of initiative" in (
        capsys.readouterr().out
    )


def test_the_command_follows_a_feeds_address(hub_a, monkeypatch, capsys):
    pages = hub_a.pages(FEED)
    hub_a.becomes_hub_b()
    fetch = fake_fetch(pages)
    monkeypatch.setattr(importers, "fetch_url", fetch)

    call_command("import_initiatives", FEED, "--source-name", "Hub A")

    assert fetch.asked == [FEED, FEED + "&page=2"]
    assert [i.source_name for i in imported()] == ["Hub A", "Hub A"]


def test_the_command_reads_a_saved_json_page(catalogue, tmp_path):
    path = tmp_path / "seoul.json"
    path.write_bytes(feed(item()))
    call_command("import_initiatives", str(path), "--source-name", "Hub C")
    assert [i.city for i in imported()] == ["Seoul"]


def test_the_command_says_what_it_cannot_read(catalogue, tmp_path, monkeypatch):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_initiatives", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="Cannot tell the format"):
        call_command("import_initiatives", str(tmp_path / "list.txt"))
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 4096)
    monkeypatch.setattr(importers, "MAX_IMPORT_BYTES", 1024)
    with pytest.raises(
        CommandError, match=r"big\.csv is 4 KB; the most the importer reads is 1 KB\."
    ):
        call_command("import_initiatives", str(big))


# --- Whatever the cells hold ------------------------------------------------------------------

PLAUSIBLE = {
    "source_id": ["", "a", "b", "tag:hub-c.example,2021-01-01:initiative/1"],
    "source_url": ["", "https://a.example/1", "not a url"],
    "title": ["", "A title", "<script>x</script>"],
    "title_ca": ["", "Un títol"],
    "summary": ["", "Short."],
    "body": ["", "**Bold**", "<iframe>", "[x](javascript:y)"],
    "government": ["", "A council"],
    "city": ["", "Lyon"],
    "country": ["", "FR", "fr", "XX", "France"],
    "type": ["", "platform", "Plataforma", "hackathon"],
    "response_types": ["", "science-advice", "science-advice|nope"],
    "topics": ["", "health", "Salut|health", "nope"],
    "languages": ["", "fr|en", "xx"],
    "links": ["", "https://a.example", "x https://x.com/a", "ftp://a", "a b c"],
    "start_date": ["", "2021-01-01", "2021-13-01", "1800-01-01", "3000-01-01"],
    "status": ["", "ongoing", "Completed", "paused"],
    "related_organizations": ["", "isglobal-example", "nowhere"],
    "references": ["", "O | T | 2020-01-01 | en | https://a.example", "O | T", "| | | | "],
}
row_strategy = st.fixed_dictionaries(
    {
        column: st.one_of(st.sampled_from(PLAUSIBLE[column]), st.text(max_size=30))
        for column in HEADER
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row_strategy, max_size=5))
def test_it_reports_rather_than_raises_whatever_the_cells_hold(catalogue, rows):
    with transaction.atomic():
        report = run(csv_bytes(rows), valid_rows_only=True)
        if report.file_errors:
            assert report.total == 0
        else:
            done = {outcome.number for outcome in report.outcomes}
            assert done.isdisjoint(report.invalid)
            assert len(done) + len(report.invalid) == report.total
            assert report.written == bool(report.created or report.updated)
        transaction.set_rollback(True)


printable = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30
).map(str.strip)
valid_row = st.fixed_dictionaries(
    {
        "title": printable.filter(bool),
        "title_ca": printable,
        "summary": printable.map(lambda text: text.replace("<", "")),  # HTML is refused
        "government": printable.filter(bool),
        "city": printable.filter(bool),
        "country": st.sampled_from(["ES", "FR", "JP", "MX", "US"]),
        "type": st.sampled_from(["platform", "Platform", "Plataforma"]),
        "topics": st.sampled_from(["", "health"]),
        "start_date": st.dates(datetime.date(1900, 1, 1), datetime.date(2024, 12, 31)).map(str),
    }
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(valid_row, min_size=1, max_size=4))
def test_what_it_imports_it_exports_and_imports_again_unchanged(catalogue, rows):
    header = ["source_id", *rows[0]]
    rows = [{"source_id": f"row-{n}", **cells} for n, cells in enumerate(rows)]
    with transaction.atomic():
        first = run(csv_bytes(rows, header))
        assert first.ok, first.lines()
        exported = "".join(
            importers.export_csv(
                Initiative.objects.filter(source_name=PARTNERS), page_of=lambda item: ""
            )
        )
        again = run(exported.encode("utf-8"), source_name="")
        assert again.ok, again.lines()
        assert again.unchanged == len(rows), again.lines()
        transaction.set_rollback(True)
