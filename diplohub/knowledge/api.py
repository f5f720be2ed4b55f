"""Knowledge-hub endpoints of the API: the published catalogue as open data.

The initiatives list is also the feed another DiploHub imports
(`diplohub import_initiatives https://…/api/v1/initiatives`), so each item is
self-describing and stable: its id and permanent `uri` (the Atom entry id), its slug
and page in every language, its texts in every language, its vocabularies by slug
with their names, its `updated` time, and where it came from if it was imported.
Lists are in the order items were added (by id), so paging is stable while the
catalogue changes; `updated_since` fetches only what changed.

Markdown texts (`body`) are given as written: a client shows them through a
sanitiser, as the hub's own pages do.

No `from __future__ import annotations` here: ninja reads the parameter annotations
at import time (see directory/api.py).
"""

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Model, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from django_countries import countries
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from diplohub.accounts.api import ApiError
from diplohub.directory.api import (
    LANGUAGE_CODES,
    ContentParams,
    ErrorOut,
    ValidationErrorOut,
    _in_content_language,
    _invalid,
)
from diplohub.directory.models import Organization, Topic
from diplohub.events.models import Event
from diplohub.knowledge import slugs
from diplohub.knowledge.feeds import identifier
from diplohub.knowledge.models import (
    Development,
    DevelopmentKind,
    Initiative,
    InitiativeStatus,
    InitiativeType,
    PressItem,
    Publication,
    PublicationKind,
    ResponseType,
    SimilarInitiative,
    WorkingGroup,
    WorkingGroupMember,
)
from diplohub.lib.pagination import PageParams, Pages

router = Router(tags=["knowledge"])
router.add_decorator(_in_content_language, mode="view")

PUBLIC_ERRORS: dict[int, Any] = {404: ErrorOut, 422: ValidationErrorOut}

# The specific part of each kind's tag URI (feeds.identifier), e.g. "initiative/42".
KIND_OF: dict[type[Model], str] = {
    Initiative: "initiative",
    Development: "development",
    WorkingGroup: "working-group",
    Publication: "publication",
    PressItem: "press",
}


class CataloguePages(Pages):
    """The shared pagination, with one more step: the page's items (and the items they
    refer to) get their slugs in one query per kind, for their addresses."""

    def __init__(
        self,
        *,
        prepare: Callable[[list[Any]], None] | None = None,
        with_slugs: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.prepare = prepare
        self.with_slugs = with_slugs

    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet, pagination: PageParams, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        items = list(page["items"])
        if self.with_slugs:
            slugs.prefetch_slugs(items)
        if self.prepare is not None:
            self.prepare(items)
        page["items"] = items
        return page


def _prefetch_slugs_of(items: Iterable[Model]) -> None:
    """Slugs of a mixed list of items, one query per kind."""
    by_kind: dict[type[Model], dict[int, Model]] = {}
    for item in items:
        if not hasattr(item, "_slugs"):
            by_kind.setdefault(type(item), {})[item.pk] = item
    for found in by_kind.values():
        slugs.prefetch_slugs(found.values())


# --- Shared resolvers ------------------------------------------------------------------


def _absolute(context: Any, path: str) -> str:
    return str(context["request"].build_absolute_uri(path))


def _page(obj: Model, context: Any) -> str:
    return _absolute(context, obj.get_absolute_url())  # type: ignore[attr-defined]


def _pages(obj: Model, context: Any) -> dict[str, str]:
    found = {}
    for code in LANGUAGE_CODES:
        with translation.override(code):
            found[code] = _page(obj, context)
    return found


def _slugs(obj: Model) -> dict[str, str | None]:
    return {code: slugs.slug_of(obj, code) for code in LANGUAGE_CODES}


def _uri(obj: Model) -> str:
    return identifier(obj, KIND_OF[type(obj)])


def _names(obj: Model, field: str = "name") -> dict[str, str | None]:
    return {code: getattr(obj, f"{field}_{code}", None) or None for code in LANGUAGE_CODES}


class TextsOut(Schema):
    title: str | None
    summary: str | None
    body: str | None = Field(description="Markdown, as written.")


def _translations(obj: Model) -> dict[str, dict[str, str | None]]:
    return {
        code: {
            field: getattr(obj, f"{field}_{code}", None) or None
            for field in ("title", "summary", "body")
        }
        for code in LANGUAGE_CODES
    }


def _links(obj: Any) -> list[dict[str, str]]:
    # Links are JSON edited by staff: keep only well-formed entries.
    found = []
    for link in obj.links or []:
        if isinstance(link, dict) and isinstance(link.get("url"), str) and link["url"]:
            found.append({"kind": str(link.get("kind") or "web"), "url": link["url"]})
    return found


class VocabularyOut(Schema):
    slug: str
    name: str
    names: dict[str, str | None] = Field(description="The name in each content language.")

    resolve_names = staticmethod(_names)


class CatalogueOrganizationOut(Schema):
    slug: str
    name: str
    ror_id: str | None
    wikidata_id: str | None
    url: str = Field(description="The organisation's public page.")

    resolve_url = staticmethod(_page)


class LinkOut(Schema):
    kind: str = Field(description="web, x, linkedin, mastodon, youtube or other.")
    url: str


class ItemRefOut(Schema):
    id: int
    uri: str = Field(description="The item's permanent id (a tag URI).")
    title: str
    url: str = Field(description="The item's page.")

    resolve_uri = staticmethod(_uri)
    resolve_url = staticmethod(_page)


class CatalogueEventOut(Schema):
    slug: str
    title: str
    start: datetime.datetime
    url: str

    resolve_url = staticmethod(_page)


class CatalogueItemOut(Schema):
    """What every catalogue item (but press) says."""

    id: int
    uri: str = Field(
        description="The item's permanent id (a tag URI, the Atom entry id): the same "
        "in every language and whatever its title becomes."
    )
    url: str = Field(description="The item's page in the content language.")
    urls: dict[str, str] = Field(description="The item's page in each language.")
    slugs: dict[str, str | None] = Field(description="The item's slug in each language.")
    title: str
    summary: str
    body: str = Field(description="Markdown, as written: sanitise it before showing it.")
    translations: dict[str, TextsOut] = Field(
        description="Title, summary and body in each language (null: not translated)."
    )
    topics: list[VocabularyOut]
    published: datetime.datetime | None
    updated: datetime.datetime

    resolve_uri = staticmethod(_uri)
    resolve_url = staticmethod(_page)
    resolve_urls = staticmethod(_pages)
    resolve_slugs = staticmethod(_slugs)
    resolve_translations = staticmethod(_translations)

    @staticmethod
    def resolve_topics(obj: Any) -> list[Topic]:
        return list(obj.topics.all())

    @staticmethod
    def resolve_published(obj: Any) -> datetime.datetime | None:
        return obj.published_at

    @staticmethod
    def resolve_updated(obj: Any) -> datetime.datetime:
        return obj.updated_at


def _public(organizations: Iterable[Organization]) -> list[Organization]:
    return [organization for organization in organizations if organization.is_public]


# --- Initiatives -------------------------------------------------------------------------


class ReferenceOut(Schema):
    position: int
    outlet: str
    title: str
    date: datetime.date | None
    language: str
    url: str


class ImageOut(Schema):
    url: str
    alt: str

    @staticmethod
    def resolve_url(obj: Any, context: Any) -> str:
        return _absolute(context, obj.image.url)


class SourceOut(Schema):
    name: str = Field(description="Where it was imported from.")
    url: str = Field(description="The original's address.")
    id: str = Field(description="The original's id at its source.")


class InitiativeOut(CatalogueItemOut):
    government: str = Field(description="The local or regional government.")
    city: str
    country: str | None = Field(description="ISO 3166-1 alpha-2 code.")
    country_name: str | None
    type: VocabularyOut = Field(description="The type of initiative.")
    response_types: list[VocabularyOut] = Field(description="Other types of response.")
    languages: list[str] = Field(description="Languages of the initiative (ISO 639-1).")
    links: list[LinkOut] = Field(description="Web and social networks.")
    start_date: datetime.date | None
    status: InitiativeStatus | None
    contact_organization: CatalogueOrganizationOut | None
    related_organizations: list[CatalogueOrganizationOut]
    references: list[ReferenceOut] = Field(description="In order, like footnotes.")
    images: list[ImageOut]
    source: SourceOut | None = Field(
        description="For an initiative imported from elsewhere: its original."
    )

    @staticmethod
    def resolve_country(obj: Initiative) -> str | None:
        return obj.country.code or None

    @staticmethod
    def resolve_country_name(obj: Initiative) -> str | None:
        return str(obj.country.name) if obj.country else None

    @staticmethod
    def resolve_type(obj: Initiative) -> InitiativeType:
        return obj.initiative_type

    @staticmethod
    def resolve_response_types(obj: Initiative) -> list[ResponseType]:
        return list(obj.response_types.all())

    @staticmethod
    def resolve_languages(obj: Initiative) -> list[str]:
        return [str(code) for code in obj.languages or [] if isinstance(code, str)]

    resolve_links = staticmethod(_links)

    @staticmethod
    def resolve_status(obj: Initiative) -> str | None:
        return obj.status or None

    @staticmethod
    def resolve_contact_organization(obj: Initiative) -> Organization | None:
        organization = obj.contact_organization
        return organization if organization is not None and organization.is_public else None

    @staticmethod
    def resolve_related_organizations(obj: Initiative) -> list[Organization]:
        return _public(obj.related_organizations.all())

    @staticmethod
    def resolve_references(obj: Initiative) -> list[Any]:
        return list(obj.references.all())

    @staticmethod
    def resolve_images(obj: Initiative) -> list[Any]:
        return list(obj.images.all())

    @staticmethod
    def resolve_source(obj: Initiative) -> dict[str, str] | None:
        if not (obj.source_name or obj.source_url or obj.source_id):
            return None
        return {"name": obj.source_name, "url": obj.source_url, "id": obj.source_id}


class SimilarOut(Schema):
    id: int
    uri: str = Field(description="The similar initiative's permanent id.")
    title: str
    url: str = Field(description="Its page.")
    city: str
    country: str | None
    rank: int = Field(description="1 is the most similar.")
    score: float

    @staticmethod
    def resolve_id(obj: SimilarInitiative) -> int:
        return obj.similar_id

    @staticmethod
    def resolve_uri(obj: SimilarInitiative) -> str:
        return identifier(obj.similar)

    @staticmethod
    def resolve_title(obj: SimilarInitiative) -> str:
        return obj.similar.title

    @staticmethod
    def resolve_url(obj: SimilarInitiative, context: Any) -> str:
        return _page(obj.similar, context)

    @staticmethod
    def resolve_city(obj: SimilarInitiative) -> str:
        return obj.similar.city

    @staticmethod
    def resolve_country(obj: SimilarInitiative) -> str | None:
        return obj.similar.country.code or None


class InitiativeDetailOut(InitiativeOut):
    similar: list[SimilarOut] = Field(
        description="The most similar initiatives, as last computed in the background."
    )

    @staticmethod
    def resolve_similar(obj: Initiative) -> list[SimilarInitiative]:
        return list(obj.similar.all())


def _initiatives() -> QuerySet[Initiative]:
    return (
        Initiative.objects.published()
        .select_related("initiative_type", "contact_organization")
        .prefetch_related(
            "topics", "response_types", "related_organizations", "references", "images"
        )
    )


class InitiativeFilters(ContentParams):
    topic: str | None = Field(None, description="A topic slug (see /topics).")
    type: str | None = Field(None, description="A type of initiative (see /initiative-types).")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code, e.g. ES.")
    city: str | None = Field(None, max_length=120, description="The city, in any case.")
    language: str | None = Field(
        None, pattern=r"^[a-z]{2}$", description="A language of the initiative (ISO 639-1)."
    )
    year: int | None = Field(None, ge=1000, le=9999, description="The year it started.")
    updated_since: datetime.datetime | None = Field(
        None, description="Only those changed at or after this time (ISO 8601; UTC if naive)."
    )


def _vocabulary_filter(model: type[Any], slug: str, field: str) -> Any:
    found = model.objects.filter(slug=slug).first()
    if found is None:
        known = ", ".join(model.objects.values_list("slug", flat=True)) or "none"
        raise _invalid(field, f"Unknown {field} '{slug}'. Allowed values: {known}")
    return found


def _country_filter(code: str) -> str:
    if code.upper() not in dict(countries) or len(code) != 2:
        raise _invalid(
            "country", f"'{code}' is not a country: use an ISO 3166-1 alpha-2 code, such as 'ES'"
        )
    return code.upper()


@router.get(
    "/initiatives",
    response={200: list[InitiativeOut], **PUBLIC_ERRORS},
    summary="Published initiatives",
)
@paginate(CataloguePages)
def initiative_list(
    request: HttpRequest, filters: Query[InitiativeFilters]
) -> QuerySet[Initiative]:
    """Every published initiative with its texts in every language, in the order they
    were added. Another DiploHub imports this list, following `next`."""
    found = _initiatives()
    if filters.topic:
        found = found.filter(topics=_vocabulary_filter(Topic, filters.topic, "topic"))
    if filters.type:
        found = found.filter(
            initiative_type=_vocabulary_filter(InitiativeType, filters.type, "type")
        )
    if filters.country:
        found = found.filter(country=_country_filter(filters.country))
    if filters.city:
        found = found.filter(city__iexact=filters.city)
    if filters.language:
        # The JSON list's text holds "ca" with its quotes: a match on both databases.
        found = found.filter(languages__icontains=f'"{filters.language}"')
    if filters.year:
        found = found.filter(start_date__year=filters.year)
    if filters.updated_since:
        since = filters.updated_since
        if timezone.is_naive(since):
            since = timezone.make_aware(since, datetime.UTC)
        found = found.filter(updated_at__gte=since)
    return found.order_by("pk")


@router.get(
    "/initiatives/{initiative_id}",
    response={200: InitiativeDetailOut, **PUBLIC_ERRORS},
    summary="One published initiative, with its similar initiatives",
)
def initiative_detail(
    request: HttpRequest, initiative_id: int, content: Query[ContentParams]
) -> Initiative:
    similar = (
        SimilarInitiative.objects.filter(similar__in=_published(Initiative))
        .select_related("similar")
        .order_by("rank")
    )
    found = (
        _initiatives()
        .prefetch_related(Prefetch("similar", queryset=similar))
        .filter(pk=initiative_id)
        .first()
    )
    if found is None:
        raise ApiError(404, f"No published initiative has the id {initiative_id}.")
    slugs.prefetch_slugs([found])
    _prefetch_slugs_of(row.similar for row in found.similar.all())
    return found


@router.get(
    "/initiative-types",
    response={200: list[VocabularyOut], **PUBLIC_ERRORS},
    summary="Types of initiative",
)
@paginate(Pages)
def initiative_type_list(
    request: HttpRequest, content: Query[ContentParams]
) -> QuerySet[InitiativeType]:
    """The managed vocabulary of initiatives' `type`, in the order staff set."""
    return InitiativeType.objects.all()


@router.get(
    "/response-types",
    response={200: list[VocabularyOut], **PUBLIC_ERRORS},
    summary="Other types of response",
)
@paginate(Pages)
def response_type_list(
    request: HttpRequest, content: Query[ContentParams]
) -> QuerySet[ResponseType]:
    """The managed vocabulary of initiatives' `response_types`."""
    return ResponseType.objects.all()


# --- Scientific developments -----------------------------------------------------------


class DevelopmentOut(CatalogueItemOut):
    kind: DevelopmentKind
    kind_label: str
    lead_organization: CatalogueOrganizationOut | None
    partners: list[CatalogueOrganizationOut]
    funding_programme: str
    phase: str
    start_date: datetime.date | None
    links: list[LinkOut]
    initiatives: list[ItemRefOut] = Field(description="The initiatives it is part of.")

    @staticmethod
    def resolve_kind_label(obj: Development) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_lead_organization(obj: Development) -> Organization | None:
        lead = obj.lead_organization
        return lead if lead is not None and lead.is_public else None

    @staticmethod
    def resolve_partners(obj: Development) -> list[Organization]:
        return _public(obj.partners.all())

    resolve_links = staticmethod(_links)

    @staticmethod
    def resolve_initiatives(obj: Development) -> list[Initiative]:
        return list(obj.initiatives.all())


def _published(model: type[Any]) -> QuerySet[Any]:
    return model.objects.published()


def _prepare_developments(items: list[Development]) -> None:
    _prefetch_slugs_of(initiative for item in items for initiative in item.initiatives.all())


def _developments() -> QuerySet[Development]:
    return (
        Development.objects.published()
        .select_related("lead_organization")
        .prefetch_related(
            "topics", "partners", Prefetch("initiatives", queryset=_published(Initiative))
        )
    )


class DevelopmentFilters(ContentParams):
    kind: DevelopmentKind | None = None
    topic: str | None = Field(None, description="A topic slug (see /topics).")


@router.get(
    "/developments",
    response={200: list[DevelopmentOut], **PUBLIC_ERRORS},
    summary="Published scientific developments",
)
@paginate(CataloguePages, prepare=_prepare_developments)
def development_list(
    request: HttpRequest, filters: Query[DevelopmentFilters]
) -> QuerySet[Development]:
    """Projects, clinical trials, vaccines, treatments, diagnostics, datasets and
    facilities, with their lead and partner organisations."""
    found = _developments()
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.topic:
        found = found.filter(topics=_vocabulary_filter(Topic, filters.topic, "topic"))
    return found.order_by("pk")


@router.get(
    "/developments/{development_id}",
    response={200: DevelopmentOut, **PUBLIC_ERRORS},
    summary="One published scientific development",
)
def development_detail(
    request: HttpRequest, development_id: int, content: Query[ContentParams]
) -> Development:
    found = _developments().filter(pk=development_id).first()
    if found is None:
        raise ApiError(404, f"No published development has the id {development_id}.")
    _prepare_developments(slugs.prefetch_slugs([found]))
    return found


# --- Working groups ------------------------------------------------------------------------


class InstitutionOut(Schema):
    slug: str
    name: str


class MemberOut(Schema):
    name: str = Field(description="The member's public name.")
    institution: InstitutionOut | None
    role: str

    @staticmethod
    def resolve_name(obj: WorkingGroupMember) -> str:
        return obj.person.public_name

    @staticmethod
    def resolve_institution(obj: WorkingGroupMember) -> Organization | None:
        institution = obj.organization
        return institution if institution is not None and institution.is_public else None


class WorkingGroupOut(CatalogueItemOut):
    started: datetime.date | None = Field(description="When it was convened.")
    chair: str | None = Field(description="The chair's public name.")
    members: list[MemberOut] = Field(
        description="Public names and institutions; never contact details."
    )
    meetings: list[CatalogueEventOut] = Field(description="Its public meetings.")
    publications: list[ItemRefOut]

    @staticmethod
    def resolve_chair(obj: WorkingGroup) -> str | None:
        return obj.chair.public_name if obj.chair is not None else None

    @staticmethod
    def resolve_members(obj: WorkingGroup) -> list[WorkingGroupMember]:
        return list(obj.memberships.all())

    @staticmethod
    def resolve_meetings(obj: WorkingGroup) -> list[Event]:
        return list(obj.meetings.all())

    @staticmethod
    def resolve_publications(obj: WorkingGroup) -> list[Publication]:
        return list(obj.publications.all())


def _prepare_working_groups(items: list[WorkingGroup]) -> None:
    _prefetch_slugs_of(publication for item in items for publication in item.publications.all())


def _working_groups() -> QuerySet[WorkingGroup]:
    members = WorkingGroupMember.objects.select_related("person", "organization")
    return (
        WorkingGroup.objects.published()
        .select_related("chair")
        .prefetch_related(
            "topics",
            Prefetch("memberships", queryset=members),
            Prefetch("meetings", queryset=Event.objects.public().order_by("start", "pk")),
            Prefetch("publications", queryset=_published(Publication).order_by("-date", "-pk")),
        )
    )


@router.get(
    "/working-groups",
    response={200: list[WorkingGroupOut], **PUBLIC_ERRORS},
    summary="Published expert working groups",
)
@paginate(CataloguePages, prepare=_prepare_working_groups)
def working_group_list(
    request: HttpRequest, content: Query[ContentParams]
) -> QuerySet[WorkingGroup]:
    """Working groups with their mandate (`body`), chair, members and publications."""
    return _working_groups().order_by("pk")


@router.get(
    "/working-groups/{working_group_id}",
    response={200: WorkingGroupOut, **PUBLIC_ERRORS},
    summary="One published working group",
)
def working_group_detail(
    request: HttpRequest, working_group_id: int, content: Query[ContentParams]
) -> WorkingGroup:
    found = _working_groups().filter(pk=working_group_id).first()
    if found is None:
        raise ApiError(404, f"No published working group has the id {working_group_id}.")
    _prepare_working_groups(slugs.prefetch_slugs([found]))
    return found


# --- Publications ----------------------------------------------------------------------------


class PublicationOut(CatalogueItemOut):
    kind: PublicationKind
    kind_label: str
    working_group: ItemRefOut | None
    authors: str = Field(description="As printed.")
    date: datetime.date
    language: str
    link: str | None = Field(description="Where to read it.")
    file: str | None = Field(description="The PDF, if the hub keeps one.")

    @staticmethod
    def resolve_kind_label(obj: Publication) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_working_group(obj: Publication) -> WorkingGroup | None:
        group = obj.working_group
        return group if group is not None and group.state == "published" else None

    @staticmethod
    def resolve_authors(obj: Publication) -> str:
        if obj.authors_text:
            return obj.authors_text
        return ", ".join(person.public_name for person in obj.authors.all())

    @staticmethod
    def resolve_link(obj: Publication) -> str | None:
        return obj.url or None

    @staticmethod
    def resolve_file(obj: Publication, context: Any) -> str | None:
        return _absolute(context, obj.file.url) if obj.file else None


def _prepare_publications(items: list[Publication]) -> None:
    _prefetch_slugs_of(item.working_group for item in items if item.working_group is not None)


def _publications() -> QuerySet[Publication]:
    return (
        Publication.objects.published()
        .select_related("working_group")
        .prefetch_related("topics", "authors")
    )


class PublicationFilters(ContentParams):
    kind: PublicationKind | None = None
    working_group: int | None = Field(None, description="A working group's id.")
    language: str | None = Field(None, pattern=r"^[a-z]{2}$", description="ISO 639-1 code.")
    year: int | None = Field(None, ge=1000, le=9999)


@router.get(
    "/publications",
    response={200: list[PublicationOut], **PUBLIC_ERRORS},
    summary="Published briefs, reports, op-eds and articles",
)
@paginate(CataloguePages, prepare=_prepare_publications)
def publication_list(
    request: HttpRequest, filters: Query[PublicationFilters]
) -> QuerySet[Publication]:
    found = _publications()
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.working_group is not None:
        found = found.filter(working_group_id=filters.working_group)
    if filters.language:
        found = found.filter(language=filters.language)
    if filters.year:
        found = found.filter(date__year=filters.year)
    return found.order_by("pk")


@router.get(
    "/publications/{publication_id}",
    response={200: PublicationOut, **PUBLIC_ERRORS},
    summary="One publication",
)
def publication_detail(
    request: HttpRequest, publication_id: int, content: Query[ContentParams]
) -> Publication:
    found = _publications().filter(pk=publication_id).first()
    if found is None:
        raise ApiError(404, f"No published publication has the id {publication_id}.")
    _prepare_publications(slugs.prefetch_slugs([found]))
    return found


# --- Press ------------------------------------------------------------------------------------


class PressItemOut(Schema):
    id: int
    uri: str = Field(description="The item's permanent id (a tag URI).")
    title: str = Field(description="The article's own title.")
    outlet: str
    date: datetime.date
    language: str
    url: str = Field(description="The article, where it was published.")
    summary: str = Field(description="The hub's one-line note, in the content language.")
    summaries: dict[str, str | None] = Field(description="The note in each language.")
    initiatives: list[ItemRefOut]
    developments: list[ItemRefOut]
    working_groups: list[ItemRefOut]
    events: list[CatalogueEventOut]

    resolve_uri = staticmethod(_uri)

    @staticmethod
    def resolve_summaries(obj: PressItem) -> dict[str, str | None]:
        return _names(obj, "summary")

    @staticmethod
    def resolve_initiatives(obj: PressItem) -> list[Initiative]:
        return list(obj.initiatives.all())

    @staticmethod
    def resolve_developments(obj: PressItem) -> list[Development]:
        return list(obj.developments.all())

    @staticmethod
    def resolve_working_groups(obj: PressItem) -> list[WorkingGroup]:
        return list(obj.working_groups.all())

    @staticmethod
    def resolve_events(obj: PressItem) -> list[Event]:
        return list(obj.events.all())


def _prepare_press(items: list[PressItem]) -> None:
    _prefetch_slugs_of(
        covered
        for item in items
        for covered in (
            *item.initiatives.all(),
            *item.developments.all(),
            *item.working_groups.all(),
        )
    )


class PressFilters(ContentParams):
    language: str | None = Field(None, pattern=r"^[a-z]{2}$", description="ISO 639-1 code.")
    year: int | None = Field(None, ge=1000, le=9999)


@router.get(
    "/press",
    response={200: list[PressItemOut], **PUBLIC_ERRORS},
    summary="Press coverage",
)
@paginate(CataloguePages, prepare=_prepare_press, with_slugs=False)
def press_list(request: HttpRequest, filters: Query[PressFilters]) -> QuerySet[PressItem]:
    """Articles about the hub's initiatives, developments, working groups and events,
    the latest first."""
    found = (
        PressItem.objects.published()
        .prefetch_related(
            Prefetch("initiatives", queryset=_published(Initiative)),
            Prefetch("developments", queryset=_published(Development)),
            Prefetch("working_groups", queryset=_published(WorkingGroup)),
            Prefetch("events", queryset=Event.objects.public()),
        )
        .order_by("-date", "-pk")
    )
    if filters.language:
        found = found.filter(language=filters.language)
    if filters.year:
        found = found.filter(date__year=filters.year)
    return found
