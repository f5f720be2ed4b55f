"""URLs outside the language prefixes: health check, robots.txt and the sitemap."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path
from django.views.decorators.http import require_safe

from diplohub.lib.pagecache import cached_for_visitors
from diplohub.web import views
from diplohub.web.sitemaps import rendered, sitemaps

SITEMAPS = sitemaps()

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
    # An index of one sitemap per section (each paged at 50,000 addresses).
    path(
        "sitemap.xml",
        cached_for_visitors(rendered(require_safe(sitemap_views.index))),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<slug:section>.xml",
        cached_for_visitors(rendered(require_safe(sitemap_views.sitemap))),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
]
