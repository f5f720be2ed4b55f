"""The Atom feeds of the initiatives (all, and per topic), read back with feedparser and
with xml.etree: valid Atom, in the address's language, with ids that never change."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import feedparser
import pytest

from diplohub.knowledge import services
from diplohub.knowledge.feeds import identifier
from diplohub.knowledge.models import Initiative
from diplohub.knowledge.tests import stories

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture
def catalogue(db):
    return stories.build()


def parse(response) -> tuple[ET.Element, feedparser.FeedParserDict]:
    """The feed as an element tree and as feedparser reads it, after checking that it
    is well-formed Atom with the elements RFC 4287 requires."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{required}"), required
    for entry in root.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{required}"), required
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
        # Every entry has an author (the feed's is not inherited by feedparser's check).
        assert entry.findtext(f"{ATOM}author/{ATOM}name")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return root, parsed


def entries(root: ET.Element) -> dict[str, ET.Element]:
    return {e.findtext(f"{ATOM}title"): e for e in root.findall(f"{ATOM}entry")}


def test_the_feed_lists_the_published_initiatives(client, catalogue):
    root, parsed = parse(client.get("/en/initiatives/feed.atom"))

    assert parsed.feed.title == "Science & Technology Diplomacy Hub: initiatives"
    assert parsed.feed.link == "http://testserver/en/initiatives/"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == "http://testserver/en/initiatives/feed.atom"
    assert set(entries(root)) == {
        "Science diplomacy against the pandemic",
        "Lisbon health data for all",
    }  # not the draft
    entry = next(e for e in parsed.entries if e.title.startswith("Science diplomacy"))
    assert entry.id == identifier(catalogue.initiative)
    assert entry.id.startswith("tag:127.0.0.1,")
    assert entry.link == (
        "http://testserver/en/initiatives/science-diplomacy-against-the-pandemic/"
    )
    assert entry.author == "Barcelona City Council"
    assert entry.summary == "The city shares its research with the world."
    assert "<strong>share</strong>" in entry.content[0].value
    published = datetime.datetime(*entry.published_parsed[:6], tzinfo=datetime.UTC)
    updated = datetime.datetime(*entry.updated_parsed[:6], tzinfo=datetime.UTC)
    assert published <= updated
    terms = {(tag.term, tag.scheme.rsplit("/", 1)[-1], tag.label) for tag in entry.tags}
    assert terms == {
        ("platform", "initiative-types", "Platform"),
        ("science-advice", "response-types", "Science advice"),
        ("health", "topics", "Health"),
    }
    assert all(tag.scheme.startswith("http://127.0.0.1:8000/api/v1/") for tag in entry.tags)


def test_the_feed_is_in_the_addresses_language(client, catalogue):
    root, parsed = parse(client.get("/ca/initiatives/feed.atom"))

    assert root.get(XML_LANG) == "ca"
    found = entries(root)
    assert "Diplomàcia científica contra la pandèmia" in found
    entry = found["Diplomàcia científica contra la pandèmia"]
    assert entry.find(f"{ATOM}link").get("href") == (
        "http://testserver/ca/initiatives/diplomacia-cientifica-contra-la-pandemia/"
    )
    labels = {c.get("term"): c.get("label") for c in entry.findall(f"{ATOM}category")}
    assert labels == {
        "platform": "Plataforma",
        "science-advice": "Assessorament científic",
        "health": "Salut",
    }
    # The same entry has the same id in every language.
    english = parse(client.get("/en/initiatives/feed.atom"))[1]
    assert {e.id for e in english.entries} == {e.id for e in parsed.entries}


def test_an_entrys_id_survives_a_new_title(client, catalogue):
    before = parse(client.get("/en/initiatives/feed.atom"))[1]
    initiative = catalogue.initiative
    initiative.title_en = "Science diplomacy in a pandemic"
    services.initiative_save(initiative=initiative)

    after = parse(client.get("/en/initiatives/feed.atom"))[1]

    assert {e.id for e in before.entries} == {e.id for e in after.entries}
    renamed = next(e for e in after.entries if e.id == identifier(initiative))
    assert renamed.title == "Science diplomacy in a pandemic"
    assert renamed.link.endswith("/en/initiatives/science-diplomacy-in-a-pandemic/")


def test_a_topic_has_its_own_feed(client, catalogue):
    other = stories.initiative(
        title_en="Quantum computing network", initiative_type=catalogue.platform
    )
    services.initiative_save(initiative=other)
    services.initiative_publish(initiative=other)

    root, parsed = parse(client.get("/en/initiatives/topics/health/feed.atom"))

    assert parsed.feed.title == "Science & Technology Diplomacy Hub: initiatives on Health"
    assert parsed.feed.link == "http://testserver/en/initiatives/?topic=health"
    assert set(entries(root)) == {
        "Science diplomacy against the pandemic",
        "Lisbon health data for all",
    }
    assert "Quantum computing network" in entries(parse(client.get("/en/initiatives/feed.atom"))[0])
    # The topic's name in the address's language (the rest waits for the translations).
    assert "Salud" in parse(client.get("/es/initiatives/topics/health/feed.atom"))[1].feed.title


def test_an_unknown_topic_has_no_feed(client, catalogue):
    assert client.get("/en/initiatives/topics/atlantis/feed.atom").status_code == 404


def test_an_imported_initiative_links_to_its_original(client, catalogue):
    lisbon = catalogue.lisbon
    lisbon.source_name = "Lisbon Science Hub"
    lisbon.source_url = "https://hub.lisbon.example/en/initiatives/health-data/"
    lisbon.source_id = "tag:hub.lisbon.example,2020-05-01:initiative/7"
    services.initiative_save(initiative=lisbon)

    root, _parsed = parse(client.get("/en/initiatives/feed.atom"))

    via = entries(root)["Lisbon health data for all"].find(f"{ATOM}link[@rel='via']")
    assert via.get("href") == "https://hub.lisbon.example/en/initiatives/health-data/"
    assert via.get("title") == "Lisbon Science Hub"
    # Our own entry id stays ours: we publish this entry.
    assert entries(root)["Lisbon health data for all"].findtext(f"{ATOM}id") == identifier(lisbon)


def test_html_in_a_title_or_text_stays_text(client, catalogue):
    # Stored without the services' checks, as an old row or a shell might have it.
    Initiative.objects.filter(pk=catalogue.lisbon.pk).update(
        title_en="<script>alert('t')</script> Lisbon",
        summary_en="<b>bold</b> & more",
        body_en="Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y>",
    )

    response = client.get("/en/initiatives/feed.atom")
    root, parsed = parse(response)

    assert b"<script" not in response.content
    entry = next(e for e in parsed.entries if "Lisbon" in e.title)
    assert entry.title == "<script>alert('t')</script> Lisbon"  # text, escaped in the XML
    element = entries(root)[entry.title]
    content = element.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<script" not in content.text
    assert "javascript:" not in content.text
    assert "onerror" not in content.text
    # type="html": the text is escaped once more, so a reader shows it as written.
    assert element.findtext(f"{ATOM}summary") == "&lt;b&gt;bold&lt;/b&gt; &amp; more"


def test_visitors_get_the_cached_feed_until_an_initiative_changes(
    client, catalogue, django_assert_num_queries
):
    first = client.get("/en/initiatives/feed.atom")
    with django_assert_num_queries(0):
        again = client.get("/en/initiatives/feed.atom")
    assert again.content == first.content

    lisbon = catalogue.lisbon
    lisbon.title_en = "Lisbon health data, open"
    services.initiative_save(initiative=lisbon)

    assert "Lisbon health data, open" in entries(parse(client.get("/en/initiatives/feed.atom"))[0])


def test_the_feed_refuses_a_post(client, catalogue):
    assert client.post("/en/initiatives/feed.atom").status_code == 405
    assert client.head("/en/initiatives/feed.atom").status_code == 200


def test_an_empty_catalogue_has_a_valid_feed(client, db):
    root, parsed = parse(client.get("/en/initiatives/feed.atom"))
    assert parsed.entries == []
    assert root.findtext(f"{ATOM}updated")
