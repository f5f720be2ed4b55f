"""The attendee list on a phone: Sofia registers a consul on his behalf, moves a person,
and the counts follow what happens at the door without reloading the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.tests.stories import ensure_catalogues, make_event
from tests.e2e.test_events import console_errors, sign_in  # noqa: F401  (fixture)


@pytest.fixture
def visit(cast):
    ensure_catalogues()
    event = make_event("small-visit", days=5, host=cast.centre, capacity=1)
    Registration.objects.create(
        event=event, person=cast.attache.person, organization=cast.mexico, status="confirmed"
    )
    return event


def test_staff_register_a_consul_and_watch_the_counts_from_a_phone(
    page: Page,
    context: BrowserContext,
    base: str,
    cast,
    visit,
    console_errors: list[str],  # noqa: F811
) -> None:
    sign_in(context, base, cast.staff)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/en/programme/{visit.slug}/attendees/")
    expect(page.locator("h1")).to_have_text("Attendees")
    expect(page.locator('#counts [data-count="seated"]')).to_have_text("1")

    page.get_by_label("Search the directory").fill("Sato")
    candidates = page.locator("#candidates .candidate")
    expect(candidates).to_have_count(1)
    expect(candidates.first).to_contain_text("Consul General of Japan in Barcelona")
    candidates.first.get_by_role("button", name="Register Kenji Sato-Example").click()
    expect(page.locator(".messages")).to_contain_text(
        "Kenji Sato-Example is on the waitlist, number 1."
    )
    expect(page.locator('#counts [data-count="waitlisted"]')).to_have_text("1")

    page.get_by_label("Move Ana Attaché-Example to").select_option("cancelled")
    page.get_by_role("button", name="Move Ana Attaché-Example").click()
    expect(page.locator(".messages")).to_contain_text("Ana Attaché-Example is now: Cancelled.")
    kenji = Registration.objects.get(event=visit, person=cast.consul.person)
    assert kenji.status == RegistrationStatus.CONFIRMED  # promoted to the freed seat

    # The door checks Kenji in; the list's counts catch up on their own.
    kenji.status = RegistrationStatus.ATTENDED
    kenji.save()
    expect(page.locator('#counts [data-count="attended"]')).to_have_text("1", timeout=8000)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert console_errors == []
