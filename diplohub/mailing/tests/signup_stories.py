"""Shared pieces of the sign-up stories: the documents in force, a mailbox on a real
SMTP server, and reading links out of the messages it received.

Import the fixtures into a test module to use them:

    from diplohub.mailing.tests.signup_stories import mailbox, policies  # noqa: F401
"""

from __future__ import annotations

import datetime
import re
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import timezone

from diplohub.lib.testing import mail_to_smtp
from diplohub.mailing.models import PolicyDocument

MARTA = {
    "email": "Marta.Recerca@Research.EXAMPLE",
    "first_name": "Marta",
    "last_name": "Recerca-Example",
    "consent": "on",
}


@pytest.fixture
def policies(db) -> tuple[PolicyDocument, PolicyDocument]:  # type: ignore[no-untyped-def]
    """Version 1 of the privacy policy and of the terms, in force since yesterday."""
    yesterday = timezone.now() - datetime.timedelta(days=1)
    privacy = PolicyDocument.objects.create(
        kind="privacy",
        version=1,
        title_en="Privacy policy",
        title_ca="Política de privacitat",
        body_en="We keep **little**.",
        body_ca="En guardem **poc**.",
        published_at=yesterday,
    )
    terms = PolicyDocument.objects.create(
        kind="terms",
        version=1,
        title_en="Terms of service",
        body_en="Be kind.",
        published_at=yesterday,
    )
    return privacy, terms


@pytest.fixture
def mailbox(smtp_server):  # type: ignore[no-untyped-def]
    """The hub's mail goes to a real SMTP server (aiosmtpd) for the whole test."""
    with mail_to_smtp(smtp_server):
        yield smtp_server


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def link_in(message: EmailMessage, what: str) -> str:
    """The path (from the language prefix on) of the first link to `what` ("join/confirm",
    "mail/preferences"…) in the message's plain-text part."""
    found = re.search(rf"https?://[^/\s]+(/\w\w/{re.escape(what)}/[^/\s]+/)", plain(message))
    assert found, plain(message)
    return found.group(1)


def join(**changes: Any) -> dict[str, Any]:
    """The sign-up form's data for Marta, with `changes` (None removes a field)."""
    data = {**MARTA, **changes}
    return {key: value for key, value in data.items() if value is not None}
