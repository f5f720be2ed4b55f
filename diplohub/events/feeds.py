"""The Atom feed of upcoming public events (Django's syndication framework)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from diplohub.events.models import Event, EventQuerySet
from diplohub.events.templatetags.programme import long_date

MAX_ITEMS = 100


class UpcomingEventsFeed(Feed):
    feed_type = Atom1Feed

    def title(self) -> str:
        return _("%(circle)s: upcoming events") % {"circle": settings.HUB_CIRCLE_NAME}

    def subtitle(self) -> str:
        return _("The public programme of %(hub)s.") % {"hub": settings.HUB_NAME}

    def link(self) -> str:
        return reverse("events:programme")

    def feed_url(self) -> str:
        return reverse("events:feed")

    def author_name(self) -> str:
        return settings.HUB_NAME

    def items(self) -> EventQuerySet:
        return (
            Event.objects.public()
            .upcoming()
            .select_related("series", "host")
            .prefetch_related("co_organisers")[:MAX_ITEMS]
        )

    def item_title(self, item: Event) -> str:
        if item.is_cancelled:
            return _("Cancelled: %(title)s") % {"title": item.title}
        return item.title

    def item_description(self, item: Event) -> str:
        when = long_date(item.start)
        where = ", ".join(part for part in (item.venue, item.address) if part)
        lines = [item.summary, f"{when} ({settings.TIME_ZONE})", where]
        # The summary is HTML (type="html"): one escaped line each.
        return "<br>".join(escape(line) for line in lines if line)

    def item_link(self, item: Event) -> str:
        return item.get_absolute_url()

    def item_guid(self, item: Event) -> str:
        return f"urn:uuid:{item.uid}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Event) -> datetime.datetime:
        return item.created_at

    def item_updateddate(self, item: Event) -> datetime.datetime:
        return item.updated_at

    def item_categories(self, item: Event) -> list[str]:
        return [str(item.get_kind_display())]

    def item_author_name(self, item: Event) -> str:
        return item.host.name if item.host else settings.HUB_NAME
