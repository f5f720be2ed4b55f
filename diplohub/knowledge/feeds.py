"""Atom feeds of the published initiatives: all of them, and one per topic, in the
language of the address (Django's syndication framework).

Each entry keeps one id whatever its title, slug or language becomes (a tag URI,
`identifier()`, the same the API calls `uri`); it carries its topics, type and other
types of response as categories whose scheme is the API list of that vocabulary, the
government as its author, and, for an item imported from another hub, a
`rel="via"` link to the original.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from diplohub.directory.models import Topic
from diplohub.knowledge import slugs
from diplohub.knowledge.models import Initiative
from diplohub.lib.markdown import render_markdown

MAX_ITEMS = 100


def identifier(item: Any, kind: str = "initiative") -> str:
    """The item's permanent id: a tag URI (RFC 4151) on the hub's host, dated by the
    day the item was created, so it never changes with a title, slug or language."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"tag:{host},{item.created_at:%Y-%m-%d}:{kind}/{item.pk}"


def _canonical(path: str) -> str:
    # Identifiers (feed ids, category schemes) are on SITE_URL, whatever host the
    # request came through, so that they stay the same for every reader.
    return settings.SITE_URL + path


class CatalogueAtomFeed(Atom1Feed):
    """Atom with what Django's generator leaves out: categories with a scheme and a
    label, the text as <content>, and a link to the original of an imported item."""

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        for term, scheme, label in item.get("vocabulary", ()):
            handler.addQuickElement(
                "category", "", {"term": term, "scheme": scheme, "label": label}
            )
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})
        if item.get("via"):
            attributes = {"rel": "via", "href": item["via"]}
            if item.get("via_title"):
                attributes["title"] = item["via_title"]
            handler.addQuickElement("link", "", attributes)


class InitiativesFeed(Feed):
    feed_type = CatalogueAtomFeed

    def title(self) -> str:
        return _("%(hub)s: initiatives") % {"hub": settings.HUB_NAME}

    def subtitle(self) -> str:
        return _("Initiatives of cities and regions in science and technology diplomacy.")

    def link(self) -> str:
        return reverse("knowledge:initiatives")

    def feed_url(self) -> str:
        return reverse("knowledge:feed")

    def feed_guid(self) -> str:
        return _canonical(self.feed_url())

    def author_name(self) -> str:
        return settings.HUB_NAME

    def initiatives(self, obj: Any) -> Any:
        return Initiative.objects.published()

    def items(self, obj: Any = None) -> list[Initiative]:
        found = (
            self.initiatives(obj)
            .select_related("initiative_type")
            .prefetch_related("topics", "response_types")
            .order_by("-published_at", "-pk")[:MAX_ITEMS]
        )
        return slugs.prefetch_slugs(found)

    def item_title(self, item: Initiative) -> str:
        return item.title

    def item_description(self, item: Initiative) -> str | None:  # type: ignore[override]
        # type="html": the plain summary, escaped; the Markdown text goes to <content>.
        return escape(item.summary) if item.summary else None

    def item_link(self, item: Initiative) -> str:
        return item.get_absolute_url()

    def item_guid(self, item: Initiative) -> str:
        return identifier(item)

    item_guid_is_permalink = False

    def item_pubdate(self, item: Initiative) -> datetime.datetime:
        return item.published_at or item.created_at

    def item_updateddate(self, item: Initiative) -> datetime.datetime:
        return item.updated_at

    def item_author_name(self, item: Initiative) -> str:
        return item.government or settings.HUB_NAME

    def item_categories(self, item: Initiative) -> list[str]:
        return []  # written with scheme and label by CatalogueAtomFeed

    def item_extra_kwargs(self, item: Initiative) -> dict[str, Any]:
        def scheme(name: str) -> str:
            return _canonical(reverse(f"api:{name}"))

        vocabulary = [
            (item.initiative_type.slug, scheme("initiative_type_list"), item.initiative_type.name)
        ]
        vocabulary += [
            (kind.slug, scheme("response_type_list"), kind.name)
            for kind in item.response_types.all()
        ]
        vocabulary += [
            (topic.slug, scheme("topic_list"), topic.name) for topic in item.topics.all()
        ]
        return {
            "vocabulary": vocabulary,
            "content": str(render_markdown(item.body)) if item.body else None,
            "via": item.source_url or None,
            "via_title": item.source_name or None,
        }


class TopicInitiativesFeed(InitiativesFeed):
    def get_object(self, request: HttpRequest, topic: str) -> Topic:  # type: ignore[override]
        return get_object_or_404(Topic, slug=topic)

    def title(self, obj: Topic) -> str:  # type: ignore[override]
        return _("%(hub)s: initiatives on %(topic)s") % {
            "hub": settings.HUB_NAME,
            "topic": obj.name,
        }

    def link(self, obj: Topic) -> str:  # type: ignore[override]
        return reverse("knowledge:initiatives") + "?" + urlencode({"topic": obj.slug})

    def feed_url(self, obj: Topic) -> str:  # type: ignore[override]
        return reverse("knowledge:topic-feed", kwargs={"topic": obj.slug})

    def feed_guid(self, obj: Topic) -> str:  # type: ignore[override]
        return _canonical(self.feed_url(obj))

    def initiatives(self, obj: Topic) -> Any:
        return Initiative.objects.published().filter(topics=obj)
