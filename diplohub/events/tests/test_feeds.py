"""The Atom feed of upcoming public events, read back with xml.etree."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest

from diplohub.events.tests.stories import build_programme

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def programme(cast):
    return build_programme(cast)


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag == f"{ATOM}feed"
    return root


def entries(root: ET.Element) -> dict[str, ET.Element]:
    return {e.findtext(f"{ATOM}title"): e for e in root.findall(f"{ATOM}entry")}


def updated(element: ET.Element) -> datetime.datetime:
    return datetime.datetime.fromisoformat(element.findtext(f"{ATOM}updated"))


def test_the_feed_lists_upcoming_public_events(client, programme):
    root = parse(client.get("/en/programme/feed.atom"))
    assert root.findtext(f"{ATOM}title") == "SciTech Diplomatic Circle: upcoming events"
    assert root.findtext(f"{ATOM}id") == "http://testserver/en/programme/"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {
        "alternate": "http://testserver/en/programme/",
        "self": "http://testserver/en/programme/feed.atom",
    }
    assert updated(root).tzinfo is not None

    found = entries(root)
    # Public and upcoming only: no members-only, invitation-only, draft or past events.
    assert set(found) == {"Visit to the supercomputing centre", "Cancelled: Forum on health data"}
    visit = found["Visit to the supercomputing centre"]
    assert visit.findtext(f"{ATOM}id") == f"urn:uuid:{programme.visit.uid}"
    [link] = visit.findall(f"{ATOM}link")
    assert link.get("href") == "http://testserver/en/programme/visit-supercomputer/"
    assert link.get("rel") == "alternate"
    assert updated(visit) <= updated(root)
    assert visit.find(f"{ATOM}category").get("term") == "Institutional visit"
    assert visit.findtext(f"{ATOM}author/{ATOM}name") == "Example Supercomputing Centre"
    summary = visit.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    assert "(Europe/Madrid)<br>" in summary.text
    assert ", 10:00 (Europe/Madrid)" in summary.text


def test_the_feed_ids_do_not_change_when_an_event_does(client, programme):
    before = entries(parse(client.get("/en/programme/feed.atom")))
    event = programme.visit
    event.title_en = "Visit to the national supercomputer"
    event.save()
    after = entries(parse(client.get("/en/programme/feed.atom")))
    assert before["Visit to the supercomputing centre"].findtext(f"{ATOM}id") == after[
        "Visit to the national supercomputer"
    ].findtext(f"{ATOM}id")


def test_the_feed_is_in_the_urls_language(client, programme):
    root = parse(client.get("/ca/programme/feed.atom"))
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ca"
    assert "Visita al centre de supercomputació" in entries(root)


def test_the_feed_escapes_what_staff_type(client, programme):
    event = programme.visit
    event.summary_en = "<b>Bold</b> & <script>x()</script>"
    event.save()
    root = parse(client.get("/en/programme/feed.atom"))
    summary = entries(root)["Visit to the supercomputing centre"].findtext(f"{ATOM}summary")
    assert "<script>" not in summary
    assert "&lt;script&gt;" in summary
