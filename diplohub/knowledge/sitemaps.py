"""The knowledge hub's sections of the sitemap: published initiatives, developments,
working groups and publications, at their current slug in each language. (Press items
are read where they were published: they have no page here.)"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from diplohub.knowledge import slugs
from diplohub.knowledge.models import Development, Initiative, Publication, WorkingGroup
from diplohub.web.sitemaps import HubSitemap


class CatalogueSitemap(HubSitemap):
    model: Any = None

    def queryset(self) -> QuerySet[Any]:
        return self.model.objects.published().order_by("pk").only("pk", "updated_at")

    def prepare(self, items: list[Any]) -> None:
        slugs.prefetch_slugs(items)


class InitiativeSitemap(CatalogueSitemap):
    model = Initiative


class DevelopmentSitemap(CatalogueSitemap):
    model = Development


class WorkingGroupSitemap(CatalogueSitemap):
    model = WorkingGroup


class PublicationSitemap(CatalogueSitemap):
    model = Publication


SECTIONS = {
    "initiatives": InitiativeSitemap,
    "developments": DevelopmentSitemap,
    "working-groups": WorkingGroupSitemap,
    "publications": PublicationSitemap,
}
