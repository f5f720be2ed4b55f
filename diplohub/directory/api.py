"""Directory endpoints of the API: open data for everyone; people and posts for staff.

Every list pages the same way (diplohub.lib.pagination.Pages), and every endpoint
answers in the content language chosen by `?lang=`, else by the Accept-Language header.

No `from __future__ import annotations` here: ninja reads the parameter annotations
(Query[...] schemas) at import time and cannot resolve them as strings.
"""

import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, Literal

from django import forms
from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError
from ninja.pagination import paginate

from diplohub.accounts.api import ApiError, staff_token_auth
from diplohub.directory.forms import DirectoryFilterForm
from diplohub.directory.models import (
    ConsularClass,
    Kind,
    Membership,
    Organization,
    Person,
    Post,
    PostRole,
    Sector,
    Topic,
)
from diplohub.directory.regions import Region
from diplohub.lib.pagination import Pages

router = Router(tags=["directory"])

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
if TYPE_CHECKING:
    ContentLanguage = str
else:
    # Literal of the configured languages, so the schema lists them and a wrong one is a 422.
    ContentLanguage = Literal[LANGUAGE_CODES]

LANG_DESCRIPTION = (
    "Language of translated content (names, descriptions, labels). "
    "Without it, the request's Accept-Language header decides."
)


class ContentParams(Schema):
    """The query parameter every endpoint takes."""

    lang: ContentLanguage | None = Field(None, description=LANG_DESCRIPTION)


# --- Errors -------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut]


PUBLIC_ERRORS: dict[int, Any] = {404: ErrorOut, 422: ValidationErrorOut}
STAFF_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, **PUBLIC_ERRORS}


def _invalid(field: str, message: str) -> ValidationError:
    """A 422 naming a query parameter, shaped like ninja's own validation errors."""
    return ValidationError([{"loc": ("query", field), "msg": message, "type": "invalid"}])


# --- Content language ---------------------------------------------------------------


def _in_content_language(run):  # type: ignore[no-untyped-def]
    """Run the whole operation, serialisation included, in the requested language.

    Translated fields (django-modeltranslation) and country names read the active
    language when they are serialised, after the view function has returned; so the
    language is set around the operation, not inside it. An unknown ?lang= is left to
    the operation, which answers 422.
    """

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lang = request.GET.get("lang") or translation.get_language() or settings.LANGUAGE_CODE
        if lang not in LANGUAGE_CODES:
            return run(request, *args, **kwargs)
        with translation.override(lang):
            response = run(request, *args, **kwargs)
        response["Content-Language"] = lang
        patch_vary_headers(response, ["Accept-Language"])
        return response

    return wrapper


router.add_decorator(_in_content_language, mode="view")


# --- Public schemas -----------------------------------------------------------------


def _country_code(obj: Organization) -> str | None:
    return obj.country.code or None


def _country_name(obj: Organization) -> str | None:
    return str(obj.country.name) if obj.country else None


def _consular_class(obj: Organization) -> str | None:
    return obj.consular_class or None


def _public_page(obj: Organization, context: dict[str, Any]) -> str:
    return str(context["request"].build_absolute_uri(obj.get_absolute_url()))


class TopicOut(Schema):
    slug: str
    name: str


class TopicListItemOut(TopicOut):
    organization_count: int = Field(description="Public organisations with this topic.")


class OrganizationOut(Schema):
    slug: str
    name: str
    acronym: str
    kind: Kind
    kind_label: str
    sector: Sector
    country: str | None = Field(description="ISO 3166-1 alpha-2 code.")
    country_name: str | None
    region: Region | None
    city: str
    website: str
    topics: list[TopicOut]
    url: str = Field(description="The organisation's public page.")

    @staticmethod
    def resolve_kind_label(obj: Organization) -> str:
        return str(obj.get_kind_display())

    resolve_country = staticmethod(_country_code)
    resolve_country_name = staticmethod(_country_name)

    @staticmethod
    def resolve_topics(obj: Organization) -> list[Topic]:
        return list(obj.topics.all())

    resolve_url = staticmethod(_public_page)


class PublicPostOut(Schema):
    label: str
    role: PostRole
    holders: list[str] = Field(description="Public names of the current holders.")

    @staticmethod
    def resolve_holders(obj: Post) -> list[str]:
        return [tenure.person.public_name for tenure in obj.current_memberships]  # type: ignore[attr-defined]


class OrganizationDetailOut(OrganizationOut):
    names: dict[str, str | None] = Field(description="The name in each content language.")
    description: str
    address: str
    latitude: float | None
    longitude: float | None
    ror_id: str | None
    wikidata_id: str | None
    parent: str | None = Field(description="Slug of the parent organisation, if public.")
    consular_class: ConsularClass | None
    exequatur_date: datetime.date | None
    jurisdiction: str
    posts: list[PublicPostOut]

    @staticmethod
    def resolve_names(obj: Organization) -> dict[str, str | None]:
        return {code: getattr(obj, f"name_{code}") or None for code in LANGUAGE_CODES}

    @staticmethod
    def resolve_description(obj: Organization) -> str:
        return obj.description or ""

    @staticmethod
    def resolve_parent(obj: Organization) -> str | None:
        parent = obj.parent
        return parent.slug if parent is not None and parent.is_public else None

    resolve_consular_class = staticmethod(_consular_class)

    @staticmethod
    def resolve_posts(obj: Organization) -> list[Post]:
        return list(obj.posts.all())


class DiplomaticListItemOut(Schema):
    rank: int = Field(description="Place in the order of precedence, from 1.")
    slug: str
    name: str
    kind: Kind
    honorary: bool
    consular_class: ConsularClass | None
    exequatur_date: datetime.date | None
    jurisdiction: str
    country: str | None
    country_name: str | None
    head_of_post: str | None = Field(description="Public name of the head of post.")
    url: str

    @staticmethod
    def resolve_honorary(obj: Organization) -> bool:
        return obj.kind == Kind.HONORARY_CONSULATE

    resolve_consular_class = staticmethod(_consular_class)
    resolve_country = staticmethod(_country_code)
    resolve_country_name = staticmethod(_country_name)
    resolve_url = staticmethod(_public_page)

    @staticmethod
    def resolve_head_of_post(obj: Organization) -> str | None:
        # As on the diplomatic-list page: the holder of the organisation's first post.
        for post in obj.posts.all():
            for tenure in post.current_memberships:  # type: ignore[attr-defined]
                return str(tenure.person.public_name)
            return None
        return None


# --- Public endpoints ---------------------------------------------------------------


class OrganizationFilters(ContentParams):
    """The filters of the diplomatic-community and ecosystem pages."""

    q: str | None = Field(None, description="Part of the name (in any language) or acronym.")
    side: Literal["diplomatic", "ecosystem"] | None = Field(
        None, description="The diplomatic community or the innovation ecosystem."
    )
    kind: Kind | None = None
    region: Region | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code, e.g. JP.")
    topic: str | None = Field(None, description="A topic slug (see /topics).")


def _posts_with_current_holders() -> Prefetch[str, Any, str]:
    current = Membership.objects.current().select_related("person")
    holders = Prefetch("memberships", queryset=current, to_attr="current_memberships")
    return Prefetch("posts", queryset=Post.objects.all().prefetch_related(holders))


def _filtered_organizations(filters: OrganizationFilters) -> QuerySet[Organization]:
    """Public organisations filtered by DirectoryFilterForm, the pages' own rules.

    Where a page shows an empty list for a bad filter value, the API answers 422
    naming the parameter and what it accepts.
    """
    organizations = Organization.objects.public()
    if filters.side == "diplomatic":
        organizations = organizations.diplomatic()
    elif filters.side == "ecosystem":
        organizations = organizations.ecosystem()
    data = filters.model_dump(exclude={"side", "lang"}, exclude_none=True, mode="json")
    form = DirectoryFilterForm(data, side=filters.side)
    if not form.is_valid():
        problems = []
        for name, messages in form.errors.items():
            message = " ".join(str(m) for m in messages)
            field = form.fields[name]
            if name == "country":
                message += " Use an ISO 3166-1 alpha-2 code, such as 'ES'"
            elif isinstance(field, forms.ChoiceField):
                allowed = [str(value) for value, _label in field.choices if value]  # type: ignore[misc]
                message += f" Allowed values: {', '.join(allowed) or 'none'}"
            problems.append({"loc": ("query", name), "msg": message, "type": "invalid"})
        raise ValidationError(problems)
    return form.filter(organizations)


@router.get(
    "/organizations",
    response={200: list[OrganizationOut], **PUBLIC_ERRORS},
    summary="Public organisations",
)
@paginate(Pages)
def organization_list(
    request: HttpRequest,
    filters: Query[OrganizationFilters],
) -> QuerySet[Organization]:
    """The diplomatic community and the ecosystem, in alphabetical order."""
    return _filtered_organizations(filters).prefetch_related("topics")


@router.get(
    "/organizations/{slug}",
    response={200: OrganizationDetailOut, **PUBLIC_ERRORS},
    url_name="organization_detail",
    summary="One public organisation",
)
def organization_detail(
    request: HttpRequest,
    slug: str,
    content: Query[ContentParams],
) -> Organization:
    found = (
        Organization.objects.public()
        .select_related("parent")
        .prefetch_related("topics", _posts_with_current_holders())
        .filter(slug=slug)
        .first()
    )
    if found is None:
        raise ApiError(404, f"No public organisation has the slug '{slug}'.")
    return found


@router.get("/topics", response={200: list[TopicListItemOut], **PUBLIC_ERRORS}, summary="Topics")
@paginate(Pages)
def topic_list(
    request: HttpRequest,
    content: Query[ContentParams],
) -> QuerySet[Topic]:
    return Topic.objects.annotate(
        organization_count=Count("organizations", filter=Q(organizations__is_public=True))
    )


@router.get(
    "/diplomatic-list",
    response={200: list[DiplomaticListItemOut], **PUBLIC_ERRORS},
    summary="The consular corps in order of precedence",
)
@paginate(Pages)
def diplomatic_list(
    request: HttpRequest,
    content: Query[ContentParams],
) -> QuerySet[Organization]:
    """Career posts before honorary ones, then by class, then by date of exequatur."""
    consular = Organization.objects.public().consular().in_precedence_order()
    # The rank is numbered over the whole corps in the same order, so it survives paging.
    ranked = consular.annotate(rank=Window(RowNumber(), order_by=list(consular.query.order_by)))
    return ranked.prefetch_related(_posts_with_current_holders())


# --- Staff schemas ------------------------------------------------------------------


class OrganizationRefOut(Schema):
    slug: str
    name: str


class CurrentPostOut(Schema):
    post_id: int
    label: str
    role: PostRole
    organization: OrganizationRefOut
    start_date: datetime.date | None
    end_date: datetime.date | None

    @staticmethod
    def resolve_label(obj: Membership) -> str:
        return obj.post.label

    @staticmethod
    def resolve_role(obj: Membership) -> str:
        return obj.post.role

    @staticmethod
    def resolve_organization(obj: Membership) -> Organization:
        return obj.post.organization


class TenureOut(CurrentPostOut):
    current: bool

    @staticmethod
    def resolve_current(obj: Membership) -> bool:
        return bool(obj.is_current)  # type: ignore[attr-defined]


class PersonOut(Schema):
    id: int
    name: str
    public_name: str
    honorific_prefix: str
    given_name: str
    family_name: str
    form_of_address: str
    email: str
    phone: str
    languages: list[str]
    current_posts: list[CurrentPostOut]

    @staticmethod
    def resolve_current_posts(obj: Person) -> list[Membership]:
        return list(obj.current_memberships)  # type: ignore[attr-defined]


class PersonDetailOut(PersonOut):
    posts: list[TenureOut] = Field(description="Every tenure, the latest first.")

    @staticmethod
    def resolve_posts(obj: Person) -> list[Membership]:
        current = {tenure.pk for tenure in obj.current_memberships}  # type: ignore[attr-defined]
        tenures = list(obj.memberships.all())
        for tenure in tenures:
            tenure.is_current = tenure.pk in current  # type: ignore[attr-defined]
        return tenures


class HolderOut(Schema):
    person_id: int
    name: str
    start_date: datetime.date | None
    end_date: datetime.date | None
    current: bool


class PostOut(Schema):
    id: int
    label: str
    role: PostRole
    organization: OrganizationRefOut
    current_holders: list[HolderOut]
    history: list[HolderOut] = Field(description="Every tenure, the latest first.")

    @staticmethod
    def resolve_current_holders(obj: Post) -> list[dict[str, Any]]:
        return [_holder(tenure, current=True) for tenure in obj.current_memberships]  # type: ignore[attr-defined]

    @staticmethod
    def resolve_history(obj: Post) -> list[dict[str, Any]]:
        current = {tenure.pk for tenure in obj.current_memberships}  # type: ignore[attr-defined]
        return [_holder(tenure, current=tenure.pk in current) for tenure in obj.memberships.all()]


def _holder(tenure: Membership, *, current: bool) -> dict[str, Any]:
    return {
        "person_id": tenure.person_id,
        "name": tenure.person.name,
        "start_date": tenure.start_date,
        "end_date": tenure.end_date,
        "current": current,
    }


# --- Staff endpoints ----------------------------------------------------------------


def _current_memberships() -> Prefetch[str, Any, str]:
    return Prefetch(
        "memberships",
        queryset=Membership.objects.current().select_related("post__organization"),
        to_attr="current_memberships",
    )


def _organization_by_slug(slug: str) -> Organization:
    found = Organization.objects.filter(slug=slug).first()
    if found is None:
        raise _invalid("organization", f"No organisation has the slug '{slug}'.")
    return found


class PersonFilters(ContentParams):
    q: str | None = Field(
        None, max_length=100, description="Words of the given or family name, or the e-mail."
    )
    organization: str | None = Field(
        None, description="Slug of an organisation where they hold a post now."
    )


@router.get(
    "/people",
    response={200: list[PersonOut], **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="People, with contact details (staff)",
)
@paginate(Pages)
def person_list(
    request: HttpRequest,
    filters: Query[PersonFilters],
) -> QuerySet[Person]:
    people = Person.objects.search(filters.q or "")
    people = people.prefetch_related(_current_memberships())  # type: ignore[arg-type]
    if filters.organization:
        organization = _organization_by_slug(filters.organization)
        holders = Membership.objects.current().filter(post__organization=organization)
        people = people.filter(pk__in=holders.values("person"))
    return people


@router.get(
    "/people/{person_id}",
    response={200: PersonDetailOut, **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="One person, with their post history (staff)",
)
def person_detail(
    request: HttpRequest,
    person_id: int,
    content: Query[ContentParams],
) -> Person:
    history = Membership.objects.select_related("post__organization").order_by("-start_date", "-pk")
    found = (
        Person.objects.prefetch_related(
            _current_memberships(),  # type: ignore[arg-type]
            Prefetch("memberships", queryset=history),  # type: ignore[arg-type]
        )
        .filter(pk=person_id)
        .first()
    )
    if found is None:
        raise ApiError(404, f"No person has the id {person_id}.")
    return found


class PostFilters(ContentParams):
    organization: str | None = Field(None, description="Slug of the organisation.")
    role: PostRole | None = None


@router.get(
    "/posts",
    response={200: list[PostOut], **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="Posts, with their current holders and history (staff)",
)
@paginate(Pages)
def post_list(
    request: HttpRequest,
    filters: Query[PostFilters],
) -> QuerySet[Post]:
    history = Membership.objects.select_related("person").order_by("-start_date", "-pk")
    posts = Post.objects.select_related("organization").prefetch_related(
        Prefetch("memberships", queryset=history),
        Prefetch(
            "memberships",
            queryset=Membership.objects.current().select_related("person"),
            to_attr="current_memberships",
        ),
    )
    if filters.organization:
        posts = posts.filter(organization=_organization_by_slug(filters.organization))
    if filters.role:
        posts = posts.filter(role=filters.role)
    return posts
