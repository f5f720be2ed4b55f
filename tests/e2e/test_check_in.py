"""The door on a phone: Hugo, host at the centre, searches a name and checks a consul in."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.tests.stories import build_programme
from tests.e2e.test_events import sign_in


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Errors the browser logs, Content-Security-Policy refusals included."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("console", on_console)
    return errors


@pytest.fixture
def door(cast):
    programme = build_programme(cast)
    visit = programme.visit
    Registration.objects.create(
        event=visit, person=cast.consul.person, organization=cast.japan, status="confirmed"
    )
    Registration.objects.create(
        event=visit, person=cast.attache.person, organization=cast.mexico, status="confirmed"
    )
    return visit


def test_a_host_checks_a_consul_in_from_a_phone(
    page: Page, context: BrowserContext, base: str, cast, door, console_errors: list[str]
) -> None:
    sign_in(context, base, cast.host)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/en/programme/{door.slug}/check-in/")
    expect(page.locator("h1")).to_have_text("Check-in")
    arrived = page.locator('#counts [data-count="arrived"]')
    expect(arrived).to_have_text("0")
    expect(page.locator('#counts [data-count="expected"]')).to_have_text("2")

    page.get_by_label("Search a name").fill("Sato")
    rows = page.locator("#results .door-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Kenji Sato-Example")

    rows.first.get_by_role("button", name="Check in").click()
    expect(rows.first).to_contain_text("Checked in at")
    expect(arrived).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    registration = Registration.objects.get(event=door, person=cast.consul.person)
    assert registration.status == RegistrationStatus.ATTENDED
    assert registration.checked_in_by_id == cast.host.pk
    # With or without the browser's BarcodeDetector, the camera can read codes.
    expect(page.get_by_role("button", name="Scan a QR code")).to_be_visible()
    assert console_errors == []
