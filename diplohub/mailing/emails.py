"""Messages whose whole text is given when they are queued (a note from the hub team,
a test message): the kind `mailing.message`, params `subject` and `text`."""

from __future__ import annotations

from django.conf import settings
from django.utils.html import escape, linebreaks

from diplohub.mailing import links
from diplohub.mailing.models import OutboundEmail, Subscriber, SubscriberStatus
from diplohub.mailing.services import Rendered, render_email, renderer


@renderer("mailing.message")
def _message(email: OutboundEmail) -> Rendered:
    text = str(email.params.get("text", ""))
    context = {
        "subject": str(email.params.get("subject", "")),
        "text": text,
        "paragraphs": linebreaks(escape(text)),
    }
    return render_email("mailing/message.html", context, recipient_email=email.to)


# --- Joining the network ------------------------------------------------------------


def _subscriber(email: OutboundEmail, status: str) -> Subscriber | None:
    """The subscriber a message is about, if it is still in `status` at this address."""
    subscriber = Subscriber.objects.filter(pk=email.params.get("subscriber")).first()
    if subscriber is None or subscriber.status != status:
        return None
    if subscriber.email.lower() != email.to.lower():
        return None
    return subscriber


@renderer("mailing.confirm_subscription")
def _confirm_subscription(email: OutboundEmail) -> Rendered | None:
    """The double opt-in's link. No preference link in the footer: until the address
    is confirmed, this is the only message it gets."""
    subscriber = _subscriber(email, SubscriberStatus.PENDING)
    if subscriber is None:
        return None  # confirmed, or deleted, in the meantime
    context = {
        "subscriber": subscriber,
        "name": subscriber.name,
        "confirm_url": links.confirm_url(subscriber.email),
        "days": settings.SIGNUP_PENDING_DAYS,
        "contact_email": settings.HUB_CONTACT_EMAIL,
    }
    return render_email("mailing/email/confirm_subscription.html", context)


@renderer("mailing.already_subscribed")
def _already_subscribed(email: OutboundEmail) -> Rendered | None:
    """Someone signed up an address that is subscribed already: tell its owner, and
    nothing else (the sign-up page said the same as for a new address)."""
    subscriber = _subscriber(email, SubscriberStatus.ACTIVE)
    if subscriber is None:
        return None
    context = {
        "subscriber": subscriber,
        "name": subscriber.name,
        "preferences_url": links.preferences_url(subscriber.email),
        "contact_email": settings.HUB_CONTACT_EMAIL,
    }
    return render_email(
        "mailing/email/already_subscribed.html", context, recipient_email=subscriber.email
    )
