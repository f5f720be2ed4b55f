"""The one way API lists page: ?page= and ?page_size=, answered with count/next/previous.

Use it on every list endpoint, so that clients page all of them alike:

    @router.get("/things", response=list[ThingOut])
    @paginate(Pages)
    def thing_list(request): ...

An empty result is a 200 with no items; a page past the last one is a 404 whose
detail says how many pages there are.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.pagination import PaginationBase

MAX_PAGE_SIZE = max(200, settings.API_PAGE_SIZE)


class PageParams(Schema):
    page: int = Field(1, ge=1, description="Page number, from 1.")
    page_size: int = Field(
        settings.API_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Items per page, at most {MAX_PAGE_SIZE}.",
    )


class Pages(PaginationBase):
    # Ninja only reads the fields of Input; a class of our own gives the schema its name.
    Input = PageParams  # type: ignore[assignment]

    class Output(Schema):
        count: int = Field(description="Number of items on all pages.")
        page: int
        pages: int = Field(description="Number of pages (at least 1).")
        next: str | None = Field(description="URL of the next page, or null on the last.")
        previous: str | None = Field(description="URL of the previous page, or null.")
        items: list[Any]

    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet, pagination: PageParams, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        count = self._items_count(queryset)
        size = pagination.page_size
        pages = max(1, math.ceil(count / size))
        page = pagination.page
        if page > pages:
            items = "1 item" if count == 1 else f"{count} items"
            raise HttpError(
                404,
                f"Page {page} does not exist: the last page is {pages} ({items}, {size} per page).",
            )
        offset = (page - 1) * size
        return {
            "count": count,
            "page": page,
            "pages": pages,
            "next": page_url(request, page + 1) if page < pages else None,
            "previous": page_url(request, page - 1) if page > 1 else None,
            "items": queryset[offset : offset + size],
        }


def page_url(request: HttpRequest, page: int) -> str:
    """The URL of the request with another page number, every other parameter kept."""
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
