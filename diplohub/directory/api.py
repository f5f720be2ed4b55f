"""Directory endpoints of the API (public open data; people and posts for staff)."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from diplohub.directory.models import Organization

router = Router(tags=["directory"])


class OrganizationOut(Schema):
    slug: str
    name: str
    kind: str
    country: str | None
    city: str
    website: str

    @staticmethod
    def resolve_country(obj: Organization) -> str | None:
        return obj.country.code or None


@router.get("/organizations", response=list[OrganizationOut])
@paginate(PageNumberPagination)
def organization_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return Organization.objects.public()


@router.get("/organizations/{slug}", response=OrganizationOut, url_name="organization_detail")
def organization_detail(request: HttpRequest, slug: str):  # type: ignore[no-untyped-def]
    return get_object_or_404(Organization.objects.public(), slug=slug)
