"""Signing in, in a real browser: staff with an authenticator app, a member by e-mail link."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import ConsoleMessage, Page, expect

from diplohub.accounts.tests.helpers import PASSWORD, totp_code
from diplohub.lib.testing import mail_to_smtp


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Whatever the browser refused to load or run under our Content-Security-Policy."""
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    return refused


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/en/accounts/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_turn_on_two_factor_and_sign_in_with_a_code(
    page: Page, base: str, cast, csp_violations: list[str]
) -> None:
    _sign_in(page, base, "sofia")
    expect(page.get_by_role("link", name="Back office")).to_be_visible()

    page.get_by_role("link", name="My profile").click()
    page.get_by_role("link", name="Two-factor authentication").click()
    qr = page.locator("figure.qr svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150  # big enough to scan
    secret = page.locator("code.secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)

    device = TOTPDevice.objects.get(user=cast.staff)
    page.get_by_label("Code from your authenticator app").fill(totp_code(device))
    page.get_by_role("button", name="Turn two-factor authentication on").click()
    expect(page.locator(".messages")).to_contain_text("Two-factor authentication is on")

    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, base, "sofia")
    expect(page.locator("h1")).to_have_text("Two-factor code")
    expect(page.get_by_role("link", name="Back office")).to_have_count(0)
    code = page.get_by_label("Code from your authenticator app")
    code.fill("000000" if totp_code(device, steps_ahead=1) != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#id_code_error")).to_contain_text("That code is not right")
    expect(code).to_have_attribute("aria-describedby", re.compile("id_code_error"))

    page.wait_for_timeout(1100)  # django-otp waits a second after a wrong code
    code.fill(totp_code(device, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Back office")).to_be_visible()
    assert csp_violations == []


def test_a_member_signs_in_with_a_link_and_updates_their_profile(
    page: Page, base: str, cast, smtp_server, csp_violations: list[str]
) -> None:
    with mail_to_smtp(smtp_server), override_settings(SITE_URL=base):
        page.goto(f"{base}/en/accounts/sign-in/")
        page.get_by_role("link", name="Sign in with an e-mail link").click()
        page.get_by_label("Your e-mail address").fill("kenji@example.test")
        page.get_by_role("button", name="E-mail me a link").click()
        expect(page.locator("h1")).to_have_text("Check your e-mail")
        [message] = smtp_server.wait_for(1)

    body = message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+", body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="My profile")).to_be_visible()

    page.get_by_role("link", name="My profile").click()
    page.get_by_label("Form of address").fill("Excmo. Sr.")
    page.get_by_label("Languages you work in").fill("ja, en")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Your profile is saved.")
    cast.consul.person.refresh_from_db()
    assert cast.consul.person.languages == ["ja", "en"]

    page.goto(link)  # the link worked once
    expect(page.locator("h1")).to_have_text("This sign-in link does not work")
    assert csp_violations == []
