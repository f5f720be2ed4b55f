"""The programme in a real browser: a visitor finds an event and its calendar; a consul
registers and gets the confirmation with a calendar link; all of it fits on a phone."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.tests.stories import build_programme


@pytest.fixture
def programme(cast):
    return build_programme(cast)


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Errors the browser logs, Content-Security-Policy refusals included."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("console", on_console)
    return errors


def sign_in(context: BrowserContext, base: str, user) -> None:  # type: ignore[no-untyped-def]
    """A signed-in session for `user`, as Django's test client force_login() makes one."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}]
    )


def test_a_visitor_opens_an_event_and_its_calendar(
    page: Page, base: str, programme, console_errors: list[str]
) -> None:
    page.goto(f"{base}/en/")
    page.get_by_role("link", name="Programme", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("Programme")
    expect(page.locator("main")).not_to_contain_text("Encounter with the rectors")
    page.get_by_role("link", name="Visit to the supercomputing centre").click()
    expect(page.locator("h1")).to_have_text("Visit to the supercomputing centre")
    expect(page.locator("main")).to_contain_text("Diplomatic Circle — 3rd edition")
    expect(page.locator("main")).to_contain_text("Europe/Madrid")

    link = page.get_by_role("link", name="Add to my calendar (.ics)")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "visit-supercomputer.ics"
    response = page.request.get(base + link.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "TZID=Europe/Madrid" in response.text()
    assert console_errors == []


def test_a_consul_registers_and_sees_the_confirmation(
    page: Page, context: BrowserContext, base: str, programme, cast, console_errors: list[str]
) -> None:
    sign_in(context, base, cast.consul)
    page.goto(f"{base}/en/programme/visit-supercomputer/")
    expect(page.get_by_text("30 seats left.")).to_be_visible()
    page.get_by_role("button", name="Register").click()

    expect(page.locator(".messages")).to_contain_text("You are registered.")
    confirmation = page.locator(".seats [role=status]")
    expect(confirmation).to_contain_text("You are registered for this event.")
    calendar = confirmation.get_by_role("link", name="Add it to your calendar")
    response = page.request.get(base + calendar.get_attribute("href"))
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    registration = Registration.objects.get(event=programme.visit, person=cast.consul.person)
    assert registration.status == RegistrationStatus.CONFIRMED

    page.get_by_role("link", name="My events").first.click()
    expect(page.locator("main")).to_contain_text("Visit to the supercomputing centre")
    expect(page.locator("main")).to_contain_text("Confirmed")
    feed_url = page.locator("#feed-url").input_value()
    assert "/en/programme/feeds/" in feed_url
    feed = page.request.get(feed_url)
    assert "Visit to the supercomputing centre" in feed.text()
    assert console_errors == []


@pytest.mark.parametrize(
    "path", ["/en/programme/", "/en/programme/visit-supercomputer/", "/es/programme/mine/"]
)
def test_the_programme_fits_on_a_phone(
    page: Page, context: BrowserContext, base: str, programme, cast, path: str
) -> None:
    sign_in(context, base, cast.consul)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}{path}")
    expect(page.locator("h1")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
