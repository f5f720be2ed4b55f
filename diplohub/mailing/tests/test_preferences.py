"""Preferences and leaving, told as stories: Marta opens the link at the foot of a
message, changes her topics and language, turns event news on (agreeing again) and
the newsletter off, then back on with fresh consent; Ana, in the directory but never
subscribed, opts in from the same kind of link; a mail client unsubscribes Marta with
one click (RFC 8058) and she is suppressed at once."""

from __future__ import annotations

import pytest
from django.test import Client

from diplohub.directory.models import Person, Topic
from diplohub.mailing import links, services
from diplohub.mailing.models import Consent, Subscriber, SubscriberStatus
from diplohub.mailing.services import render_email
from diplohub.mailing.tests import signup_stories
from diplohub.mailing.tests.signup_stories import html, link_in, plain

pytestmark = pytest.mark.django_db
mailbox = signup_stories.mailbox
policies = signup_stories.policies

MARTA = "marta@research.example"


@pytest.fixture
def marta(policies) -> Subscriber:  # type: ignore[no-untyped-def]
    services.subscriber_sign_up(email=MARTA, first_name="Marta", language="en", source="join")
    services.subscriber_confirm(email=MARTA)
    return Subscriber.objects.get()


def path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def rows() -> list[tuple[str, bool, str]]:
    return list(Consent.objects.order_by("pk").values_list("purpose", "granted", "source"))


def test_every_message_carries_the_link_to_the_preferences(
    marta, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.email_enqueue(
            kind="mailing.message",
            to=MARTA,
            language="en",
            params={"subject": "News", "text": "Hello."},
        )
    (message,) = mailbox.messages
    assert "Manage your e-mail preferences: http" in plain(message)
    assert link_in(message, "mail/preferences") == path(links.preferences_url(MARTA))
    assert "Manage your e-mail preferences</a>" in html(message)
    # Without a recipient the layout has no such line (the confirmation e-mail).
    rendered = render_email("mailing/message.html", {"subject": "S", "text": "T", "paragraphs": ""})
    assert "preferences" not in rendered.text


def test_the_programme_e_mails_carry_it_too(cast, mailbox, django_capture_on_commit_callbacks):
    from diplohub.events.emails import queue_registration
    from diplohub.events.services import registration_create
    from diplohub.events.tests.stories import make_event

    event = make_event("visit", title_en="Visit")
    kenji = Person.objects.get(given_name="Kenji")
    with django_capture_on_commit_callbacks(execute=True):
        registration = registration_create(event=event, person=kenji)
        queue_registration(registration, "registered")
    assert mailbox.messages
    assert link_in(mailbox.messages[-1], "mail/preferences") == path(
        links.preferences_url("kenji@mission.example")
    )


def test_list_unsubscribe_headers_follow_rfc_8058():
    headers = links.list_unsubscribe_headers(MARTA)
    assert headers["List-Unsubscribe"] == f"<{links.unsubscribe_url(MARTA)}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http")


# --- The preference centre ------------------------------------------------------------------


def test_marta_changes_topics_and_language_without_a_ledger_row(client, marta):
    health = Topic.objects.create(slug="health", name="Health")
    url = path(links.preferences_url(MARTA))
    page = client.get(url).content.decode()
    assert "marta@research.example" in page
    assert 'name="topics"' in page and 'name="language"' in page
    response = client.post(
        url, {"newsletter": "on", "language": "ca", "topics": [health.pk]}, follow=True
    )
    assert "Your preferences are saved." in response.content.decode()
    marta.refresh_from_db()
    assert marta.language == "ca" and list(marta.topics.all()) == [health]
    assert rows() == [("newsletter", True, "join")]  # only the sign-up's


def test_turning_a_kind_of_mail_on_needs_the_box_and_off_does_not(client, marta):
    url = path(links.preferences_url(MARTA))
    refused = client.post(url, {"newsletter": "on", "events": "on", "language": "en"})
    assert refused.status_code == 400
    assert "To receive this mail, tick this box" in refused.content.decode()
    assert rows() == [("newsletter", True, "join")]

    client.post(url, {"newsletter": "on", "events": "on", "consent": "on", "language": "en"})
    assert rows()[-1] == ("events", True, "preferences")
    marta.refresh_from_db()
    assert marta.wants_events

    client.post(url, {"events": "on", "language": "en"})  # the newsletter off
    assert rows()[-1] == ("newsletter", False, "preferences")
    marta.refresh_from_db()
    assert (marta.status, marta.wants_newsletter) == (SubscriberStatus.UNSUBSCRIBED, False)
    assert not Subscriber.objects.reachable().exists()

    # Back on: fresh consent, in the ledger with the versions in force.
    assert (
        client.post(url, {"newsletter": "on", "events": "on", "language": "en"}).status_code == 400
    )
    client.post(url, {"newsletter": "on", "events": "on", "consent": "on", "language": "en"})
    latest = Consent.objects.order_by("-pk").first()
    assert (latest.purpose, latest.granted, latest.privacy_policy.version) == (
        "newsletter",
        True,
        1,
    )
    assert list(Subscriber.objects.reachable()) == [Subscriber.objects.get()]
    assert len(rows()) == 4


def test_ana_in_the_directory_opts_in_from_her_link(client, policies, cast):
    ana = Person.objects.get(given_name="Ana")
    url = path(links.preferences_url(ana.email))
    page = client.get(url).content.decode()
    assert "You are not receiving the newsletter." in page
    assert 'name="topics"' not in page  # topics belong to a subscription
    client.post(url, {"newsletter": "on", "consent": "on"}, REMOTE_ADDR="192.0.2.3")
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.person, subscriber.status) == (
        "ana@mission.example",
        ana,
        SubscriberStatus.ACTIVE,
    )
    (row,) = Consent.objects.all()
    assert (row.person, row.subscriber, row.source, row.granted) == (
        ana,
        subscriber,
        "preferences",
        True,
    )
    assert 'name="language"' in client.get(url).content.decode()


def test_a_pending_sign_up_is_confirmed_by_opting_in_from_a_signed_link(client, policies):
    services.subscriber_sign_up(email=MARTA, language="en", source="join", wants_events=True)
    url = path(links.preferences_url(MARTA))
    assert "waiting for confirmation" in client.get(url).content.decode()
    client.post(url, {"newsletter": "on", "consent": "on", "language": "en"})
    marta = Subscriber.objects.get()
    assert marta.status == SubscriberStatus.ACTIVE
    # What the form said now wins over the unconfirmed sign-up's box, row for row.
    assert not marta.wants_events
    assert rows() == [("newsletter", True, "preferences")]


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        "x" * 3000,
        links.token_for(MARTA, salt=links.CONFIRM),  # a confirmation token is not this one
        "eyJ.bad:sig",
    ],
    ids=["forged", "too-long", "other-salt", "bad-signature"],
)
def test_a_forged_preference_or_unsubscribe_link_is_answered_clearly(client, marta, token):
    for where in ("preferences", "unsubscribe"):
        response = client.get(f"/en/mail/{where}/{token}/")
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()
        assert (
            client.post(f"/en/mail/{where}/{token}/", {"action": "unsubscribe"}).status_code == 404
        )
    assert Subscriber.objects.get().status == SubscriberStatus.ACTIVE


def test_the_preference_centre_keeps_its_csrf_protection(marta):
    client = Client(enforce_csrf_checks=True)
    response = client.post(path(links.preferences_url(MARTA)), {"language": "es"})
    assert response.status_code == 403


# --- Leaving ----------------------------------------------------------------------------------


def test_opening_the_unsubscribe_link_only_asks(client, marta):
    url = path(links.unsubscribe_url(MARTA))
    page = client.get(url).content.decode()
    assert "Stop sending the newsletter to" in page and "marta@research.example" in page
    assert 'value="unsubscribe"' in page
    assert Subscriber.objects.get().status == SubscriberStatus.ACTIVE


def test_a_mail_clients_one_click_post_unsubscribes_at_once_without_a_csrf_token(marta):
    client = Client(enforce_csrf_checks=True)
    url = path(links.unsubscribe_url(MARTA))
    response = client.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    marta.refresh_from_db()
    assert (marta.status, marta.wants_newsletter) == (SubscriberStatus.UNSUBSCRIBED, False)
    assert marta.unsubscribed_at is not None
    assert rows()[-1] == ("newsletter", False, "one-click")
    assert not Subscriber.objects.reachable().exists()
    # multipart/form-data, as some clients send it, works as well; twice changes nothing more.
    assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert len(rows()) == 2


def test_the_unsubscribe_button_works_too(client, marta):
    url = path(links.unsubscribe_url(MARTA))
    response = client.post(url, {"action": "unsubscribe"}, follow=True)
    assert (
        "You are unsubscribed: we will send you no more newsletters." in response.content.decode()
    )
    assert rows()[-1] == ("newsletter", False, "unsubscribe")
    assert "does not receive the newsletter" in client.get(url).content.decode()


def test_any_other_post_to_the_unsubscribe_link_is_refused(marta):
    client = Client(enforce_csrf_checks=True)
    url = path(links.unsubscribe_url(MARTA))
    for body in ({}, {"List-Unsubscribe": "Yes"}, {"action": "subscribe"}):
        response = client.post(url, body)
        assert response.status_code == 400
        assert "This request was not understood" in response.content.decode()
    assert Subscriber.objects.get().status == SubscriberStatus.ACTIVE
    assert client.put(url).status_code == 405


def test_unsubscribing_an_address_that_is_not_subscribed_is_answered_the_same(policies):
    client = Client(enforce_csrf_checks=True)
    url = path(links.unsubscribe_url("nobody@research.example"))
    assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert Consent.objects.count() == 0 and Subscriber.objects.count() == 0


def test_an_unsubscribed_address_stays_out_until_fresh_consent(client, marta, mailbox):
    services.subscriber_unsubscribe(email=MARTA, source="one-click")
    # A new sign-up asks for a confirmation again…
    services.subscriber_sign_up(email=MARTA, language="en", source="join")
    assert not Subscriber.objects.reachable().exists()
    # …and only the confirmation, a new grant, brings her back.
    services.subscriber_confirm(email=MARTA)
    assert rows() == [
        ("newsletter", True, "join"),
        ("newsletter", False, "one-click"),
        ("newsletter", True, "join"),
    ]
    assert Subscriber.objects.reachable().count() == 1
