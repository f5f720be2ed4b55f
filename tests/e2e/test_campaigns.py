"""Campaigns in a real browser: Sofia writes the spring newsletter and watches the
preview follow her typing, narrows the audience and watches the count, saves it,
sends it, and follows its progress to the end; a visitor on a phone reads it in the
archive in Catalan. No console errors, no CSP refusals, nothing wider than the phone.

With DIPLOHUB_SCREENSHOTS=<folder>, the pages are also saved as PNG at 390 and 1280
pixels wide, to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from diplohub.mailing.models import Campaign, CampaignStatus
from diplohub.mailing.tests import campaign_stories
from tests.e2e.test_events import console_errors, sign_in  # noqa: F401  (fixture)

readers = campaign_stories.readers
mailbox = campaign_stories.mailbox
SHOTS = os.environ.get("DIPLOHUB_SCREENSHOTS", "")


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"] if page.viewport_size else 0
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)


def collect_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("console", on_console)
    return errors


def fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 390])
def test_sofia_writes_sends_and_follows_the_spring_newsletter(
    page: Page,
    context: BrowserContext,
    base: str,
    cast,
    readers,
    mailbox,
    width: int,
    console_errors: list[str],  # noqa: F811
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(context, base, cast.staff)
    page.goto(f"{base}/en/mail/campaigns/")
    expect(page.locator("h1")).to_have_text("Campaigns")
    shoot(page, "campaigns-empty")
    page.get_by_role("link", name="New campaign").click()
    expect(page.locator("h1")).to_have_text("New campaign")

    english = page.locator("#lang-en")
    english.get_by_label("Subject").fill("Spring newsletter")
    english.get_by_label("Text (Markdown)").fill(
        "## Visits this spring\n\nThe **supercomputing centre** opens its doors."
    )
    preview = page.locator("#preview-en")
    expect(preview.locator("h2")).to_have_text("Visits this spring")
    expect(preview.locator("strong")).to_have_text("supercomputing centre")
    expect(preview.locator(".email-subject")).to_have_text("Spring newsletter")

    catalan = page.locator("#lang-ca")
    catalan.get_by_label("Subject").fill("Butlletí de primavera")
    catalan.get_by_label("Text (Markdown)").fill("El **centre** obre les portes.")
    expect(page.locator("#preview-ca strong")).to_have_text("centre")

    count = page.locator("#recipient-count")
    expect(count).to_contain_text("3 people would receive it now.")
    page.locator("#audience").get_by_label("Català").check()
    expect(count).to_contain_text("1 person would receive it now.")
    page.locator("#audience").get_by_label("Català").uncheck()
    expect(count).to_contain_text("3 people would receive it now.")
    fits(page, width)
    shoot(page, "campaign-new")

    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".messages")).to_contain_text("The draft is saved.")
    campaign = Campaign.objects.get()
    assert campaign.text_in("ca") == ("Butlletí de primavera", "El **centre** obre les portes.")
    shoot(page, "campaign-draft")

    page.get_by_role("button", name="Save and send now…").click()
    expect(page.locator("main")).to_contain_text("will go to 3 people now")
    fits(page, width)
    shoot(page, "campaign-confirm")
    page.get_by_role("button", name="Send now", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Sending to 3 people.")
    progress = page.locator("#progress")
    expect(progress.locator('[data-count="sent"]')).to_have_text("3")
    expect(progress.locator("[data-status]")).to_have_text("Sent")
    expect(progress).to_contain_text("3 of 3 done")
    fits(page, width)
    shoot(page, "campaign-sent")

    mailbox.wait_for(3)
    assert Campaign.objects.get().status == CampaignStatus.SENT
    page.goto(f"{base}/en/mail/campaigns/")
    expect(page.locator(".campaign-item")).to_contain_text("3 of 3 sent")
    shoot(page, "campaigns")
    assert console_errors == []


def test_the_page_follows_a_campaign_being_sent_by_a_worker(
    page: Page,
    context: BrowserContext,
    base: str,
    cast,
    readers,
    console_errors: list[str],  # noqa: F811
) -> None:
    """The progress polls: rows sent elsewhere (a worker) appear without a reload."""
    from diplohub.mailing import services
    from diplohub.mailing.models import EmailStatus, OutboundEmail
    from diplohub.mailing.tests.campaign_stories import spring

    campaign = spring()
    # Rows as campaign_queue writes them, with no send task (the workers are busy).
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    for subscriber in (readers.kenji, readers.nuria, readers.elena):
        OutboundEmail.objects.create(
            key=f"campaign:{campaign.pk}:{subscriber.email}",
            kind=services.CAMPAIGN_KIND,
            to=subscriber.email,
            language=subscriber.language,
            message_id=f"<{subscriber.pk}@hub.example>",
            campaign=campaign,
        )
    sign_in(context, base, cast.staff)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/en/mail/campaigns/{campaign.pk}/")
    progress = page.locator("#progress")
    expect(progress.locator('[data-count="queued"]')).to_have_text("3")
    shoot(page, "campaign-sending")
    OutboundEmail.objects.filter(to=readers.kenji.email).update(status=EmailStatus.SENT)
    expect(progress.locator('[data-count="sent"]')).to_have_text("1")
    expect(progress).to_contain_text("1 of 3 done")
    OutboundEmail.objects.update(status=EmailStatus.SENT)
    services.campaigns_finish()
    expect(progress.locator("[data-status]")).to_have_text("Sent")
    fits(page, 390)
    assert console_errors == []


def test_a_visitor_reads_the_archive_on_a_phone_in_catalan(
    browser: Browser,
    base: str,
    readers,
    mailbox,
) -> None:
    from diplohub.mailing import services
    from diplohub.mailing.tests.campaign_stories import spring

    campaign = spring()
    services.campaign_queue(campaign=campaign)
    services.emails_send()
    services.campaigns_finish()
    for width in (390, 1280):
        phone = browser.new_context(viewport={"width": width, "height": 844})
        page = phone.new_page()
        errors = collect_errors(page)
        page.goto(f"{base}/ca/newsletters/")
        page.get_by_role("link", name="Butlletí de primavera").click()
        expect(page.locator("h1")).to_have_text("Butlletí de primavera")
        expect(page.locator("article strong")).to_have_text("centre de supercomputació")
        fits(page, width)
        shoot(page, "newsletter")
        page.goto(f"{base}/ca/newsletters/")
        shoot(page, "newsletters")
        assert errors == []
        phone.close()
