"""Joining the network in a real browser, in Catalan: Marta misses a required field and
sees the error next to it, completes the form, follows the confirmation link from the
e-mail the SMTP server received, changes her preferences, and unsubscribes with one
click; a mail client's RFC 8058 one-click POST works as well. All of it on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from diplohub.directory.models import Topic
from diplohub.mailing import links
from diplohub.mailing.models import Consent, Subscriber, SubscriberStatus
from diplohub.mailing.tests import signup_stories
from diplohub.mailing.tests.signup_stories import link_in
from tests.e2e.test_events import console_errors  # noqa: F401  (fixture)

mailbox = signup_stories.mailbox
policies = signup_stories.policies
PHONE = {"width": 390, "height": 844}


def fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def topics(db):  # type: ignore[no-untyped-def]
    return [
        Topic.objects.create(slug="hpc-ai", name_en="HPC & AI", name_ca="Supercomputació i IA"),
        Topic.objects.create(slug="space", name_en="Space", name_ca="Espai"),
    ]


def test_marta_joins_in_catalan_confirms_changes_her_preferences_and_leaves(
    browser: Browser, base: str, policies, topics, mailbox
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" or "Content Security Policy" in m.text
            else None
        ),
    )

    # The home page's compact form arrives after the page (htmx), in Catalan.
    page.goto(f"{base}/ca/")
    expect(page.locator("html")).to_have_attribute("lang", "ca")
    expect(page.locator(".join-compact form")).to_be_visible()
    expect(page.locator(".join-compact input[name=language]")).to_have_value("ca")
    page.locator(".join-compact").get_by_role("link").last.click()

    # The full form: she forgets her first name.
    expect(page).to_have_url(re.compile(r"/ca/join/$"))
    form = page.locator("form.join")
    form.locator("#id_email").fill("marta.recerca@research.example")
    form.locator("#id_last_name").fill("Recerca-Example")
    form.locator("#id_organization").fill("Institut d'Exemple de Ciències Fotòniques")
    form.locator("#id_country").select_option("ES")
    page.get_by_label("Espai").check()
    form.locator("#id_consent").check()
    fits(page, PHONE["width"])
    form.locator("button[type=submit]").click()

    first_name = page.locator("#id_first_name")
    expect(first_name).to_have_attribute("aria-invalid", "true")
    error = page.locator("#id_first_name_error")
    expect(error).to_have_text("Aquest camp és obligatori.")
    described = first_name.get_attribute("aria-describedby") or ""
    assert "id_first_name_error" in described.split()
    # The error sits right after its field, and what she typed is still there.
    assert (
        page.evaluate("document.querySelector('#id_first_name').nextElementSibling.id")
        == "id_first_name_error"
    )
    expect(page.locator("#id_email")).to_have_value("marta.recerca@research.example")
    assert Subscriber.objects.count() == 0

    first_name.fill("Marta")
    page.locator("#id_consent").check()
    page.locator("form.join button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/ca/join/check-your-inbox/$"))

    # The confirmation arrives at the SMTP server; she follows its link.
    (message,) = mailbox.wait_for(1)
    assert message["To"] == "marta.recerca@research.example"
    confirm = link_in(message, "join/confirm")
    assert confirm.startswith("/ca/join/confirm/")
    page.goto(base + confirm)
    expect(page.locator("main")).to_contain_text("marta.recerca@research.example")
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/ca/mail/preferences/[^/]+/$"))
    expect(page.locator(".messages")).to_be_visible()
    marta = Subscriber.objects.get()
    assert marta.status == SubscriberStatus.ACTIVE and marta.language == "ca"

    # Her preferences: one more topic, event news (agreeing again), in English.
    page.get_by_label("Supercomputació i IA").check()
    page.locator("#id_events").check()
    page.locator("#id_language").select_option("en")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_consent_error")).to_be_visible()  # turning mail on needs the box
    page.locator("#id_consent").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".messages")).to_be_visible()
    marta.refresh_from_db()
    assert marta.language == "en" and marta.wants_events
    assert {t.slug for t in marta.topics.all()} == {"hpc-ai", "space"}
    fits(page, PHONE["width"])

    # She leaves: the link, then one button.
    page.locator("a[href*='/mail/unsubscribe/']").click()
    expect(page.locator("main")).to_contain_text("marta.recerca@research.example")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".messages")).to_be_visible()
    marta.refresh_from_db()
    assert marta.status == SubscriberStatus.UNSUBSCRIBED
    assert not Subscriber.objects.reachable().exists()
    latest = Consent.objects.order_by("-pk").first()
    assert (latest.purpose, latest.granted, latest.source) == ("newsletter", False, "unsubscribe")
    # The two answers with form errors are 400s, which Chromium logs; nothing else.
    assert [e for e in errors if "status of 400" not in e] == []
    assert len(errors) == 2
    context.close()


def test_a_mail_clients_one_click_unsubscribe_needs_no_page(
    page: Page,
    base: str,
    policies,
    console_errors: list[str],  # noqa: F811
) -> None:
    from diplohub.mailing import services

    services.subscriber_sign_up(email="marta@research.example", language="ca", source="join")
    services.subscriber_confirm(email="marta@research.example")
    url = links.unsubscribe_url("marta@research.example").replace("http://127.0.0.1:8000", base)
    # What Gmail or Apple Mail send (RFC 8058): a POST, no cookie, no CSRF token.
    response = page.request.post(url, form={"List-Unsubscribe": "One-Click"})
    assert response.status == 200
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED
    page.goto(url)
    expect(page.locator("main")).to_contain_text("marta@research.example")
    assert console_errors == []
