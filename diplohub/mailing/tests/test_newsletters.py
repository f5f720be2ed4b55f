"""The public archive of past newsletters and its Atom feed: a visitor reads the spring
newsletter in their language (Catalan under /ca/, the default text where it was not
written), drafts and unarchived campaigns never show, and no page or feed carries a
recipient's personal link."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from diplohub.mailing import services
from diplohub.mailing.models import Campaign, CampaignStatus
from diplohub.mailing.tests import campaign_stories
from diplohub.mailing.tests.campaign_stories import spring

pytestmark = pytest.mark.django_db
readers = campaign_stories.readers
mailbox = campaign_stories.mailbox

ATOM = "{http://www.w3.org/2005/Atom}"


def sent(**changes: object) -> Campaign:
    campaign = spring(**changes)
    services.campaign_queue(campaign=campaign)
    services.emails_send()
    services.campaigns_finish()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    return campaign


@pytest.fixture
def archive(readers, mailbox) -> dict[str, Campaign]:  # type: ignore[no-untyped-def]
    assert mailbox is not None
    return {
        "spring": sent(),
        "private": sent(
            texts={"en": services.CampaignText("Staff only", "Not for the archive.")},
            in_archive=False,
        ),
        "draft": spring(texts={"en": services.CampaignText("Summer draft", "Soon.")}),
    }


def test_the_archive_lists_the_newsletters_sent_for_it(client, archive):
    page = client.get("/en/newsletters/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Spring newsletter" in text
    assert "Staff only" not in text and "Summer draft" not in text
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Newsletters (Atom)" '
        'href="/en/newsletters/feed.atom">' in text
    )


def test_a_visitor_reads_it_in_their_language(client, archive):
    catalan = client.get("/ca/newsletters/spring-newsletter/")
    assert catalan.status_code == 200
    text = catalan.content.decode()
    assert "Butlletí de primavera" in text
    assert "<strong>centre de supercomputació</strong>" in text
    assert '<article class="newsletter" lang="ca">' in text
    spanish = client.get("/es/newsletters/spring-newsletter/").content.decode()
    assert "Spring newsletter" in spanish  # not written in Spanish: the default text
    assert '<article class="newsletter" lang="en">' in spanish


def test_drafts_and_unarchived_campaigns_are_not_found(client, archive):
    assert client.get("/en/newsletters/summer-draft/").status_code == 404
    assert client.get(f"/en/newsletters/{archive['private'].slug}/").status_code == 404
    assert client.get("/en/newsletters/nothing-here/").status_code == 404


def test_no_recipients_link_is_ever_in_the_archive(client, archive, mailbox):
    personal = ["/mail/preferences/", "/mail/unsubscribe/", "diplohub-recipient"]
    pages = [
        client.get(url).content.decode()
        for url in (
            "/en/newsletters/",
            "/en/newsletters/spring-newsletter/",
            "/ca/newsletters/spring-newsletter/",
            "/en/newsletters/feed.atom",
        )
    ]
    for text in pages:
        for link in personal:
            assert link not in text
    # They are in the messages, of course.
    assert any("/mail/unsubscribe/" in str(m["List-Unsubscribe"]) for m in mailbox.messages)


def test_the_atom_feed_parses_and_carries_each_newsletter(client, archive):
    response = client.get("/ca/newsletters/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "ca"
    for required in ("id", "title", "updated"):
        assert (feed.findtext(f"{ATOM}{required}") or "").strip(), required
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").endswith("/ca/newsletters/feed.atom")
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Butlletí de primavera"
    assert entry.findtext(f"{ATOM}id").startswith("tag:")
    assert entry.findtext(f"{ATOM}updated")
    assert entry.findtext(f"{ATOM}published")
    link = entry.find(f"{ATOM}link[@rel='alternate']")
    assert link is not None and link.get("href").endswith("/ca/newsletters/spring-newsletter/")
    summary = entry.find(f"{ATOM}summary")
    assert summary is not None and summary.get("type") == "html"
    assert "<strong>centre de supercomputació</strong>" in (summary.text or "")


def test_an_empty_archive_says_so(client, db):
    page = client.get("/en/newsletters/")
    assert "No newsletter has been sent yet." in page.content.decode()
    feed = ET.fromstring(client.get("/en/newsletters/feed.atom").content)  # noqa: S314
    assert feed.findall(f"{ATOM}entry") == []


def test_the_archive_only_reads(client, db):
    assert client.post("/en/newsletters/").status_code == 405
    assert client.post("/en/newsletters/spring-newsletter/").status_code == 405


def test_a_newsletter_being_sent_is_in_the_archive_and_a_stopped_one_leaves_it(client, readers):
    """Its messages link its page: the page is there from the first message on."""
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    assert client.get("/en/newsletters/spring-newsletter/").status_code == 200
    services.campaign_cancel(campaign=campaign)
    assert client.get("/en/newsletters/spring-newsletter/").status_code == 404
    assert "Spring newsletter" not in client.get("/en/newsletters/").content.decode()
