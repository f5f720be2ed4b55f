"""The sitemap: an index at /sitemap.xml of one sitemap per section, every public page
in every language with its alternates (hreflang), and robots.txt pointing to it."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from diplohub.events.models import Event
from diplohub.knowledge.tests import stories
from diplohub.web import sitemaps

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture
def catalogue(cast):
    return stories.build()


def xml(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return ET.fromstring(response.content)  # noqa: S314 - our own output


def sections(client) -> dict[str, str]:
    index = xml(client.get("/sitemap.xml"))
    assert index.tag == f"{SITEMAP}sitemapindex"
    found = {}
    for entry in index.findall(f"{SITEMAP}sitemap"):
        location = entry.findtext(f"{SITEMAP}loc")
        found[location.rsplit("sitemap-", 1)[1].removesuffix(".xml")] = location
    return found


def urls(client, section: str) -> dict[str, dict[str, str]]:
    """Each address of a section, with its alternates by hreflang."""
    root = xml(client.get(f"/sitemap-{section}.xml"))
    assert root.tag == f"{SITEMAP}urlset"
    return {
        url.findtext(f"{SITEMAP}loc"): {
            link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link")
        }
        for url in root.findall(f"{SITEMAP}url")
    }


def test_the_index_lists_every_section(client, catalogue):
    assert sections(client) == {
        name: f"http://testserver/sitemap-{name}.xml"
        for name in (
            "pages",
            "organisations",
            "events",
            "initiatives",
            "developments",
            "working-groups",
            "publications",
        )
    }


def test_each_initiative_is_there_in_every_language_with_its_alternates(client, catalogue):
    found = urls(client, "initiatives")

    english = "http://testserver/en/initiatives/science-diplomacy-against-the-pandemic/"
    catalan = "http://testserver/ca/initiatives/diplomacia-cientifica-contra-la-pandemia/"
    assert english in found and catalan in found
    assert found[catalan] == {
        "en": english,
        "es": "http://testserver/es/initiatives/diplomacia-cientifica-contra-la-pandemia/",
        "ca": catalan,
        "x-default": "http://testserver/initiatives/science-diplomacy-against-the-pandemic/",
    }
    assert len(found) == 2 * 3  # the two published initiatives; not the draft
    for address in found:
        assert client.get(address).status_code == 200, address
    # x-default lets the site choose the visitor's language.
    assert client.get(found[english]["x-default"]).status_code == 302


def test_the_other_catalogue_items_are_there(client, catalogue):
    assert "http://testserver/es/developments/test-rapido-con-biosensor/" in urls(
        client, "developments"
    )
    assert "http://testserver/en/working-groups/global-expert-working-group/" in urls(
        client, "working-groups"
    )
    assert "http://testserver/ca/publications/llicons-per-a-les-ciutats/" in urls(
        client, "publications"
    )


def test_it_has_public_organisations_and_public_events_only(client, catalogue, cast):
    organisations = urls(client, "organisations")
    assert "http://testserver/en/directory/consulate-general-of-japan/" in organisations
    assert "http://testserver/ca/directory/isglobal-example/" in organisations
    assert not any("faraway-university-example" in address for address in organisations)

    start = timezone.now() + datetime.timedelta(days=3)
    for slug, visibility in (("open-visit", "public"), ("members-visit", "members")):
        Event.objects.create(
            kind="visit",
            title=slug,
            slug=slug,
            start=start,
            end=start + datetime.timedelta(hours=1),
            status="published",
            visibility=visibility,
            capacity=20,
        )
    events = urls(client, "events")
    assert set(events) == {
        f"http://testserver/{code}/programme/open-visit/" for code in ("en", "es", "ca")
    }


def test_the_pages_section_has_the_lists(client, catalogue):
    pages = urls(client, "pages")
    for address in (
        "http://testserver/en/",
        "http://testserver/ca/directory/diplomatic-community/",
        "http://testserver/es/initiatives/",
        "http://testserver/en/programme/",
    ):
        assert address in pages
    for address in pages:
        assert client.get(address).status_code == 200, address


def test_lastmod_is_the_latest_change(client, catalogue):
    root = xml(client.get("/sitemap-initiatives.xml"))
    dates = {url.findtext(f"{SITEMAP}lastmod") for url in root.findall(f"{SITEMAP}url")}
    # The day in the hub's time zone (near midnight it is not UTC's).
    assert dates == {timezone.localdate(catalogue.initiative.updated_at).isoformat()}


def test_a_large_section_is_paged_without_loading_it_whole(client, catalogue, monkeypatch):
    monkeypatch.setattr(sitemaps.HubSitemap, "limit", 4)
    index = xml(client.get("/sitemap.xml"))
    locations = [entry.findtext(f"{SITEMAP}loc") for entry in index.findall(f"{SITEMAP}sitemap")]
    assert "http://testserver/sitemap-initiatives.xml?p=2" in locations
    first = urls(client, "initiatives")
    second = {
        url.findtext(f"{SITEMAP}loc")
        for url in xml(client.get("/sitemap-initiatives.xml?p=2")).findall(f"{SITEMAP}url")
    }
    assert len(first) == 4 and len(second) == 2 and not set(first) & second
    assert client.get("/sitemap-initiatives.xml?p=3").status_code == 404
    assert client.get("/sitemap-nowhere.xml").status_code == 404


def test_robots_txt_points_to_the_sitemap(client, db):
    response = client.get("/robots.txt")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode().splitlines()


def test_the_sitemap_refuses_a_post(client, db):
    assert client.post("/sitemap.xml").status_code == 405
