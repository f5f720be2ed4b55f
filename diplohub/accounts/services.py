"""Account workflows: profiles, sign-in links, two-factor devices, API tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from sesame.utils import get_query_string

from diplohub.accounts.models import ApiToken, User
from diplohub.directory.models import Person

# What a member may change about themselves in the directory; nothing else, whatever
# a form posts.
PROFILE_PERSON_FIELDS = (
    "honorific_prefix",
    "given_name",
    "family_name",
    "form_of_address",
    "languages",
    "email",
    "phone",
)


@transaction.atomic
def profile_update(*, user: User, language: str, person_data: dict[str, Any] | None = None) -> User:
    """Save a user's own profile: interface language and, if they have one, their Person."""
    user.language = language
    user.save(update_fields=["language"])
    person = getattr(user, "person", None)
    if person is not None and person_data is not None:
        for name in PROFILE_PERSON_FIELDS:
            if name in person_data:
                setattr(person, name, person_data[name])
        person._history_user = user
        person.full_clean(exclude=["user"])
        person.save()
    return user


def sign_in_link_send(*, email: str, language: str, next_path: str = "") -> int:
    """E-mail a sign-in link to each member or host whose account has this address.

    Returns how many links were sent. Callers must not tell the visitor: the answer
    would reveal who has an account. Staff never get a link (see LinkBackend).
    """
    users = User.objects.filter(email__iexact=email.strip(), is_active=True).prefetch_related(
        "groups"
    )
    sent = 0
    for user in users:
        if not user.can_sign_in_with_link:
            continue
        with translation.override(user.language or language):
            query = get_query_string(user)
            if next_path:
                query += "&" + urlencode({"next": next_path})
            person = Person.objects.filter(user=user).first()
            context = {
                "name": person.name if person else user.get_full_name() or user.get_username(),
                "url": settings.SITE_URL + reverse("accounts:sign-in-link-use") + query,
                "minutes": settings.SESAME_MAX_AGE // 60,
                "hub_name": settings.HUB_NAME,
            }
            subject = render_to_string("accounts/email/sign_in_link_subject.txt", context)
            body = render_to_string("accounts/email/sign_in_link.txt", context)
        send_mail(" ".join(subject.split()), body, None, [user.email])
        sent += 1
    return sent


def totp_device_for(user: User, *, confirmed: bool) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def totp_device_start(*, user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator (made on first call): the QR code shows its key."""
    device = totp_device_for(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def totp_wait_seconds(device: TOTPDevice) -> int:
    """Seconds until django-otp accepts another code after wrong ones (0: now)."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return 0
    return max(1, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Turn two-factor on if the code matches the new device; it then replaces any other."""
    locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not locked.verify_token(token):
        return False
    locked.confirmed = True
    locked.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=locked.user_id).exclude(pk=locked.pk).delete()
    device.refresh_from_db()
    return True


def totp_verify(*, user: User, token: str) -> TOTPDevice | None:
    """The user's confirmed device if it accepts the code (each code works once)."""
    device = totp_device_for(user, confirmed=True)
    if device is None:
        return None
    return verify_token(user, device.persistent_id, token)


@transaction.atomic
def totp_disable(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the user; returns it with its raw value, which is stored nowhere."""
    raw = ApiToken.new_raw()
    token = ApiToken(user=user, name=name)
    token.set_raw(raw)
    token.full_clean()
    token.save()
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
