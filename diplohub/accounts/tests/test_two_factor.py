"""Two-factor authentication: Sofia (staff) turns on an authenticator app, then signs in
with her password and a code."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from diplohub.accounts.tests.helpers import (
    add_authenticator,
    sign_in,
    signed_in_user_id,
    totp_code,
    wrong_code,
)
from diplohub.accounts.views import PENDING_SECONDS

pytestmark = pytest.mark.django_db

TWO_FACTOR = "/en/accounts/two-factor/"


# --- Turning it on and off -----------------------------------------------------------


def test_the_page_lives_where_staff_expect_it():
    assert reverse("accounts:two-factor") == TWO_FACTOR


def test_it_shows_staff_a_qr_code_to_scan(client, cast):
    client.force_login(cast.staff)
    response = client.get(TWO_FACTOR)
    assert response.status_code == 200
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=cast.staff)
    assert not device.confirmed
    assert "<svg" in html and 'class="segno"' in html
    assert response.context["otpauth_uri"].startswith("otpauth://totp/")
    assert "issuer=" in response.context["otpauth_uri"]
    # The key, to type by hand, in groups of four.
    assert re.search(r'<code class="secret">([A-Z2-7]{4} ){7}[A-Z2-7]{4}</code>', html)
    # Nothing the CSP (default-src 'self') would block.
    assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    assert " style=" not in html


def test_reloading_the_page_keeps_the_same_key(client, cast):
    client.force_login(cast.staff)
    first = client.get(TWO_FACTOR).context["secret"]
    assert client.get(TWO_FACTOR).context["secret"] == first
    assert TOTPDevice.objects.filter(user=cast.staff).count() == 1


def test_it_turns_on_with_a_code_from_the_app(client, cast):
    client.force_login(cast.staff)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=cast.staff)
    response = client.post(TWO_FACTOR, {"action": "enable", "code": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    # This session counts as verified: no second sign-in needed.
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    page = client.get(TWO_FACTOR, follow=True)
    assert "Two-factor authentication is on" in page.content.decode()
    assert client.get(reverse("directory:people")).status_code == 200


def test_it_stays_off_with_a_wrong_code(client, cast):
    client.force_login(cast.staff)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=cast.staff)
    response = client.post(TWO_FACTOR, {"action": "enable", "code": wrong_code(device)})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


FULLWIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", FULLWIDTH_DIGITS, "12 34 5x"])
def test_it_explains_a_malformed_code(client, cast, code):
    client.force_login(cast.staff)
    response = client.post(TWO_FACTOR, {"action": "enable", "code": code})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_code_error"' in html
    assert not TOTPDevice.objects.filter(user=cast.staff, confirmed=True).exists()


def test_it_accepts_a_code_typed_with_spaces(client, cast):
    client.force_login(cast.staff)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=cast.staff)
    code = totp_code(device)
    client.post(TWO_FACTOR, {"action": "enable", "code": f"{code[:3]} {code[3:]}"})
    device.refresh_from_db()
    assert device.confirmed


def test_it_turns_off_with_a_current_code(client, cast):
    device = add_authenticator(cast.staff)
    client.force_login(cast.staff)
    _verify_session(client, device)
    response = client.post(TWO_FACTOR, {"action": "disable", "code": totp_code(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.staff).exists()


def test_it_stays_on_without_a_right_code(client, cast):
    device = add_authenticator(cast.staff)
    client.force_login(cast.staff)
    _verify_session(client, device)
    response = client.post(TWO_FACTOR, {"action": "disable", "code": wrong_code(device)})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=cast.staff, confirmed=True).exists()


def test_a_stale_page_does_not_flip_the_setting(client, cast):
    device = add_authenticator(cast.staff)
    client.force_login(cast.staff)
    _verify_session(client, device)
    # A form from before two-factor was on, posted with a valid code, changes nothing.
    response = client.post(TWO_FACTOR, {"action": "enable", "code": totp_code(device)})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=cast.staff, confirmed=True).count() == 1


def test_only_staff_get_the_page(client, cast):
    assert client.get(TWO_FACTOR)["Location"].startswith(reverse("accounts:sign-in"))
    for persona in [cast.consul, cast.host, cast.outsider]:
        client.force_login(persona)
        assert client.get(TWO_FACTOR).status_code == 403
        assert client.post(TWO_FACTOR, {"action": "enable", "code": "123456"}).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_it_rejects_other_methods(client, cast):
    client.force_login(cast.staff)
    assert client.put(TWO_FACTOR).status_code == 405


def test_it_limits_attempts(client, cast, settings):
    settings.SIGN_IN_RATE = "2/h"
    client.force_login(cast.staff)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=cast.staff)
    for _ in range(2):
        client.post(TWO_FACTOR, {"action": "enable", "code": "000000"})
    response = client.post(TWO_FACTOR, {"action": "enable", "code": totp_code(device)})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


# --- Signing in with a code ------------------------------------------------------------


def test_without_an_authenticator_no_code_is_asked(client, cast):
    response = sign_in(client, "sofia")
    assert response["Location"] == reverse("web:home")


def test_an_unconfirmed_authenticator_asks_for_no_code(client, cast):
    TOTPDevice.objects.create(user=cast.staff, name="half set up", confirmed=False)
    assert sign_in(client, "sofia")["Location"] == reverse("web:home")


def test_with_an_authenticator_the_password_alone_is_not_enough(client, cast):
    add_authenticator(cast.staff)
    response = sign_in(client, "sofia")
    assert response["Location"] == reverse("accounts:sign-in-code")
    assert signed_in_user_id(client) is None
    assert client.get(reverse("directory:people")).status_code == 302
    page = client.get(reverse("accounts:sign-in-code"))
    assert 'autocomplete="one-time-code"' in page.content.decode()


def test_the_code_completes_the_sign_in(client, cast):
    device = add_authenticator(cast.staff)
    client.post(
        reverse("accounts:sign-in"),
        {"username": "sofia", "password": "correct horse battery", "next": "/en/admin/"},
    )
    response = client.post(reverse("accounts:sign-in-code"), {"code": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == "/en/admin/"
    assert signed_in_user_id(client) == str(cast.staff.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("directory:people")).status_code == 200


def test_a_wrong_code_does_not_sign_in(client, cast):
    device = add_authenticator(cast.staff)
    sign_in(client, "sofia")
    response = client.post(reverse("accounts:sign-in-code"), {"code": wrong_code(device)})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_a_code_works_only_once(client, cast):
    device = add_authenticator(cast.staff)
    code = totp_code(device)
    sign_in(client, "sofia")
    client.post(reverse("accounts:sign-in-code"), {"code": code})
    other = client.__class__()
    sign_in(other, "sofia")
    response = other.post(reverse("accounts:sign-in-code"), {"code": code})
    assert response.status_code == 400
    assert signed_in_user_id(other) is None


def test_after_a_wrong_code_it_asks_to_wait(client, cast, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # 60 s after the first wrong code, however slow CI is
    device = add_authenticator(cast.staff)
    sign_in(client, "sofia")
    client.post(reverse("accounts:sign-in-code"), {"code": wrong_code(device)})
    client.post(reverse("accounts:sign-in-code"), {"code": wrong_code(device)})
    response = client.post(reverse("accounts:sign-in-code"), {"code": totp_code(device)})
    assert response.status_code == 400
    assert "Too many wrong codes. Wait" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_too_many_code_attempts_are_refused(client, cast, settings):
    settings.SIGN_IN_RATE = "3/h"
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = add_authenticator(cast.staff)
    sign_in(client, "sofia")
    for _ in range(3):
        client.post(reverse("accounts:sign-in-code"), {"code": wrong_code(device)})
    response = client.post(reverse("accounts:sign-in-code"), {"code": totp_code(device)})
    assert response.status_code == 429
    assert signed_in_user_id(client) is None


def test_the_code_step_needs_a_password_first(client, cast):
    response = client.get(reverse("accounts:sign-in-code"))
    assert response["Location"] == reverse("accounts:sign-in")
    response = client.post(reverse("accounts:sign-in-code"), {"code": "123456"})
    assert response["Location"] == reverse("accounts:sign-in")


def test_the_code_step_expires(client, cast):
    device = add_authenticator(cast.staff)
    sign_in(client, "sofia")
    later = time.time() + PENDING_SECONDS + 1
    with mock.patch("diplohub.accounts.views.time.time", return_value=later):
        response = client.post(reverse("accounts:sign-in-code"), {"code": totp_code(device)})
    assert response["Location"] == reverse("accounts:sign-in")
    assert signed_in_user_id(client) is None


def test_a_session_from_before_two_factor_must_sign_in_again(client, cast):
    client.force_login(cast.staff)  # e.g. another browser, signed in last week
    add_authenticator(cast.staff)  # then two-factor was turned on elsewhere
    response = client.get(reverse("directory:people"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))


def _verify_session(client, device):  # type: ignore[no-untyped-def]
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
