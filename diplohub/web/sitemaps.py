"""The sitemap (/sitemap.xml, an index of one sitemap per section): every public page
in every language, each with its alternates in the others (hreflang) and x-default.

Sections list their items from a queryset and read one page of them at a time, so a
catalogue of 100,000 items is not loaded whole to write 50,000 addresses.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from diplohub.directory.models import Organization
from diplohub.events.models import Event


class _Pairs(Sequence[tuple[Any, str]]):
    """(item, language) for every item of a queryset and every language, in order,
    fetched a slice at a time (what Django's i18n sitemaps build as a whole list)."""

    def __init__(
        self, items: QuerySet[Any], languages: list[str], prepare: Callable[[list[Any]], None]
    ) -> None:
        self.items = items
        self.languages = languages
        self.prepare = prepare
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = self.items.count() * len(self.languages)
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _step = index.indices(len(self))
        width = len(self.languages)
        first, last = start // width, math.ceil(stop / width)
        items = list(self.items[first:last])
        self.prepare(items)
        pairs = [(item, language) for item in items for language in self.languages]
        offset = start - first * width
        return pairs[offset : offset + max(stop - start, 0)]


class HubSitemap(Sitemap):
    """A section in every language, with alternates; items from `queryset()`."""

    i18n = True
    alternates = True
    x_default = True
    lastmod_field = "updated_at"

    def queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def prepare(self, items: list[Any]) -> None:
        """Fill what a page of items needs for their addresses (e.g. their slugs)."""

    def items(self) -> QuerySet[Any]:
        return self.queryset()

    @property
    def paginator(self) -> Paginator:  # type: ignore[override]
        languages = self.languages or [code for code, _name in settings.LANGUAGES]
        return Paginator(_Pairs(self.queryset(), list(languages), self.prepare), self.limit)

    def lastmod(self, item: Any) -> datetime.datetime | None:
        return getattr(item, self.lastmod_field, None) if self.lastmod_field else None

    def get_latest_lastmod(self) -> datetime.datetime | None:
        if not self.lastmod_field:
            return None
        latest: datetime.datetime | None = self.queryset().aggregate(
            latest=Max(self.lastmod_field)
        )["latest"]
        return latest


class OrganizationSitemap(HubSitemap):
    def queryset(self) -> QuerySet[Organization]:
        return Organization.objects.public().order_by("pk").only("pk", "slug", "updated_at")


class EventSitemap(HubSitemap):
    def queryset(self) -> QuerySet[Event]:
        return Event.objects.public().order_by("pk").only("pk", "slug", "updated_at")


# The public pages that are not items: lists and the home page.
PAGES = [
    "web:home",
    "directory:diplomatic",
    "directory:ecosystem",
    "directory:diplomatic-list",
    "events:programme",
    "mailing:join",
    "mailing:newsletters",
    "knowledge:home",
    "knowledge:initiatives",
    "knowledge:developments",
    "knowledge:working-groups",
    "knowledge:publications",
    "knowledge:press",
]


class PageSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True

    def items(self) -> list[str]:
        return PAGES

    def location(self, item: str) -> str:
        return reverse(item)


def rendered(view: Callable[..., Any]) -> Callable[..., Any]:
    """Django's sitemap views answer a TemplateResponse, rendered late; the page cache
    keeps content, so render it first."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, TemplateResponse):
            response.render()
        return response  # type: ignore[no-any-return]

    return wrapper


def sitemaps() -> dict[str, Any]:
    from diplohub.knowledge.sitemaps import SECTIONS as KNOWLEDGE

    return {
        "pages": PageSitemap,
        "organisations": OrganizationSitemap,
        "events": EventSitemap,
        **KNOWLEDGE,
    }
