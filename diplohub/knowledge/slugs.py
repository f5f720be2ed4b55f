"""Addresses of catalogue items: a slug per language, made from the title in that
language, and every slug an item ever had kept so that old links redirect.

    slugs_refresh(item)          after saving: new titles get new slugs
    slug_of(item, "ca")          the current Catalan slug
    prefetch_slugs(items)        one query for a whole list's slugs
    resolve(Model, "ca", slug)   the item and its current slug (None: no such item);
                                 a slug of another language also finds the item, so a
                                 language switch that keeps the old slug redirects
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from diplohub.knowledge.models import Slug

Item = TypeVar("Item", bound=models.Model)
MAX_LENGTH = 120


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _title(item: Any, language: str) -> str:
    own = getattr(item, f"title_{language}", "") or ""
    return own or getattr(item, f"title_{settings.LANGUAGE_CODE}", "") or item.title or ""


def _base(text: str, pk: int) -> str:
    base = slugify(text)[:MAX_LENGTH].strip("-")
    return base or f"item-{pk}"


def slugs_refresh(item: models.Model) -> dict[str, str]:
    """Give `item` a slug per language from its titles, keeping its old ones; a slug
    taken by another item of the same kind gets a number (-2, -3…). Returns the
    current slugs. Call it in the transaction that saved the item."""
    kind = ContentType.objects.get_for_model(item)
    current: dict[str, str] = {}
    with transaction.atomic():
        mine = Slug.objects.filter(content_type=kind, object_id=item.pk)
        latest = {language: slug_of(item, language, fresh=True) for language in _languages()}
        for language in _languages():
            wanted = _base(_title(item, language), item.pk)
            previous = latest[language]
            if previous is not None and _same_base(previous, wanted):
                current[language] = previous  # unchanged title, same address
                continue
            slug = wanted
            number = 1
            while (
                Slug.objects.filter(content_type=kind, language=language, slug=slug)
                .exclude(object_id=item.pk)
                .exists()
            ):
                number += 1
                slug = f"{wanted[: MAX_LENGTH - 6]}-{number}"
            # An old slug of the item itself becomes current again.
            updated = mine.filter(language=language, slug=slug).update(created_at=timezone.now())
            if not updated:
                Slug.objects.create(
                    content_type=kind, object_id=item.pk, language=language, slug=slug
                )
            current[language] = slug
    item._slugs = dict(current)  # type: ignore[attr-defined]
    return current


def _same_base(slug: str, wanted: str) -> bool:
    """The slug was made from this title (perhaps numbered to tell it from another)."""
    if slug == wanted:
        return True
    head, _sep, tail = slug.rpartition("-")
    return tail.isdigit() and head == wanted[: MAX_LENGTH - 6]


def slug_of(item: models.Model, language: str, *, fresh: bool = False) -> str | None:
    cache: dict[str, str | None] | None = getattr(item, "_slugs", None)
    if cache is not None and language in cache and not fresh:
        return cache[language]
    kind = ContentType.objects.get_for_model(item)
    slug = (
        Slug.objects.filter(content_type=kind, object_id=item.pk, language=language)
        .order_by("-created_at", "-pk")
        .values_list("slug", flat=True)
        .first()
    )
    if cache is None:
        cache = {}
        item._slugs = cache  # type: ignore[attr-defined]
    cache[language] = slug
    return slug


def prefetch_slugs(items: Iterable[Item]) -> list[Item]:
    """Fill every item's slugs (all languages) in one query; returns the items."""
    items = list(items)
    if not items:
        return items
    kind = ContentType.objects.get_for_model(items[0])
    rows = (
        Slug.objects.filter(content_type=kind, object_id__in=[item.pk for item in items])
        .order_by("object_id", "language", "created_at", "pk")
        .values_list("object_id", "language", "slug")
    )
    found: dict[int, dict[str, str | None]] = {
        item.pk: dict.fromkeys(_languages()) for item in items
    }
    for object_id, language, slug in rows:
        found[object_id][language] = slug  # the newest comes last
    for item in items:
        item._slugs = found[item.pk]  # type: ignore[attr-defined]
    return items


def resolve(model: type[Item], language: str, slug: str) -> tuple[Item | None, str | None]:
    """The item a slug names, and its current slug in `language`. The caller redirects
    when the two slugs differ (an old slug, or one of another language)."""
    kind = ContentType.objects.get_for_model(model)
    hits = Slug.objects.filter(content_type=kind, slug=slug)
    row = hits.filter(language=language).first() or hits.order_by("-created_at").first()
    if row is None:
        return None, None
    item = model._default_manager.filter(pk=row.object_id).first()
    if item is None:
        return None, None
    return item, slug_of(item, language) or slug
