"""Signing in with an e-mailed link: Kenji (a member) asks for one, receives it from a
real SMTP server and follows it; nobody learns who has an account."""

from __future__ import annotations

import re
import time
from unittest import mock
from urllib.parse import urlsplit

import pytest
import sesame.tokens_v2
from django.conf import settings as django_settings
from django.urls import reverse
from sesame.utils import get_query_string

from diplohub.accounts.tests.helpers import sign_in, signed_in_user_id
from diplohub.lib.testing import mail_to_smtp

pytestmark = pytest.mark.django_db

ASK = "/en/accounts/sign-in/link/"
USE = "/en/accounts/sign-in/link/use/"


def _ask(client, email: str, **extra):  # type: ignore[no-untyped-def]
    return client.post(ASK, {"email": email}, **extra)


def _link_in(message) -> str:  # type: ignore[no-untyped-def]
    """The path and query of the sign-in link in a received message."""
    body = message.get_body(("plain",)).get_content()
    url = re.search(r"https?://\S+", body)
    assert url, body
    parts = urlsplit(url.group(0))
    return f"{parts.path}?{parts.query}"


def _mail_link(client, smtp_server, email: str, **extra) -> str:  # type: ignore[no-untyped-def]
    with mail_to_smtp(smtp_server):
        response = _ask(client, email, **extra)
    assert response.status_code == 302
    [message] = smtp_server.messages
    return _link_in(message)


def test_the_pages_live_where_the_mail_points():
    assert reverse("accounts:sign-in-link") == ASK
    assert reverse("accounts:sign-in-link-use") == USE


def test_it_asks_for_an_address_and_explains_staff_cannot_use_it(client):
    response = client.get(ASK)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'autocomplete="email"' in html
    assert "Hub staff cannot use e-mail links" in html


def test_a_member_signs_in_with_the_link_from_the_mail(client, cast, smtp_server):
    with mail_to_smtp(smtp_server):
        response = _ask(client, "kenji@example.test")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:sign-in-link-sent")
    assert signed_in_user_id(client) is None

    [message] = smtp_server.messages
    assert message["To"] == "kenji@example.test"
    assert smtp_server.received[0].rcpt_tos == ["kenji@example.test"]
    assert message["Subject"] == f"Your sign-in link for {django_settings.HUB_NAME}"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Hello Kenji Sato-Example,")  # their name in the directory
    assert body.count(django_settings.SITE_URL + USE) == 1

    link = _link_in(message)
    page = client.get(link)  # opening the link only asks to confirm
    assert page.status_code == 200
    assert signed_in_user_id(client) is None
    response = client.post(USE, {"sesame": page.context["token"]})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert signed_in_user_id(client) == str(cast.consul.pk)
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_a_host_gets_a_link_too(client, cast, smtp_server):
    link = _mail_link(client, smtp_server, "HUGO@example.test")  # any case
    client.post(USE, {"sesame": client.get(link).context["token"]})
    assert signed_in_user_id(client) == str(cast.host.pk)


def test_the_link_is_in_the_members_language(client, cast, smtp_server):
    cast.consul.language = "es"
    cast.consul.save()
    link = _mail_link(client, smtp_server, "kenji@example.test")
    assert link.startswith("/es/accounts/sign-in/link/use/?sesame=")


def test_the_link_returns_to_the_page_asked_for(client, cast, smtp_server):
    profile = reverse("accounts:profile")
    with mail_to_smtp(smtp_server):
        client.post(ASK, {"email": "kenji@example.test", "next": profile})
    link = _link_in(smtp_server.messages[0])
    page = client.get(link)
    response = client.post(USE, {"sesame": page.context["token"], "next": page.context["next"]})
    assert response["Location"] == profile


def test_a_link_works_once(client, cast, smtp_server):
    link = _mail_link(client, smtp_server, "kenji@example.test")
    token = client.get(link).context["token"]
    client.post(USE, {"sesame": token})
    client.post(reverse("accounts:sign-out"))
    again = client.get(link)
    assert again.status_code == 400
    assert "does not work" in again.content.decode()
    assert reverse("accounts:sign-in-link") in again.content.decode()
    assert client.post(USE, {"sesame": token}).status_code == 400
    assert signed_in_user_id(client) is None


def test_a_mail_scanner_opening_the_link_does_not_use_it_up(client, cast, smtp_server):
    link = _mail_link(client, smtp_server, "kenji@example.test")
    client.get(link)
    client.get(link)
    response = client.post(USE, {"sesame": client.get(link).context["token"]})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(cast.consul.pk)


def test_an_expired_link_says_so_and_offers_a_new_one(client, cast, smtp_server):
    link = _mail_link(client, smtp_server, "kenji@example.test")
    later = time.time() + django_settings.SESAME_MAX_AGE + 60
    with mock.patch.object(sesame.tokens_v2.time, "time", return_value=later):
        response = client.get(link)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This sign-in link does not work" in html
    assert "Ask for a new link" in html
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize("mangle", ["flip", "truncate", "garbage", "empty", "missing"])
def test_a_forged_link_is_refused(client, cast, smtp_server, mangle):
    link = _mail_link(client, smtp_server, "kenji@example.test")
    token = link.split("sesame=", 1)[1]
    forged = {
        "flip": token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:],
        "truncate": token[:10],
        "garbage": "%00%FF<script>",
        "empty": "",
    }
    url = USE if mangle == "missing" else f"{USE}?sesame={forged[mangle]}"
    assert client.get(url).status_code == 400
    assert client.post(USE, {"sesame": forged.get(mangle, "")}).status_code == 400
    assert signed_in_user_id(client) is None


def test_a_link_stops_working_after_another_sign_in(client, cast, smtp_server):
    link = _mail_link(client, smtp_server, "kenji@example.test")
    other = client.__class__()
    sign_in(other, "kenji")  # moves last_login on
    assert client.get(link).status_code == 400


def test_nobody_learns_whether_an_address_has_an_account(client, cast, smtp_server):
    answers = []
    with mail_to_smtp(smtp_server):
        for email in [
            "kenji@example.test",  # a member: gets a link
            "nobody@example.test",  # no account
            "sofia@example.test",  # staff: password and TOTP only
            "otto@example.test",  # an account with no member or host role
        ]:
            response = client.post(ASK, {"email": email}, follow=True)
            answers.append((response.status_code, response.redirect_chain))
    assert len(set(map(repr, answers))) == 1
    assert [m["To"] for m in smtp_server.messages] == ["kenji@example.test"]
    page = client.get(reverse("accounts:sign-in-link-sent")).content.decode()
    assert "If the address belongs to a member or host" in page


def test_inactive_members_get_no_link(client, cast, smtp_server):
    cast.consul.is_active = False
    cast.consul.save()
    with mail_to_smtp(smtp_server):
        assert _ask(client, "kenji@example.test").status_code == 302
    assert smtp_server.messages == []


def test_staff_cannot_sign_in_with_a_link_even_a_genuine_one(client, cast):
    # A link for Sofia can only be made with the secret key; it still does not work.
    response = client.get(USE + get_query_string(cast.staff))
    assert response.status_code == 400
    assert client.post(USE, {"sesame": get_query_string(cast.staff)[8:]}).status_code == 400
    assert signed_in_user_id(client) is None


def test_a_member_made_staff_can_no_longer_use_a_link(client, cast):
    query = get_query_string(cast.consul)
    cast.consul.is_staff = True
    cast.consul.save()
    assert client.get(USE + query).status_code == 400


def test_a_link_session_ends_when_the_role_is_taken_away(client, cast):
    query = get_query_string(cast.consul)
    client.post(USE, {"sesame": query.split("=", 1)[1]})
    assert signed_in_user_id(client) == str(cast.consul.pk)
    cast.consul.groups.clear()
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))


@pytest.mark.parametrize("email", ["", "not an address", "a@b", "x" * 300 + "@example.test"])
def test_it_explains_a_bad_address(client, email, smtp_server):
    with mail_to_smtp(smtp_server):
        response = _ask(client, email)
    assert response.status_code == 400
    assert 'id="id_email_error"' in response.content.decode()
    assert smtp_server.messages == []


def test_it_limits_requests_for_one_address(client, cast, settings, smtp_server):
    settings.SIGN_IN_RATE = "2/h"
    with mail_to_smtp(smtp_server):
        for n in range(2):
            _ask(client, "kenji@example.test", REMOTE_ADDR=f"192.0.2.{n + 1}")
        response = _ask(client, "Kenji@Example.test", REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert len(smtp_server.messages) == 2


def test_it_limits_requests_from_one_address(client, cast, settings):
    settings.SIGN_IN_RATE = "2/h"
    _ask(client, "a@example.test")
    _ask(client, "b@example.test")
    assert _ask(client, "c@example.test").status_code == 429


def test_it_rejects_other_methods(client):
    assert client.put(ASK).status_code == 405
    assert client.put(USE).status_code == 405
    assert client.post(reverse("accounts:sign-in-link-sent")).status_code == 405
