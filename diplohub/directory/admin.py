# Plain TranslationAdmin, not the tabbed one: the tabs load jQuery UI from a CDN, which
# our CSP (default-src 'self') and the no-CDN rule forbid.
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline
from simple_history.admin import SimpleHistoryAdmin

from diplohub.directory.importers import (
    DirectoryCSV,
    DirectoryXLSX,
    ImportFileError,
    OrganizationResource,
)
from diplohub.directory.models import Membership, Organization, Person, Post, Topic


@admin.register(Topic)
class TopicAdmin(TranslationAdmin):
    list_display = ["name", "slug", "position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}


class PostInline(TranslationTabularInline):
    model = Post
    extra = 0
    fields = ["label", "role", "position"]
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(ImportExportMixin, SimpleHistoryAdmin, TranslationAdmin):
    # Import runs the same plan as `diplohub import_organizations`: the preview lists
    # new rows, merges into existing organisations and errors by row and column.
    resource_classes = [OrganizationResource]
    import_formats = [DirectoryCSV, DirectoryXLSX]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    to_encoding = "utf-8-sig"  # so that Excel reads the accents in a CSV export
    list_display = ["name", "kind", "country", "city", "is_public"]
    list_filter = ["kind", "sector", "is_public", "topics", "consular_class", "country"]
    search_fields = ["name_en", "name_es", "name_ca", "acronym", "ror_id", "wikidata_id", "website"]
    autocomplete_fields = ["parent", "topics"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [PostInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "acronym",
                    "slug",
                    "kind",
                    "sector",
                    "description",
                    "topics",
                    "is_public",
                ]
            },
        ),
        ("Place", {"fields": ["country", "city", "address", "latitude", "longitude", "website"]}),
        ("Consular post", {"fields": ["consular_class", "exequatur_date", "jurisdiction"]}),
        ("Identifiers and structure", {"fields": ["ror_id", "wikidata_id", "parent"]}),
    ]

    # import-export lets anyone into the admin import and export unless a setting says
    # otherwise; tie them to the model's own permissions instead.
    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["person", "post"]


@admin.register(Person)
class PersonAdmin(SimpleHistoryAdmin):
    list_display = ["family_name", "given_name", "honorific_prefix", "email"]
    search_fields = ["given_name", "family_name", "email"]
    inlines = [MembershipInline]


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin, TranslationAdmin):
    list_display = ["label", "organization", "role"]
    list_filter = ["role", "organization__kind"]
    search_fields = ["label_en", "label_es", "label_ca", "organization__name_en"]
    autocomplete_fields = ["organization"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["person", "post", "start_date", "end_date"]
    list_filter = ["post__role"]
    search_fields = ["person__family_name", "person__given_name", "post__label_en"]
    autocomplete_fields = ["person", "post"]
