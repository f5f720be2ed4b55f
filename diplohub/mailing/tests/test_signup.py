"""Joining the network, told as stories: Marta, a researcher, joins from the home page,
reads the confirmation link in the e-mail a real SMTP server received and confirms;
bots, typos, line breaks in names, a flood of sign-ups and people who try an address
that is known are answered clearly and learn nothing."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone

from diplohub.directory.models import Topic
from diplohub.mailing import links, services
from diplohub.mailing.models import Consent, OutboundEmail, Subscriber, SubscriberStatus
from diplohub.mailing.tests import signup_stories
from diplohub.mailing.tests.signup_stories import join, link_in, plain

pytestmark = pytest.mark.django_db
mailbox = signup_stories.mailbox
policies = signup_stories.policies
ROOT = Path(__file__).resolve().parents[3]


def post_join(client, capture, data, **extra):  # type: ignore[no-untyped-def]
    """POST the sign-up and run what waits for the commit (sending the mail)."""
    with capture(execute=True):
        return client.post("/en/join/", data, **extra)


# --- Marta joins ----------------------------------------------------------------------


def test_marta_joins_from_the_home_page_and_confirms_by_the_link_in_her_mail(
    client, policies, mailbox, django_capture_on_commit_callbacks
):
    home = client.get("/en/").content.decode()
    # The home page (cached for visitors) has a placeholder, not a form with a token.
    assert 'hx-get="/en/join/form/"' in home
    assert "csrfmiddlewaretoken" not in home
    compact = client.get("/en/join/form/")
    assert compact["Cache-Control"] == "private, no-store"
    form = compact.content.decode()
    assert 'name="csrfmiddlewaretoken"' in form and 'name="form" value="compact"' in form
    assert 'name="email"' in form and 'name="first_name"' in form
    assert 'name="topics"' not in form  # optional fields are on the full form only
    assert 'name="language" value="en"' in form

    response = post_join(
        client,
        django_capture_on_commit_callbacks,
        join(form="compact", language="en"),
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 302 and response["Location"] == "/en/join/check-your-inbox/"
    page = client.get(response["Location"]).content.decode()
    assert "Check your inbox" in page and "7 days" in page

    marta = Subscriber.objects.get()
    assert (marta.email, marta.status, marta.source) == (
        "Marta.Recerca@research.example",
        SubscriberStatus.PENDING,
        "join-compact",
    )
    assert Consent.objects.count() == 0  # nothing is agreed until the address is confirmed
    assert not Subscriber.objects.reachable().exists()

    (message,) = mailbox.messages
    assert message["To"] == "Marta.Recerca@research.example"
    assert message["Subject"] == "Confirm your subscription to Science & Technology Diplomacy Hub"
    assert "Dear Marta Recerca-Example," in plain(message)
    assert "/mail/preferences/" not in plain(message)  # only this message until confirmed
    confirm = link_in(message, "join/confirm")

    # Opening the link (as a mail scanner would) confirms nothing.
    opened = client.get(confirm)
    assert opened.status_code == 200
    text = opened.content.decode()
    assert "Confirm my subscription" in text and "Marta.Recerca@research.example" in text
    assert "version 1" in text
    marta.refresh_from_db()
    assert marta.status == SubscriberStatus.PENDING

    confirmed = client.post(confirm, REMOTE_ADDR="198.51.100.4")
    assert confirmed.status_code == 302
    assert confirmed["Location"].startswith("/en/mail/preferences/")
    marta.refresh_from_db()
    assert marta.status == SubscriberStatus.ACTIVE
    assert marta.confirmed_at is not None
    assert list(Subscriber.objects.reachable()) == [marta]
    preferences = client.get(confirmed["Location"]).content.decode()
    assert "Thank you: your subscription is confirmed." in preferences


def test_the_full_form_keeps_every_detail(
    client, policies, mailbox, django_capture_on_commit_callbacks
):
    hpc = Topic.objects.create(slug="hpc-ai", name="HPC & AI")
    space = Topic.objects.create(slug="space", name="Space")
    page = client.get("/en/join/").content.decode()
    assert "Fields marked * are required." in page
    response = post_join(
        client,
        django_capture_on_commit_callbacks,
        join(
            organization="Example Institute of Photonic Sciences",
            country="ES",
            position="Head of international projects",
            topics=[hpc.pk, space.pk],
            language="ca",
            wants_events="on",
        ),
    )
    assert response.status_code == 302
    marta = Subscriber.objects.get()
    assert marta.organization_name == "Example Institute of Photonic Sciences"
    assert marta.country.code == "ES"
    assert marta.position == "Head of international projects"
    assert set(marta.topics.all()) == {hpc, space}
    assert (marta.language, marta.wants_events, marta.source) == ("ca", True, "join")
    (message,) = mailbox.messages
    assert "/ca/join/confirm/" in plain(message)  # in her language


# --- The form: required fields, errors next to them -------------------------------------


def test_required_fields_are_marked_and_explained_for_screen_readers(client, policies, settings):
    settings.SIGNUP_REQUIRED = ["first_name", "last_name", "country"]
    page = client.get("/en/join/").content.decode()
    assert 'id="join-required"' in page and 'aria-describedby="join-required"' in page
    assert '<span class="required" aria-hidden="true"> *</span>' in page
    for name in ("email", "first_name", "last_name", "country"):
        tag = page.split(f'name="{name}"', 1)[1].split(">", 1)[0]
        assert "required" in tag and 'aria-required="true"' in tag, name
    for name in ("organization", "position"):
        tag = page.split(f'name="{name}"', 1)[1].split(">", 1)[0]
        assert "aria-required" not in tag, name
    consent = page.split('name="consent"', 1)[1].split(">", 1)[0]
    assert "checked" not in consent  # unticked
    assert 'href="/en/policies/privacy/"' in page and 'href="/en/policies/terms/"' in page


def test_a_missing_required_field_is_answered_next_to_it(client, policies, mailbox):
    response = client.post("/en/join/", join(first_name="", consent=None))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please correct the errors below." in page
    first_name = page.split('name="first_name"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in first_name and "id_first_name_error" in first_name
    assert '<ul class="errorlist" id="id_first_name_error"><li>This field is required.' in page
    assert "Tick this box to agree to the privacy policy and the terms." in page
    assert 'value="Marta.Recerca@Research.EXAMPLE"' in page  # what she typed is kept
    assert Subscriber.objects.count() == 0 and mailbox.messages == []


def test_the_required_fields_follow_the_setting(client, policies, settings, mailbox):
    settings.SIGNUP_REQUIRED = []
    response = client.post("/en/join/", join(first_name=None, last_name=None))
    assert response.status_code == 302
    settings.SIGNUP_REQUIRED = ["position"]
    response = client.post("/en/join/", join(email="other@research.example"))
    assert response.status_code == 400
    assert "id_position_error" in response.content.decode()


def test_an_unknown_required_field_stops_the_hub_at_start_up():
    env = {**os.environ, "DIPLOHUB_SIGNUP_REQUIRED": "first_name,shoe_size"}
    result = subprocess.run(
        [sys.executable, "-c", "from diplohub.manage import main; main()", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DIPLOHUB_SIGNUP_REQUIRED names shoe_size" in result.stderr
    assert "first_name, last_name, organization" in result.stderr


# --- Bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "Marta\r\nBcc: everyone@example.org"),
        ("last_name", "Recerca\nSubject: win"),
        ("organization", "Institute\x00"),
        ("position", "Head\tof projects"),
    ],
)
def test_a_line_break_in_a_name_cannot_inject_a_header(client, policies, mailbox, field, value):
    response = client.post("/en/join/", join(**{field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert (
        "Use a single line, without line breaks or control characters." in page
        or "Null characters are not allowed." in page
    )
    assert Subscriber.objects.count() == 0 and mailbox.messages == []


def test_an_address_with_a_line_break_is_refused(client, policies, mailbox):
    response = client.post("/en/join/", join(email="marta@research.example\r\nBcc: x@y.org"))
    assert response.status_code == 400
    assert "Enter a valid e-mail address, such as name@example.org." in response.content.decode()
    assert Subscriber.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "size", "message"),
    [
        ("first_name", 5000, "Ensure this value has at most 120 characters (it has 5000)."),
        ("organization", 300, "Ensure this value has at most 255 characters (it has 300)."),
        ("email", 300, "Ensure this value has at most 254 characters (it has 300)."),
    ],
)
def test_oversized_input_is_refused_with_a_clear_message(client, policies, field, size, message):
    value = ("m" * (size - len("@research.example"))) + "@research.example"
    response = client.post("/en/join/", join(**{field: value if field == "email" else "x" * size}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Subscriber.objects.count() == 0


@pytest.mark.parametrize(
    "address", ["marta", "marta@", "marta@research", "marta@localhost", "márta@research.example"]
)
def test_an_address_that_cannot_receive_mail_is_refused(client, policies, address):
    response = client.post("/en/join/", join(email=address))
    assert response.status_code == 400
    assert "Enter a valid e-mail address" in response.content.decode()


def test_an_unknown_topic_or_country_is_refused(client, policies):
    response = client.post("/en/join/", join(topics=["999"], country="XX"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "id_topics_error" in page and "id_country_error" in page


def test_a_bot_filling_the_honeypot_is_thanked_and_ignored(client, policies, mailbox):
    page = client.get("/en/join/").content.decode()
    assert '<div class="hp" aria-hidden="true">' in page and 'tabindex="-1"' in page
    response = client.post("/en/join/", join(website="http://spam.example"))
    assert response.status_code == 302 and response["Location"] == "/en/join/check-your-inbox/"
    assert Subscriber.objects.count() == 0 and OutboundEmail.objects.count() == 0


def test_sign_ups_from_one_address_are_rate_limited(client, policies, settings):
    settings.SIGNUP_RATE = "3/m"
    for number in range(3):
        response = client.post("/en/join/", join(email=f"person{number}@research.example"))
        assert response.status_code == 302
    response = client.post("/en/join/", join(email="person9@research.example"))
    assert response.status_code == 429
    assert "Too many sign-ups from here." in response.content.decode()
    assert Subscriber.objects.count() == 3
    # Another connection is not held back…
    other = client.post(
        "/en/join/", join(email="elsewhere@research.example"), REMOTE_ADDR="203.0.113.9"
    )
    assert other.status_code == 302
    # …and DIPLOHUB_RATELIMIT=0 lifts the limit (for the benchmark).
    settings.RATELIMIT_ENABLE = False
    assert client.post("/en/join/", join(email="more@research.example")).status_code == 302


def test_one_address_cannot_be_flooded_with_confirmations(client, policies, settings):
    settings.SIGNUP_RATE = "2/m"
    for number in range(2):
        client.post("/en/join/", join(), REMOTE_ADDR=f"203.0.113.{number}")
    response = client.post("/en/join/", join(), REMOTE_ADDR="203.0.113.50")
    assert response.status_code == 429


def test_sign_up_is_closed_while_no_policy_is_in_force(client, db):
    page = client.get("/en/join/").content.decode()
    assert "once the hub has published its privacy policy and terms of service" in page
    assert 'name="email"' not in page
    response = client.post("/en/join/", join())
    assert response.status_code == 503
    assert Subscriber.objects.count() == 0


# --- Known addresses are not revealed ---------------------------------------------------


def test_signing_up_a_known_address_answers_exactly_as_for_a_new_one(
    client, policies, mailbox, django_capture_on_commit_callbacks
):
    first = post_join(client, django_capture_on_commit_callbacks, join())
    again_pending = post_join(client, django_capture_on_commit_callbacks, join(first_name="Mar"))
    assert first.status_code == again_pending.status_code == 302
    assert first["Location"] == again_pending["Location"]
    assert Subscriber.objects.count() == 1
    assert Subscriber.objects.get().first_name == "Mar"  # an unconfirmed sign-up takes the latest
    assert len(mailbox.messages) == 2  # a confirmation each time
    assert all(m["Subject"].startswith("Confirm your subscription") for m in mailbox.messages)

    services.subscriber_confirm(email="marta.recerca@research.example")
    mailbox.clear()
    # Someone else tries Marta's address, in other case and with other details.
    active = post_join(
        client,
        django_capture_on_commit_callbacks,
        join(email="MARTA.RECERCA@research.example", first_name="Impostor"),
    )
    assert active.status_code == 302 and active["Location"] == first["Location"]
    assert client.get(active["Location"]).content == client.get(first["Location"]).content
    marta = Subscriber.objects.get()
    assert (marta.first_name, marta.status) == ("Mar", SubscriberStatus.ACTIVE)  # untouched
    (note,) = mailbox.messages
    assert note["To"] == "Marta.Recerca@research.example"
    assert note["Subject"] == "You are already subscribed to Science & Technology Diplomacy Hub"
    assert "/en/mail/preferences/" in link_in(note, "mail/preferences")
    assert "Impostor" not in plain(note)


def test_an_unsubscribed_address_joins_again_with_a_new_confirmation(
    client, policies, mailbox, django_capture_on_commit_callbacks
):
    post_join(client, django_capture_on_commit_callbacks, join())
    services.subscriber_confirm(email="marta.recerca@research.example")
    services.subscriber_unsubscribe(email="marta.recerca@research.example", source="unsubscribe")
    mailbox.clear()
    post_join(client, django_capture_on_commit_callbacks, join())
    marta = Subscriber.objects.get()
    assert marta.status == SubscriberStatus.PENDING
    assert not Subscriber.objects.reachable().exists()  # until she confirms again
    client.post(link_in(mailbox.messages[0], "join/confirm"))
    assert list(Subscriber.objects.reachable()) == [marta]


# --- Links that do not work -------------------------------------------------------------


def test_a_forged_or_damaged_confirmation_link_is_answered_clearly(client, policies):
    Subscriber.objects.create(email="marta@research.example", language="en")
    good = links.confirm_url("marta@research.example").split("/en/", 1)[1]
    for path in (
        "/en/join/confirm/forged/",
        f"/en/{good[:-6]}/",
        "/en/join/confirm/" + links.token_for("marta@research.example") + "/",  # other salt
        "/en/join/confirm/" + "x" * 5000 + "/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "This link does not work" in response.content.decode()
        assert client.post(path).status_code == 404
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_an_expired_confirmation_link_says_so_and_leads_to_the_form(client, policies, settings):
    Subscriber.objects.create(email="marta@research.example", language="en")
    eight_days_ago = timezone.now() - datetime.timedelta(days=8)
    with mock.patch("django.core.signing.time.time", return_value=eight_days_ago.timestamp()):
        old = links.confirm_url("marta@research.example")
    path = "/en/" + old.split("/en/", 1)[1]
    response = client.get(path)
    assert response.status_code == 400
    page = response.content.decode()
    assert "This link has expired" in page and "works for 7 days" in page
    assert 'href="/en/join/"' in page
    assert client.post(path).status_code == 400
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_a_link_whose_sign_up_was_deleted_is_answered_clearly(client, policies):
    path = "/en/" + links.confirm_url("gone@research.example").split("/en/", 1)[1]
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


def test_following_the_link_again_after_confirming_leads_to_the_preferences(client, policies):
    services.subscriber_sign_up(email="marta@research.example", language="en", source="join")
    path = "/en/" + links.confirm_url("marta@research.example").split("/en/", 1)[1]
    assert client.post(path).status_code == 302
    again = client.get(path, follow=True)
    assert again.status_code == 200
    assert "Your subscription is already confirmed." in again.content.decode()
    second = client.post(path)
    assert second.status_code == 302
    assert Consent.objects.count() == 1  # no second set of rows


def test_a_wrong_method_is_refused(client, policies):
    assert client.put("/en/join/").status_code == 405
    assert client.post("/en/join/form/").status_code == 405
    assert client.post("/en/join/check-your-inbox/").status_code == 405


# --- Housekeeping -------------------------------------------------------------------------


def test_unconfirmed_sign_ups_are_deleted_after_the_configured_days(policies, settings):
    from diplohub.web.management.commands.worker import JOBS

    assert "diplohub.mailing.services.subscribers_purge_unconfirmed" in JOBS
    settings.SIGNUP_PENDING_DAYS = 3
    services.subscriber_sign_up(email="old@research.example", language="en", source="join")
    services.subscriber_sign_up(email="recent@research.example", language="en", source="join")
    services.subscriber_sign_up(email="confirmed@research.example", language="en", source="join")
    services.subscriber_confirm(email="confirmed@research.example")
    four_days_ago = timezone.now() - datetime.timedelta(days=4)
    Subscriber.objects.exclude(email="recent@research.example").update(
        confirmation_sent_at=four_days_ago
    )
    assert services.subscribers_purge_unconfirmed() == 1
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "confirmed@research.example",
        "recent@research.example",
    ]
    assert services.subscribers_purge_unconfirmed() == 0  # safe to run again


def test_a_confirmation_queued_for_a_deleted_sign_up_is_not_sent(policies, mailbox):
    services.subscriber_sign_up(email="old@research.example", language="en", source="join")
    email = OutboundEmail.objects.get()
    Subscriber.objects.all().delete()
    assert services.emails_send(pks=[email.pk]).skipped == 1
    assert mailbox.messages == []


def test_the_confirmation_token_carries_the_address_only():
    token = links.token_for("marta@research.example", salt=links.CONFIRM)
    assert signing.loads(token, salt=links.CONFIRM) == "marta@research.example"
