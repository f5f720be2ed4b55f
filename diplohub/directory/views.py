from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from diplohub.accounts.decorators import staff_required
from diplohub.directory import popolo as popolo_export
from diplohub.directory import services
from diplohub.directory.forms import DirectoryFilterForm, OrganizationContentForm
from diplohub.directory.models import Membership, Organization, Person, Post
from diplohub.directory.schema_org import organization_json_ld
from diplohub.lib.pagecache import cached_for_visitors

PAGE_SIZE = 24


def _directory_page(request: HttpRequest, *, side: str) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None, side=side)
    base = Organization.objects.public()
    base = base.diplomatic() if side == "diplomatic" else base.ecosystem()
    organizations = form.filter(base) if form.is_bound else base
    organizations = organizations.prefetch_related("topics")
    page = Paginator(organizations, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "side": side}
    partial = request.htmx  # type: ignore[attr-defined]
    template = "directory/list.html#results" if partial else "directory/list.html"
    return render(request, template, context)


@require_GET
@cached_for_visitors
def diplomatic(request: HttpRequest) -> HttpResponse:
    return _directory_page(request, side="diplomatic")


@require_GET
@cached_for_visitors
def ecosystem(request: HttpRequest) -> HttpResponse:
    return _directory_page(request, side="ecosystem")


@require_GET
@cached_for_visitors
def diplomatic_list(request: HttpRequest) -> HttpResponse:
    public = Organization.objects.public()
    consular = (
        public.consular()
        .in_precedence_order()
        .prefetch_related(Prefetch("posts", queryset=_posts_with_current_holders()))
    )
    others = public.diplomatic().exclude(pk__in=consular.values("pk"))
    return render(
        request, "directory/diplomatic_list.html", {"consular": consular, "others": others}
    )


def _posts_with_current_holders():  # type: ignore[no-untyped-def]
    current = Membership.objects.current().select_related("person")
    return Post.objects.prefetch_related(
        Prefetch("memberships", queryset=current, to_attr="current_memberships")
    )


@require_GET
@cached_for_visitors
def organization(request: HttpRequest, slug: str) -> HttpResponse:
    queryset = Organization.objects.select_related("parent").prefetch_related(
        "topics",
        Prefetch("posts", queryset=_posts_with_current_holders()),
        Prefetch("children", queryset=Organization.objects.public()),
    )
    if not (request.user.is_authenticated and request.user.is_hub_staff):
        queryset = queryset.public()
    org = get_object_or_404(queryset, slug=slug)
    can_edit = request.user.is_authenticated and request.user.can_edit_organization(org)
    return render(
        request,
        "directory/organization.html",
        {
            "org": org,
            "json_ld": organization_json_ld(org, request),
            "can_edit": can_edit,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest, slug: str) -> HttpResponse:
    org = get_object_or_404(Organization, slug=slug)
    if not request.user.can_edit_organization(org):
        raise PermissionDenied(_("You can only edit your own institution's page."))
    form = OrganizationContentForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        services.organization_update_content(
            organization=org, data=form.cleaned_data, by=request.user
        )
        return redirect(org)
    return render(request, "directory/organization_edit.html", {"org": org, "form": form})


@staff_required
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    current = Membership.objects.current().select_related("post__organization")
    persons = Person.objects.prefetch_related(
        Prefetch("memberships", queryset=current, to_attr="current_memberships")  # type: ignore[arg-type]
    )
    persons = persons.search(query)
    page = Paginator(persons, 50).get_page(request.GET.get("page"))
    return render(request, "directory/people.html", {"page": page, "query": query})


@staff_required
@require_GET
def person(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Person, pk=pk)
    tenures = found.memberships.select_related("post__organization").order_by("-start_date")
    return render(
        request,
        "directory/person.html",
        {
            "person": found,
            "tenures": tenures,
            "today": timezone.localdate(),
        },
    )


@require_GET
@cached_for_visitors
def popolo(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(
        popolo_export.export_directory(), json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Disposition"] = 'inline; filename="directory.popolo.json"'
    return response
