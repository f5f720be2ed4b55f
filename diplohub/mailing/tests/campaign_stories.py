"""The people the campaign stories are told about, around the cast in conftest.py.

Sofia (staff) writes the spring newsletter in English and Catalan. It reaches:

- Kenji, the consul general of Japan, a directory member who agreed to the newsletter
  (English, topic "health");
- Núria, who signed up on the site and reads Catalan (topic "health", Spain);
- Elena, who signed up in Spanish, a language the newsletter is not written in (she
  gets the English text);
- not Ugo, who unsubscribed, nor Pia, whose sign-up was never confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import timezone

from diplohub.directory.models import Person, Topic
from diplohub.lib.testing import mail_to_smtp
from diplohub.mailing import services
from diplohub.mailing.audience import Audience
from diplohub.mailing.models import Campaign, Consent, Purpose, Subscriber, SubscriberStatus

SPRING_EN = services.CampaignText(
    subject="Spring newsletter",
    body="## Visits this spring\n\nThe **supercomputing centre** opens its doors.\n\n"
    "[Read more](https://hub.example.org/programme/)",
)
SPRING_CA = services.CampaignText(
    subject="Butlletí de primavera",
    body="## Visites aquesta primavera\n\nEl **centre de supercomputació** obre les portes.",
)


def subscribe(
    email: str,
    *,
    language: str = "en",
    person: Person | None = None,
    topics: Iterable[Topic] = (),
    country: str = "",
    status: str = SubscriberStatus.ACTIVE,
    consent: bool = True,
) -> Subscriber:
    """A subscriber as the sign-up leaves one (confirmed, with a grant in the ledger)."""
    subscriber = Subscriber.objects.create(
        email=email,
        language=language,
        person=person,
        country=country,
        status=status,
        confirmed_at=timezone.now() if status == SubscriberStatus.ACTIVE else None,
    )
    subscriber.topics.set(list(topics))
    if consent:
        Consent.objects.create(
            email=email.lower(),
            subscriber=subscriber,
            person=person,
            purpose=Purpose.NEWSLETTER,
            granted=True,
            source="test",
        )
    return subscriber


@dataclass
class Readers:
    kenji: Subscriber
    nuria: Subscriber
    elena: Subscriber
    ugo: Subscriber
    pia: Subscriber
    health: Topic


@pytest.fixture
def readers(cast) -> Readers:  # type: ignore[no-untyped-def]
    health = Topic.objects.create(slug="health", name="Health")
    Topic.objects.create(slug="energy", name="Energy")
    kenji = subscribe("kenji@mission.example", person=cast.consul.person, topics=[health])
    nuria = subscribe("nuria@recerca.example", language="ca", topics=[health], country="ES")
    elena = subscribe("elena@universidad.example", language="es", country="MX")
    ugo = subscribe("ugo@gone.example")
    services.subscriber_unsubscribe(email=ugo.email, source="test")
    pia = subscribe("pia@pending.example", status=SubscriberStatus.PENDING, consent=False)
    return Readers(kenji, nuria, elena, ugo, pia, health)


def spring(*, by: Any = None, audience: Audience | None = None, **changes: Any) -> Campaign:
    """The spring newsletter as Sofia saves it: English and Catalan, to everyone."""
    values: dict[str, Any] = {
        "texts": {"en": SPRING_EN, "ca": SPRING_CA},
        "audience": audience or Audience(),
        "by": by,
        **changes,
    }
    return services.campaign_create(**values)


@pytest.fixture
def mailbox(smtp_server):  # type: ignore[no-untyped-def]
    with mail_to_smtp(smtp_server):
        yield smtp_server


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def by_recipient(messages: Iterable[EmailMessage]) -> dict[str, EmailMessage]:
    found: dict[str, EmailMessage] = {}
    for message in messages:
        address = str(message["To"])
        assert address not in found, f"{address} got two messages"
        found[address] = message
    return found
