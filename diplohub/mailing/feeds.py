"""The Atom feed of the newsletter archive (Django's syndication framework), in the
language of its address; like the archive, it holds no recipient's links."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from diplohub.lib.markdown import render_markdown
from diplohub.mailing.models import Campaign

MAX_ITEMS = 50


def archive_text(campaign: Campaign) -> tuple[str, str]:
    """Subject and Markdown of a newsletter for a reader of the current language."""
    return campaign.text_in(campaign.language_for(get_language() or settings.LANGUAGE_CODE))


class NewslettersFeed(Feed):
    feed_type = Atom1Feed

    def title(self) -> str:
        return _("%(hub)s: newsletters") % {"hub": settings.HUB_NAME}

    def subtitle(self) -> str:
        return _("Past newsletters of %(hub)s.") % {"hub": settings.HUB_NAME}

    def link(self) -> str:
        return reverse("mailing:newsletters")

    def feed_url(self) -> str:
        return reverse("mailing:newsletters-feed")

    def author_name(self) -> str:
        return settings.HUB_NAME

    def items(self) -> QuerySet[Campaign]:
        return Campaign.objects.archived().order_by("-started_at", "-pk")[:MAX_ITEMS]

    def item_title(self, item: Campaign) -> str:
        return archive_text(item)[0]

    def item_description(self, item: Campaign) -> str:
        return str(render_markdown(archive_text(item)[1]))

    def item_link(self, item: Campaign) -> str:
        return item.get_absolute_url()

    def item_guid(self, item: Campaign) -> str:
        # A tag URI (RFC 4151): stable whatever the campaign's address becomes.
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        return f"tag:{host},{item.created_at:%Y-%m-%d}:newsletter/{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Campaign) -> datetime.datetime | None:
        return item.started_at

    def item_updateddate(self, item: Campaign) -> datetime.datetime:
        return item.updated_at
