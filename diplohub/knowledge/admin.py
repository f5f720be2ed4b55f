# Plain TranslationAdmin, not the tabbed one: the tabs load jQuery UI from a CDN, which
# our CSP (default-src 'self') and the no-CDN rule forbid.
#
# === PAGES: the catalogue in the back office ==========================================
# Every save goes through the services (slugs, similar initiatives to recompute, the
# search index); the forms run the services' own checks, so the admin refuses what the
# services refuse. Publishing and unpublishing are actions that call the services; a
# submitted initiative published from here is moderated (its submitter is told).
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline

from diplohub.knowledge import services
from diplohub.knowledge.forms import CheckedAdminForm, ImageAdminForm, PublicationAdminForm
from diplohub.knowledge.models import (
    Development,
    Initiative,
    InitiativeImage,
    InitiativeType,
    PressItem,
    Publication,
    PublicationState,
    Reference,
    ResponseType,
    SimilarInitiative,
    Slug,
    WorkingGroup,
    WorkingGroupMember,
)

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
TITLES = [f"title_{code}" for code in LANGUAGE_CODES]


@admin.register(InitiativeType, ResponseType)
class VocabularyAdmin(TranslationAdmin):
    """The managed vocabularies: staff add, rename, order and translate the entries."""

    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = [f"name_{code}" for code in LANGUAGE_CODES] + ["slug"]
    prepopulated_fields = {"slug": [f"name_{settings.LANGUAGE_CODE}"]}


class CatalogueAdmin(TranslationAdmin):
    """What every kind of item shares: checked form, saving, publishing, deleting."""

    form = CheckedAdminForm
    actions = ["publish", "unpublish"]
    list_filter = ["state"]
    search_fields = TITLES
    readonly_fields = ["state", "published_at", "addresses"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The relations and inlines are saved after this; save_related tells the
        # services once everything is in place.
        if isinstance(obj, Initiative):
            obj._pages_before = services.initiative_fingerprint(initiative=obj)  # type: ignore[attr-defined]
        obj.save()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        item = form.instance
        if isinstance(item, Initiative):
            services.initiative_touched(
                initiative=item, before=getattr(item, "_pages_before", None)
            )
        else:
            services.item_touched(item=item)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.item_delete(item=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for item in queryset:
            services.item_delete(item=item)

    @admin.display(description=_("addresses"))
    def addresses(self, obj: Any) -> str:
        if not obj.pk or not hasattr(obj, "url_name") or not obj.url_name:
            return "—"
        links = []
        for code in LANGUAGE_CODES:
            with translation.override(code):
                links.append((code, obj.get_absolute_url(), obj.get_absolute_url()))
        return format_html_join(mark_safe("<br>"), '{}: <a href="{}">{}</a>', links)

    @admin.action(description=_("Publish the selected items"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = 0
        for item in queryset.exclude(state=PublicationState.PUBLISHED):
            try:
                services.item_publish(item=item, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request,
                    _("%(item)s cannot be published: %(problems)s")
                    % {"item": item, "problems": " ".join(error.messages)},
                    messages.ERROR,
                )
            except services.ModerationError as error:
                self.message_user(request, f"{item}: {error.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            ngettext("%(count)d item published.", "%(count)d items published.", done)
            % {"count": done},
        )

    @admin.action(
        description=_("Unpublish the selected items (back to draft)"), permissions=["change"]
    )
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = 0
        for item in queryset.filter(state=PublicationState.PUBLISHED):
            services.item_unpublish(item=item)
            done += 1
        self.message_user(
            request,
            ngettext("%(count)d item unpublished.", "%(count)d items unpublished.", done)
            % {"count": done},
        )


class ReferenceInline(admin.TabularInline):
    model = Reference
    extra = 0
    fields = ["position", "outlet", "title", "date", "language", "url"]


class ImageInline(TranslationStackedInline):
    model = InitiativeImage
    form = ImageAdminForm
    extra = 0
    fields = ["image", "alt", "position"]


class SimilarInline(admin.TabularInline):
    """The background job's answer, shown as it is (never edited by hand)."""

    model = SimilarInitiative
    fk_name = "initiative"
    extra = 0
    fields = ["rank", "similar", "score"]
    readonly_fields = ["rank", "similar", "score"]
    can_delete = False
    verbose_name = _("similar initiative")
    verbose_name_plural = _("similar initiatives (computed in the background)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Initiative)
class InitiativeAdmin(CatalogueAdmin):
    list_display = [
        "title",
        "city",
        "country",
        "initiative_type",
        "state",
        "published_at",
        "submitted",
    ]
    list_filter = [
        "state",
        "initiative_type",
        "response_types",
        "topics",
        "status",
        "country",
        ("source_name", admin.EmptyFieldListFilter),
    ]
    search_fields = [*TITLES, "government", "city", "submitted_by_name", "submitted_by_email"]
    autocomplete_fields = ["contact_organization", "related_organizations", "topics"]
    filter_horizontal = ["response_types"]
    inlines = [ReferenceInline, ImageInline, SimilarInline]
    readonly_fields = [*CatalogueAdmin.readonly_fields, "similar_computed_at", "source_id"]
    fieldsets = [
        (None, {"fields": ["title", "summary", "body", "state", "published_at", "addresses"]}),
        (
            _("Government and place"),
            {"fields": ["government", "city", "country"]},
        ),
        (
            _("Classification"),
            {"fields": ["initiative_type", "response_types", "topics", "status", "start_date"]},
        ),
        (
            _("Contact, languages and links"),
            {
                "fields": [
                    "contact_organization",
                    "contact_email",
                    "languages",
                    "links",
                    "related_organizations",
                ]
            },
        ),
        (
            _("Submission (private)"),
            {
                "fields": ["submitted_by_name", "submitted_by_email", "submitted_by_organization"],
                "classes": ["collapse"],
            },
        ),
        (
            _("Import"),
            {"fields": ["source_name", "source_url", "source_id", "similar_computed_at"]},
        ),
    ]

    @admin.display(description=_("proposed by"), ordering="submitted_by_name")
    def submitted(self, obj: Initiative) -> str:
        return obj.submitted_by_name or "—"


@admin.register(Development)
class DevelopmentAdmin(CatalogueAdmin):
    list_display = ["title", "kind", "lead_organization", "phase", "state", "published_at"]
    list_filter = ["state", "kind", "topics"]
    search_fields = [*TITLES, "funding_programme", "lead_organization__name_en"]
    autocomplete_fields = ["lead_organization", "partners", "topics", "initiatives"]
    fieldsets = [
        (None, {"fields": ["title", "summary", "body", "state", "published_at", "addresses"]}),
        (
            _("The development"),
            {
                "fields": [
                    "kind",
                    "lead_organization",
                    "partners",
                    "funding_programme",
                    "phase",
                    "start_date",
                    "links",
                    "topics",
                    "initiatives",
                ]
            },
        ),
    ]


class MemberInline(admin.TabularInline):
    model = WorkingGroupMember
    extra = 0
    fields = ["position", "person", "organization", "role"]
    autocomplete_fields = ["person", "organization"]


@admin.register(WorkingGroup)
class WorkingGroupAdmin(CatalogueAdmin):
    list_display = ["title", "chair", "started", "state"]
    autocomplete_fields = ["chair", "topics", "meetings"]
    inlines = [MemberInline]
    fieldsets = [
        (None, {"fields": ["title", "summary", "body", "state", "published_at", "addresses"]}),
        (_("The group"), {"fields": ["chair", "started", "topics", "meetings"]}),
    ]


@admin.register(Publication)
class PublicationAdmin(CatalogueAdmin):
    form = PublicationAdminForm
    list_display = ["title", "kind", "working_group", "date", "language", "state"]
    list_filter = ["state", "kind", "working_group", "language"]
    search_fields = [*TITLES, "authors_text"]
    autocomplete_fields = ["authors", "topics", "working_group"]
    date_hierarchy = "date"
    fieldsets = [
        (None, {"fields": ["title", "summary", "body", "state", "published_at", "addresses"]}),
        (
            _("The publication"),
            {
                "fields": [
                    "kind",
                    "working_group",
                    "authors_text",
                    "authors",
                    "date",
                    "language",
                    "url",
                    "file",
                    "topics",
                ]
            },
        ),
    ]


@admin.register(PressItem)
class PressItemAdmin(CatalogueAdmin):
    list_display = ["title", "outlet", "date", "language", "state", "link"]
    list_filter = ["state", "language", "outlet"]
    search_fields = ["title", "outlet", "url"]
    autocomplete_fields = ["initiatives", "developments", "working_groups", "events", "topics"]
    date_hierarchy = "date"
    fields = [
        "title",
        "outlet",
        "date",
        "language",
        "url",
        "summary",
        "topics",
        "initiatives",
        "developments",
        "working_groups",
        "events",
        "state",
        "published_at",
    ]

    @admin.display(description=_("address"))
    def link(self, obj: PressItem) -> str:
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', obj.url, obj.outlet)


@admin.register(Slug)
class SlugAdmin(admin.ModelAdmin):
    """Every address an item has had, read-only: old ones redirect to the newest."""

    list_display = ["slug", "language", "content_type", "object_id", "created_at"]
    list_filter = ["content_type", "language"]
    search_fields = ["slug"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# === end PAGES =========================================================================
