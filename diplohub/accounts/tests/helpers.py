"""Small helpers for the accounts stories."""

from __future__ import annotations

import time

from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery"


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the user's phone shows now (or `steps_ahead` 30-second steps later:
    django-otp accepts one step of drift and never the same step twice)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = {totp_code(device, steps_ahead=s) for s in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def add_authenticator(user) -> TOTPDevice:  # type: ignore[no-untyped-def]
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def sign_in(client, username: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("accounts:sign-in"), {"username": username, "password": password}, **extra
    )


def signed_in_user_id(client) -> str | None:  # type: ignore[no-untyped-def]
    return client.session.get("_auth_user_id")
