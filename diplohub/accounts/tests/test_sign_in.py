"""Signing in with a password: Sofia (staff) and the others, the rate limit, the admin's
own login page."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import reverse

from diplohub.accounts.tests.helpers import PASSWORD, sign_in, signed_in_user_id

pytestmark = pytest.mark.django_db


def test_it_shows_a_labelled_form(client):
    response = client.get(reverse("accounts:sign-in"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert reverse("accounts:sign-in-link") in html
    assert "csrfmiddlewaretoken" in html


def test_it_signs_staff_in_with_their_password(client, cast):
    response = sign_in(client, "sofia")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert signed_in_user_id(client) == str(cast.staff.pk)
    assert client.get(reverse("directory:people")).status_code == 200


def test_it_goes_on_to_the_page_asked_for(client, cast):
    people = reverse("directory:people")
    response = client.post(
        reverse("accounts:sign-in"), {"username": "sofia", "password": PASSWORD, "next": people}
    )
    assert response["Location"] == people


def test_it_never_sends_anyone_to_another_site(client, cast):
    for target in ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]:
        client.logout()
        response = client.post(
            reverse("accounts:sign-in"),
            {"username": "kenji", "password": PASSWORD, "next": target},
        )
        assert response["Location"] == reverse("web:home")


def test_it_carries_next_through_the_page(client):
    response = client.get(reverse("accounts:sign-in") + "?next=/en/accounts/profile/")
    html = response.content.decode()
    assert 'name="next" value="/en/accounts/profile/"' in html
    assert "?next=%2Fen%2Faccounts%2Fprofile%2F" in html  # the e-mail link option keeps it


def test_it_rejects_a_wrong_password(client, cast):
    response = sign_in(client, "sofia", "wrong horse battery")
    assert response.status_code == 400
    assert "do not match an account" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_it_rejects_an_unknown_user_with_the_same_message(client, cast):
    wrong_password = sign_in(client, "sofia", "nope").content.decode()
    unknown = sign_in(client, "nobody-here", "nope").content.decode()
    assert "do not match an account" in unknown
    assert wrong_password.count("do not match") == unknown.count("do not match")


def test_it_rejects_a_deactivated_account(client, cast):
    cast.staff.is_active = False
    cast.staff.save()
    response = sign_in(client, "sofia")
    assert response.status_code == 400
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "", "password": ""},
        {"username": "x" * 10_000, "password": "y"},
        {"username": "sofia\x00", "password": PASSWORD},
        {"username": ["a", "b"], "password": PASSWORD},
    ],
)
def test_it_answers_bad_input_with_a_form_error(client, cast, data):
    response = client.post(reverse("accounts:sign-in"), data)
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert signed_in_user_id(client) is None


def test_it_puts_errors_next_to_their_field(client, cast):
    response = client.post(reverse("accounts:sign-in"), {"username": "sofia"})
    html = response.content.decode()
    assert 'aria-describedby="id_password_error"' in html
    assert 'aria-invalid="true"' in html
    assert 'id="id_password_error"' in html


def test_it_rejects_other_methods(client):
    assert client.put(reverse("accounts:sign-in")).status_code == 405
    assert client.delete(reverse("accounts:sign-in")).status_code == 405


def test_it_limits_attempts_from_one_address(client, cast, settings):
    settings.SIGN_IN_RATE = "3/h"
    for n in range(3):
        assert sign_in(client, f"guess-{n}", "nope").status_code == 400
    response = sign_in(client, "another-guess", "nope")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_it_limits_attempts_on_one_account_from_many_addresses(client, cast, settings):
    settings.SIGN_IN_RATE = "3/h"
    for n in range(3):
        sign_in(client, "sofia", "nope", REMOTE_ADDR=f"192.0.2.{n + 1}")
    # Usernames are counted without regard to case or spaces.
    response = sign_in(client, " Sofia ", PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    assert signed_in_user_id(client) is None
    # Another account from a fresh address is not held up.
    assert sign_in(client, "kenji", REMOTE_ADDR="198.51.100.8").status_code == 302


def test_a_limited_client_gets_no_further_even_with_the_right_password(client, cast, settings):
    settings.SIGN_IN_RATE = "2/h"
    sign_in(client, "sofia", "nope")
    sign_in(client, "sofia", "nope")
    assert sign_in(client, "sofia").status_code == 429
    assert signed_in_user_id(client) is None


def test_it_counts_the_forwarded_address_behind_a_proxy(client, cast, settings):
    settings.SIGN_IN_RATE = "2/h"
    settings.RATELIMIT_IP_META_KEY = "diplohub.accounts.ratelimit.client_ip"
    for n in range(3):
        # Different users, each from their own address: the proxy's address is shared.
        forwarded = f"203.0.113.{n + 1}"
        response = sign_in(client, f"user-{n}", "nope", HTTP_X_FORWARDED_FOR=forwarded)
        assert response.status_code == 400
    # A client cannot dodge the limit by sending its own X-Forwarded-For first.
    for spoofed in ["1.1.1.1", "2.2.2.2"]:
        response = sign_in(
            client, f"user-{spoofed}", "nope", HTTP_X_FORWARDED_FOR=f"{spoofed}, 203.0.113.1"
        )
    assert response.status_code == 429
    # A garbage header falls back to the connection's address instead of failing.
    assert sign_in(client, "x", "nope", HTTP_X_FORWARDED_FOR="not an ip").status_code == 400


def test_it_hashes_passwords_with_argon2(cast, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    cast.staff.set_password("a new long passphrase")
    cast.staff.save()
    assert identify_hasher(cast.staff.password).algorithm == "argon2"


def test_sign_out_signs_out(client, cast):
    client.force_login(cast.consul)
    response = client.post(reverse("accounts:sign-out"))
    assert response.status_code == 302
    assert signed_in_user_id(client) is None


def test_sign_out_rejects_get(client, cast):
    client.force_login(cast.consul)
    assert client.get(reverse("accounts:sign-out")).status_code == 405
    assert signed_in_user_id(client) == str(cast.consul.pk)


def test_sign_out_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.consul)
    assert client.post(reverse("accounts:sign-out")).status_code == 403


def test_the_admin_login_page_sends_to_our_sign_in_keeping_next(client):
    response = client.get("/en/admin/login/?next=/en/admin/directory/")
    assert response.status_code == 302
    assert (
        response["Location"] == reverse("accounts:sign-in") + "?next=%2Fen%2Fadmin%2Fdirectory%2F"
    )


def test_the_admin_sends_anonymous_visitors_to_our_sign_in(client):
    response = client.get("/en/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:sign-in"))
    assert response.status_code == 200


def test_the_admin_login_page_cannot_be_posted_to(client, cast):
    response = client.post("/en/admin/login/", {"username": "sofia", "password": PASSWORD})
    assert response.status_code == 405
    assert signed_in_user_id(client) is None


def test_the_admin_login_page_turns_away_signed_in_non_staff(client, cast):
    client.force_login(cast.consul)
    assert client.get("/en/admin/login/?next=/en/admin/").status_code == 403


def test_the_admin_login_page_lets_signed_in_staff_through(client, cast):
    client.force_login(cast.staff)
    response = client.get("/en/admin/login/?next=/en/admin/")
    assert response["Location"] == "/en/admin/"
