"""A page cache for anonymous visitors, emptied whenever the data behind the pages change.

Public directory pages are read far more than they are written, and most of their cost
is template rendering. Anonymous GET responses are kept in each app process's memory
under a key that carries a version number. Any change to the data bumps the version in
Django's cache (shared between processes when REDIS_URL is set); each process looks at
the version at most once per PAGE_CACHE_VERSION_CHECK seconds, so a change reaches every
process within that delay. Signed-in users always get a fresh render.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

VERSION_KEY = "pagecache:version"
MAX_PAGES = 2000

_lock = threading.Lock()
_pages: OrderedDict[str, tuple[float, bytes, dict[str, str]]] = OrderedDict()
_version = {"value": 0, "checked": 0.0}


def current_version() -> int:
    now = time.monotonic()
    if now - _version["checked"] >= settings.PAGE_CACHE_VERSION_CHECK:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, 1, timeout=None)
            version = cache.get(VERSION_KEY, 1)
        _version.update(value=int(version), checked=now)
    return int(_version["value"])


def invalidate(**_signal_kwargs: object) -> None:
    """Make every cached page stale (usable as a signal receiver)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # the key was evicted or never set
        cache.set(VERSION_KEY, int(time.time()), timeout=None)
    _version["checked"] = 0.0  # this process sees its own change at once
    with _lock:
        _pages.clear()


def _remember(key: str, response: HttpResponse, seconds: int) -> None:
    headers = {k: v for k, v in response.items() if k.lower() not in {"content-length"}}
    with _lock:
        _pages[key] = (time.monotonic() + seconds, response.content, headers)
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)


def _recall(key: str) -> HttpResponse | None:
    with _lock:
        entry = _pages.get(key)
    if entry is None or entry[0] < time.monotonic():
        return None
    response = HttpResponse(entry[1])
    for name, value in entry[2].items():
        response[name] = value
    return response


def cached_for_visitors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        seconds = settings.PAGE_CACHE_SECONDS
        if not seconds or request.method != "GET" or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        partial = "1" if request.headers.get("HX-Request") else "0"
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"{current_version()}:{request.LANGUAGE_CODE}:{partial}:{path}"
        response = _recall(key)
        if response is None:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.cookies and not response.streaming:
                _remember(key, response, seconds)
        return response

    return wrapper
