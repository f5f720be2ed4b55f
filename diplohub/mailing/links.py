"""Signed links in e-mail: the preference centre and one-click unsubscribe for an
address, and the confirmation of a sign-up. No password, no stored token: the link
carries the address, signed with SECRET_KEY (django.core.signing) under a salt per use,
so a link for one use never works for another and nobody can forge one."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

PREFERENCES = "mailing.preferences"
CONFIRM = "mailing.confirm"


def token_for(email: str, *, salt: str = PREFERENCES) -> str:
    return signing.dumps(email.lower(), salt=salt, compress=True)


def email_from(token: str, *, salt: str = PREFERENCES, max_age: int | None = None) -> str | None:
    """The address a token was made for, or None if it is forged, damaged or (with
    `max_age` seconds) too old."""
    try:
        return str(signing.loads(token, salt=salt, max_age=max_age))
    except signing.BadSignature:  # SignatureExpired is one
        return None


def preferences_url(email: str) -> str:
    return settings.SITE_URL + reverse("mailing:preferences", kwargs={"token": token_for(email)})


def unsubscribe_url(email: str) -> str:
    """The RFC 8058 one-click address: GET shows a button, POST unsubscribes at once."""
    return settings.SITE_URL + reverse("mailing:unsubscribe", kwargs={"token": token_for(email)})


def confirm_url(email: str) -> str:
    token = token_for(email, salt=CONFIRM)
    return settings.SITE_URL + reverse("mailing:confirm", kwargs={"token": token})


def confirmation_from(token: str) -> tuple[str | None, bool]:
    """The address a confirmation link was made for, and whether it has expired: a
    link works for DIPLOHUB_SIGNUP_PENDING_DAYS, as long as the sign-up is kept.
    (None, False) for a forged or damaged link, (None, True) for one too old."""
    max_age = settings.SIGNUP_PENDING_DAYS * 24 * 3600
    try:
        return str(signing.loads(token, salt=CONFIRM, max_age=max_age)), False
    except signing.SignatureExpired:
        return None, True
    except signing.BadSignature:
        return None, False


def list_unsubscribe_headers(email: str) -> dict[str, str]:
    """The RFC 8058 headers for a message to `email` (a newsletter): mail clients show
    an "Unsubscribe" button that POSTs List-Unsubscribe=One-Click to the link."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(email)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
