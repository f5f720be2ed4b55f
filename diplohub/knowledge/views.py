from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from diplohub.accounts.decorators import staff_required
from diplohub.accounts.ratelimit import too_many_attempts
from diplohub.directory.models import Organization
from diplohub.events.selectors import events_visible_to
from diplohub.knowledge import schema_org, search, services, slugs
from diplohub.knowledge.forms import (
    InitiativeFilterForm,
    KindFilterForm,
    ModerationForm,
    ReferenceFormSet,
    SubmissionForm,
    development_kinds,
    publication_kinds,
)
from diplohub.knowledge.models import (
    Development,
    Initiative,
    InitiativeImage,
    PressItem,
    Publication,
    PublicationState,
    Reference,
    SimilarInitiative,
    WorkingGroup,
    WorkingGroupMember,
)
from diplohub.lib.pagecache import cached_for_visitors

# === PAGES: the catalogue's public pages, the submission form, moderation ============

PAGE_SIZE = 24
SIMILAR_SHOWN = 6


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_hub_staff)


def _published_or_staff(request: HttpRequest, item: object) -> bool:
    return getattr(item, "state", "") == "published" or _is_staff(request)


def _detail(
    request: HttpRequest,
    model: type,
    slug: str,
    template: str,
    context: Any = None,
) -> HttpResponse:
    """An item's page at its current slug; an old slug, or one of another language,
    redirects there for good (301). `context(item)` gives the page's other values."""
    item, current = slugs.resolve(model, get_language(), slug)
    if item is None or not _published_or_staff(request, item):
        raise Http404
    if current != slug:
        url = reverse(f"knowledge:{model.url_name}", kwargs={"slug": current})
        return HttpResponsePermanentRedirect(url)
    values = {"item": item}
    if context is not None:
        values.update(context(item))
    return render(request, template, values)


def _visible_organizations(request: HttpRequest, orgs: Any) -> list[Organization]:
    return [org for org in orgs if org.is_public or _is_staff(request)]


def _alternates(*, initiative: Initiative | None = None) -> list[dict[str, str]]:
    """The machine-readable twins of a page, for <link rel="alternate">: the Atom feeds,
    the CSV export and the JSON API (OPEN DATA's)."""
    links = [
        {
            "type": "application/atom+xml",
            "href": reverse("knowledge:feed"),
            "title": _("Initiatives (Atom)"),
        }
    ]
    if initiative is not None:
        for topic in initiative.topics.all():
            links.append(
                {
                    "type": "application/atom+xml",
                    "href": reverse("knowledge:topic-feed", kwargs={"topic": topic.slug}),
                    "title": _("Initiatives on %(topic)s (Atom)") % {"topic": topic.name},
                }
            )
        api = reverse("api:initiative_detail", kwargs={"initiative_id": initiative.pk})
        links.append(
            {"type": "application/json", "href": api, "title": _("This initiative (JSON)")}
        )
    else:
        links.append(
            {
                "type": "application/json",
                "href": reverse("api:initiative_list"),
                "title": _("Initiatives (JSON)"),
            }
        )
        links.append(
            {
                "type": "text/csv",
                "href": reverse("knowledge:initiatives-csv"),
                "title": _("Initiatives (CSV)"),
            }
        )
    return links


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Any:
    page = Paginator(items, size).get_page(request.GET.get("page"))
    slugs.prefetch_slugs(page.object_list)
    return page


def _initiatives() -> QuerySet[Initiative]:
    return (
        Initiative.objects.published()
        .select_related("initiative_type")
        .prefetch_related("topics")
        .order_by("-published_at", "-pk")
    )


def _developments() -> QuerySet[Development]:
    return (
        Development.objects.published()
        .select_related("lead_organization")
        .order_by("-published_at", "-pk")
    )


def _publications() -> QuerySet[Publication]:
    return Publication.objects.published().select_related("working_group").order_by("-date", "-pk")


def _press() -> QuerySet[PressItem]:
    return PressItem.objects.published().order_by("-date", "-pk")


def _links_to_pages() -> dict[str, str]:
    return {"search_url": reverse("knowledge:search")}


@require_GET
@cached_for_visitors
def home(request: HttpRequest) -> HttpResponse:
    """The knowledge hub's landing page: the latest of each kind."""
    initiatives = slugs.prefetch_slugs(_initiatives()[:6])
    developments = slugs.prefetch_slugs(_developments()[:4])
    groups = slugs.prefetch_slugs(WorkingGroup.objects.published()[:3])
    publications = slugs.prefetch_slugs(_publications()[:4])
    context = {
        "initiatives": initiatives,
        "developments": developments,
        "working_groups": groups,
        "publications": publications,
        "press": list(_press()[:5]),
        "counts": {
            "initiatives": Initiative.objects.published().count(),
            "countries": Initiative.objects.published().values("country").distinct().count(),
            "developments": Development.objects.published().count(),
            "press": PressItem.objects.published().count(),
        },
        "alternates": _alternates(),
        **_links_to_pages(),
    }
    return render(request, "knowledge/home.html", context)


@require_GET
@cached_for_visitors
def initiative_list(request: HttpRequest) -> HttpResponse:
    items = _initiatives()
    in_use = sorted(
        {code for code in Initiative.objects.published().values_list("country", flat=True) if code}
    )
    form = InitiativeFilterForm(request.GET or None, countries_in_use=in_use)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["type"]:
            items = items.filter(initiative_type__slug=data["type"])
        if data["topic"]:
            items = items.filter(topics__slug=data["topic"])
        if data["country"]:
            items = items.filter(country=data["country"])
    context = {
        "page": _page(request, items),
        "form": form,
        "alternates": _alternates(),
        **_links_to_pages(),
    }
    template = "knowledge/initiative_list.html"
    return render(request, f"{template}#results" if request.htmx else template, context)  # type: ignore[attr-defined]


@require_GET
@cached_for_visitors
def development_list(request: HttpRequest) -> HttpResponse:
    items = _developments()
    form = KindFilterForm(request.GET or None, choices=development_kinds())
    if form.is_bound and form.is_valid() and form.cleaned_data["kind"]:
        items = items.filter(kind=form.cleaned_data["kind"])
    context = {"page": _page(request, items), "form": form, **_links_to_pages()}
    return render(request, "knowledge/development_list.html", context)


@require_GET
@cached_for_visitors
def working_group_list(request: HttpRequest) -> HttpResponse:
    items = WorkingGroup.objects.published().select_related("chair")
    context = {"page": _page(request, items), **_links_to_pages()}
    return render(request, "knowledge/working_group_list.html", context)


@require_GET
@cached_for_visitors
def publication_list(request: HttpRequest) -> HttpResponse:
    items = _publications()
    form = KindFilterForm(request.GET or None, choices=publication_kinds())
    if form.is_bound and form.is_valid() and form.cleaned_data["kind"]:
        items = items.filter(kind=form.cleaned_data["kind"])
    page = _page(request, items)
    slugs.prefetch_slugs([p.working_group for p in page.object_list if p.working_group])
    context = {"page": page, "form": form, **_links_to_pages()}
    return render(request, "knowledge/publication_list.html", context)


@require_GET
@cached_for_visitors
def press_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_press(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "json_ld": schema_org.press_list_json_ld(list(page.object_list), request),
        **_links_to_pages(),
    }
    return render(request, "knowledge/press_list.html", context)


def _similar(initiative: Initiative) -> list[Initiative]:
    """The background job's neighbours, as stored: read, never computed here."""
    rows = (
        SimilarInitiative.objects.filter(
            initiative=initiative, similar__state=PublicationState.PUBLISHED
        )
        .select_related("similar__initiative_type")
        .order_by("rank")[:SIMILAR_SHOWN]
    )
    return slugs.prefetch_slugs([row.similar for row in rows])


def _initiative_context(request: HttpRequest) -> Any:
    def context(initiative: Initiative) -> dict[str, Any]:
        initiative = (
            Initiative.objects.select_related(  # type: ignore[misc]
                "initiative_type", "contact_organization"
            )
            .prefetch_related(
                "topics",
                "response_types",
                "related_organizations",
                Prefetch("references", queryset=Reference.objects.order_by("position", "pk")),
                Prefetch("images", queryset=InitiativeImage.objects.order_by("position", "pk")),
            )
            .get(pk=initiative.pk)
        )
        return {
            "item": initiative,
            "related": _visible_organizations(request, initiative.related_organizations.all()),
            "similar": _similar(initiative),
            "developments": slugs.prefetch_slugs(
                Development.objects.filter(  # type: ignore[misc]
                    initiatives=initiative, state=PublicationState.PUBLISHED
                )
            ),
            "press": _press().filter(initiatives=initiative),
            "json_ld": schema_org.initiative_json_ld(initiative, request),
            "alternates": _alternates(initiative=initiative),
            "is_staff": _is_staff(request),
            **_links_to_pages(),
        }

    return context


@require_GET
@cached_for_visitors
def initiative(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(
        request, Initiative, slug, "knowledge/initiative.html", _initiative_context(request)
    )


@require_GET
@cached_for_visitors
def development(request: HttpRequest, slug: str) -> HttpResponse:
    def context(item: Development) -> dict[str, Any]:
        return {
            "partners": _visible_organizations(request, item.partners.all()),
            "initiatives": slugs.prefetch_slugs(_initiatives().filter(developments=item)),
            "press": _press().filter(developments=item),
            "json_ld": schema_org.development_json_ld(item, request),
            **_links_to_pages(),
        }

    return _detail(request, Development, slug, "knowledge/development.html", context)


@require_GET
@cached_for_visitors
def working_group(request: HttpRequest, slug: str) -> HttpResponse:
    def context(item: WorkingGroup) -> dict[str, Any]:
        members = WorkingGroupMember.objects.filter(working_group=item).select_related(
            "person", "organization"
        )
        meetings = events_visible_to(request.user).filter(working_groups=item).order_by("start")
        return {
            "members": members,
            "meetings": meetings,
            "publications": slugs.prefetch_slugs(_publications().filter(working_group=item)),
            "press": _press().filter(working_groups=item),
            "json_ld": schema_org.working_group_json_ld(item, request),
            "is_staff": _is_staff(request),
            **_links_to_pages(),
        }

    return _detail(request, WorkingGroup, slug, "knowledge/working_group.html", context)


@require_GET
@cached_for_visitors
def publication(request: HttpRequest, slug: str) -> HttpResponse:
    def context(item: Publication) -> dict[str, Any]:
        return {
            "authors": list(item.authors.all()),
            "json_ld": schema_org.publication_json_ld(item, request),
            **_links_to_pages(),
        }

    return _detail(request, Publication, slug, "knowledge/publication.html", context)


# --- The contact address: never in the page, given to a person who asks ---------------


CONTACT_RATE = "30/h"


@csrf_exempt  # changes nothing; pages are cached, so they carry no visitor's CSRF token
@require_POST
@never_cache
def initiative_contact(request: HttpRequest, slug: str) -> HttpResponse:
    """The initiative's contact address, asked for by a button (htmx) or its form.

    The page never contains the address, so a scraper reading pages finds none; asking
    is rate-limited per client (DIPLOHUB_RATELIMIT=0 lifts it)."""
    item, _current = slugs.resolve(Initiative, get_language(), slug)
    if item is None or not _published_or_staff(request, item):
        raise Http404
    if too_many_attempts(request, "knowledge.contact", rate=CONTACT_RATE):
        context = {"item": item, "too_many": True}
        return render(request, _contact_template(request), context, status=429)
    context = {"item": item, "contact_email": item.contact_email}
    return render(request, _contact_template(request), context)


def _contact_template(request: HttpRequest) -> str:
    return (
        "knowledge/initiative_contact.html#contact"
        if request.htmx  # type: ignore[attr-defined]
        else "knowledge/initiative_contact.html"
    )  # type: ignore[attr-defined]


# --- Proposing an initiative --------------------------------------------------------------


def _submission_context(form: SubmissionForm, references: Any, **extra: Any) -> dict[str, Any]:
    return {"form": form, "references": references, **extra}


@never_cache
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest) -> HttpResponse:
    """Partner cities and organisations propose an initiative; it waits for moderation."""
    if request.method == "GET":
        context = _submission_context(SubmissionForm(), ReferenceFormSet(prefix="ref"))
        return render(request, "knowledge/propose.html", context)
    form = SubmissionForm(request.POST)
    references = ReferenceFormSet(request.POST, prefix="ref")
    if too_many_attempts(
        request,
        "knowledge.propose",
        request.POST.get("submitted_by_email", "")[:254],
        rate=settings.SIGNUP_RATE,
    ):
        context = _submission_context(
            form,
            references,
            too_many=_("Too many proposals from here. Wait a few minutes and try again."),
        )
        return render(request, "knowledge/propose.html", context, status=429)
    valid = form.is_valid()
    valid = references.is_valid() and valid
    if valid and not form.is_from_a_bot:
        data = form.cleaned_data
        try:
            services.initiative_submit(
                language=get_language() or settings.LANGUAGE_CODE,
                title=data["title"],
                summary=data["summary"],
                body=data["body"],
                government=data["government"],
                city=data["city"],
                country=data["country"],
                initiative_type=data["initiative_type"],
                response_types=data["response_types"],
                topics=data["topics"],
                languages=form.all_languages(),
                links=data["links"],
                contact_email=data["contact_email"],
                references=[r for r in (f.reference() for f in references.forms) if r],
                submitted_by_name=data["submitted_by_name"],
                submitted_by_email=data["submitted_by_email"],
                submitted_by_organization=data["submitted_by_organization"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
            valid = False
    if not valid:
        return render(
            request, "knowledge/propose.html", _submission_context(form, references), status=400
        )
    return redirect("knowledge:propose-sent")


@require_GET
def propose_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "knowledge/propose_sent.html")


# --- Moderation (staff) --------------------------------------------------------------------


@staff_required
@require_GET
def moderation(request: HttpRequest) -> HttpResponse:
    waiting = (
        Initiative.objects.filter(state=PublicationState.SUBMITTED)
        .select_related("initiative_type")
        .order_by("created_at", "pk")
    )
    slugs.prefetch_slugs(waiting)
    recent = (
        Initiative.objects.filter(state__in=[PublicationState.PUBLISHED, PublicationState.REJECTED])
        .exclude(submitted_by_email="")
        .order_by("-updated_at")[:10]
    )
    return render(
        request,
        "knowledge/moderation.html",
        {"waiting": list(waiting), "recent": recent, "form": ModerationForm()},
    )


@staff_required
@require_POST
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    initiative = get_object_or_404(Initiative, pk=pk)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to publish or to reject."))
        return redirect("knowledge:moderation")
    decision = form.cleaned_data["decision"]
    try:
        services.initiative_moderate(
            initiative=initiative,
            by=request.user,
            decision=decision,
            reason=form.cleaned_data["reason"],
        )
    except services.ModerationError as error:
        messages.error(request, error.message)
    except ValidationError as error:
        messages.error(
            request,
            _("%(title)s cannot be published yet: %(problems)s")
            % {"title": initiative.title, "problems": " ".join(error.messages)},
        )
    except PermissionDenied:
        raise
    else:
        if decision == services.PUBLISH:
            messages.success(
                request,
                _("Published: %(title)s. The submitter is told.") % {"title": initiative.title},
            )
        else:
            messages.success(
                request,
                _("Rejected: %(title)s. The submitter is told why.") % {"title": initiative.title},
            )
    return redirect("knowledge:moderation")


# === end PAGES ============================================================================


# === OPEN DATA: the CSV export of the initiatives ===========================================


@require_GET
def initiatives_csv(request: HttpRequest) -> HttpResponse:
    """Every published initiative as CSV (UTF-8 with a BOM), in the columns the importer
    reads, so that another hub imports it as it is. Streamed: it may be long."""
    from django.http import StreamingHttpResponse
    from django.utils import translation

    from diplohub.knowledge import importers

    def page_of(item: Initiative) -> str:
        with translation.override(settings.LANGUAGE_CODE):
            return request.build_absolute_uri(item.get_absolute_url())

    lines = importers.export_csv(Initiative.objects.published(), page_of=page_of)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="initiatives.csv"'
    return response  # type: ignore[return-value]


# === end OPEN DATA ==========================================================================


# === SEARCH: the search page =================================================================


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 6 else 1


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """The catalogue's search: a GET form that works without JavaScript; with htmx, a
    change swaps the results and the count in the live region, and the address follows."""
    results = search.search(
        query=request.GET.get("q", ""),
        language=get_language() or settings.LANGUAGE_CODE,
        filters={facet: request.GET.getlist(facet) for facet in search.FACETS},
        page=_page_number(request.GET.get("page")),
    )
    context = {"results": results, "search_url": reverse("knowledge:search")}
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    template = "knowledge/search.html#swap" if partial else "knowledge/search.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# === end SEARCH ==============================================================================
