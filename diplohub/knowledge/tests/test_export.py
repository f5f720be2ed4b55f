"""The CSV export of the initiatives: public open data in the importer's columns, safe
to open in a spreadsheet, that imports again at another hub."""

from __future__ import annotations

import csv
import io

import pytest

from diplohub.knowledge import importers, services
from diplohub.knowledge.feeds import identifier
from diplohub.knowledge.models import Initiative
from diplohub.knowledge.tests import stories


@pytest.fixture
def catalogue(db):
    return stories.build()


def download(client, url: str = "/en/initiatives.csv") -> tuple[bytes, list[dict[str, str]]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="initiatives.csv"'
    data = b"".join(response.streaming_content)
    return data, list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_it_exports_the_published_initiatives_in_the_importers_columns(client, catalogue):
    data, rows = download(client)

    assert data.startswith("\ufeff".encode())  # spreadsheets read UTF-8 only with a BOM
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header == importers.columns(with_contact_email=False)
    assert [row["title_en"] for row in rows] == [
        "Science diplomacy against the pandemic",
        "Lisbon health data for all",
    ]  # not the draft
    science = rows[0]
    assert science["source_id"] == identifier(catalogue.initiative)
    assert science["source_url"] == (
        "http://testserver/en/initiatives/science-diplomacy-against-the-pandemic/"
    )
    assert science["source_name"] == "Science & Technology Diplomacy Hub"
    assert science["title_ca"] == "Diplomàcia científica contra la pandèmia"
    assert (science["type"], science["topics"], science["response_types"]) == (
        "platform",
        "health",
        "science-advice",
    )
    assert science["languages"] == "ca|es|en"
    assert science["links"] == "web https://hub.example/covid|x https://x.com/hub_example"
    assert science["related_organizations"] == "isglobal-example"  # not the hidden one
    assert science["references"].splitlines() == [
        "The Example Times | A city shares its science | 2020-03-30 | en | "
        "https://times.example/city-science",
        "El Ejemplo | Una ciudad comparte su ciencia | 2020-04-02 | es | "
        "https://ejemplo.example/ciencia",
    ]
    # The contact address stays off the public export.
    assert b"international@hub.example" not in data


def test_the_export_is_the_same_whatever_the_language_of_the_address(client, catalogue):
    assert download(client, "/ca/initiatives.csv")[0] == download(client)[0]


def test_an_imported_initiative_keeps_its_original_source_in_the_export(client, catalogue):
    lisbon = catalogue.lisbon
    lisbon.source_name = "Lisbon Science Hub"
    lisbon.source_url = "https://hub.lisbon.example/en/initiatives/health-data/"
    lisbon.source_id = "tag:hub.lisbon.example,2020-05-01:initiative/7"
    services.initiative_save(initiative=lisbon)

    row = download(client)[1][1]

    assert (row["source_name"], row["source_url"], row["source_id"]) == (
        "Lisbon Science Hub",
        "https://hub.lisbon.example/en/initiatives/health-data/",
        "tag:hub.lisbon.example,2020-05-01:initiative/7",
    )


def test_cells_a_spreadsheet_would_run_are_quoted(client, catalogue):
    lisbon = catalogue.lisbon
    lisbon.title_en = '=HYPERLINK("https://evil.example","Click")'
    lisbon.government = "+34 Lisbon"
    lisbon.city = "@Lisbon"
    lisbon.summary_en = "-1 more"
    services.initiative_save(initiative=lisbon)

    row = download(client)[1][1]

    assert row["title_en"] == '\'=HYPERLINK("https://evil.example","Click")'
    assert (row["government"], row["city"], row["summary_en"]) == (
        "'+34 Lisbon",
        "'@Lisbon",
        "'-1 more",
    )


def test_a_long_catalogue_is_read_in_batches(catalogue, django_assert_max_num_queries):
    for n in range(30):
        extra = stories.initiative(title_en=f"Initiative {n}", initiative_type=catalogue.platform)
        services.initiative_save(initiative=extra, topics=[catalogue.health])
        services.initiative_publish(initiative=extra)
    # Per batch: the initiatives, their four relations and their slugs; then one empty read.
    with django_assert_max_num_queries(4 * 6 + 1):
        lines = list(importers.export_csv(Initiative.objects.published(), page_of=str, batch=10))
    assert len(lines) == 1 + 32


def test_the_export_refuses_a_post(client, catalogue):
    assert client.post("/en/initiatives.csv").status_code == 405


def test_an_empty_catalogue_exports_the_header(client, db):
    data, rows = download(client)
    assert rows == []
    assert data.decode("utf-8-sig").startswith("source_id,source_url,source_name,title_en")
