"""Invitations in a real browser: Sofia chooses the audience and invites; Kenji opens
the link from the e-mail the SMTP server received, on his phone, registers without a
password, and lands on his confirmation with the calendar link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from diplohub.events.models import Invitation, Registration, RegistrationStatus
from diplohub.events.tests.stories import make_event
from diplohub.lib.testing import mail_to_smtp
from tests.e2e.test_events import console_errors, sign_in  # noqa: F401  (fixture)


@pytest.fixture
def mailbox(smtp_server):
    with mail_to_smtp(smtp_server):
        yield smtp_server


def test_an_invitation_from_audience_to_confirmation(
    page: Page,
    context: BrowserContext,
    browser: Browser,
    base: str,
    cast,
    mailbox,
    console_errors: list[str],  # noqa: F811
) -> None:
    encounter = make_event(
        "rectors-encounter",
        kind="encounter",
        title_en="Encounter with the rectors",
        visibility="invitation",
    )
    sign_in(context, base, cast.staff)
    page.goto(f"{base}/en/programme/{encounter.slug}/invitations/")
    page.get_by_label("Consulate-general").check()
    page.get_by_label("Head of mission").check()
    page.get_by_role("button", name="Preview the audience").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("1 person matches.")
    expect(preview).to_contain_text("Kenji Sato-Example")
    expect(preview).not_to_contain_text("Ana Attaché-Example")
    expect(page.get_by_label("Invite Kenji Sato-Example")).to_be_checked()
    page.get_by_role("button", name="Send the invitations").click()
    expect(page.locator(".messages")).to_contain_text("1 invitation sent.")
    assert console_errors == []

    (message,) = mailbox.wait_for(1)
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http\S+/programme/invitations/\S+/", text)
    assert link
    path = link.group(0).split("/en/", 1)[1]

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    kenji = phone.new_page()
    kenji.goto(f"{base}/en/{path}")
    expect(kenji.locator("h1")).to_have_text("Encounter with the rectors")
    expect(kenji.locator("main")).to_contain_text("Dear Kenji Sato-Example")
    accept = kenji.get_by_role("button", name="Accept and register")
    box = accept.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert kenji.evaluate("document.documentElement.scrollWidth") <= 390
    accept.click()

    expect(kenji.locator(".messages")).to_contain_text("You are registered.")
    expect(kenji.locator("main")).to_contain_text("Your seat is confirmed.")
    expect(kenji.get_by_alt_text("Your check-in QR code")).to_be_visible()
    calendar = kenji.get_by_role("link", name="Add to my calendar (.ics)")
    response = kenji.request.get(base + calendar.get_attribute("href"))
    assert response.ok
    assert "SUMMARY:Encounter with the rectors" in response.text()

    registration = Registration.objects.get(event=encounter, person=cast.consul.person)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert Invitation.objects.get(event=encounter).status == "registered"
    confirmation = mailbox.wait_for(2)[-1]
    assert confirmation["Subject"] == "Your seat is confirmed: Encounter with the rectors"
    phone.close()
