"""Rate limits for the sign-in and sign-up forms (django-ratelimit, counted in the default
cache)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited


def client_ip(request: HttpRequest) -> str:
    """The client's address behind our reverse proxy (settings.RATELIMIT_IP_META_KEY).

    The proxy appends the address it saw to X-Forwarded-For, so the last entry is
    the one we can trust; earlier entries are whatever the client sent.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    candidate = forwarded.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return str(request.META.get("REMOTE_ADDR") or "0.0.0.0")  # noqa: S104


def request_ip(request: HttpRequest) -> str:
    """The client's address as the rate limits count it: the proxy's forwarded one
    behind DIPLOHUB_BEHIND_PROXY, else the connection's."""
    if getattr(settings, "RATELIMIT_IP_META_KEY", None):
        return client_ip(request)
    return str(request.META.get("REMOTE_ADDR") or "")


def _constant(value: str) -> Callable[[str, HttpRequest], str]:
    return lambda _group, _request: value


def too_many_attempts(request: HttpRequest, group: str, *values: str, rate: str = "") -> bool:
    """Count one attempt against the client's IP and each value (a username, an
    address); True when any of them is over `rate` (default settings.SIGN_IN_RATE)."""
    keys: list[str | Callable[[str, HttpRequest], str]] = ["ip"]
    keys += [_constant(value.strip().lower()) for value in values if value.strip()]
    limited = False
    for key in keys:
        # Every counter is incremented, even once one is over: no short-circuit.
        hit = is_ratelimited(
            request, group=group, key=key, rate=rate or settings.SIGN_IN_RATE, increment=True
        )
        limited = limited or bool(hit)
    return limited
