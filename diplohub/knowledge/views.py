from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from diplohub.knowledge import slugs
from diplohub.knowledge.models import Development, Initiative, Publication, WorkingGroup


def _published_or_staff(request: HttpRequest, item: object) -> bool:
    user = request.user
    return getattr(item, "state", "") == "published" or bool(
        user.is_authenticated and user.is_hub_staff
    )


def _detail(request: HttpRequest, model: type, slug: str, template: str) -> HttpResponse:
    """An item's page at its current slug; an old slug, or one of another language,
    redirects there for good (301)."""
    item, current = slugs.resolve(model, get_language(), slug)
    if item is None or not _published_or_staff(request, item):
        raise Http404
    if current != slug:
        url = reverse(f"knowledge:{model.url_name}", kwargs={"slug": current})
        return HttpResponsePermanentRedirect(url)
    return render(request, template, {"item": item})


@require_GET
def initiative(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, Initiative, slug, "knowledge/initiative.html")


@require_GET
def development(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, Development, slug, "knowledge/development.html")


@require_GET
def working_group(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, WorkingGroup, slug, "knowledge/working_group.html")


@require_GET
def publication(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, Publication, slug, "knowledge/publication.html")
