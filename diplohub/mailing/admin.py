from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from diplohub.mailing import services
from diplohub.mailing.models import (
    Campaign,
    Consent,
    EmailStatus,
    Erasure,
    OutboundEmail,
    PolicyDocument,
    Subscriber,
)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """What the hub sent, to whom and when; read-only but for retrying failures."""

    list_display = ["created_at", "kind", "to", "language", "subject", "status", "attempts"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["to", "subject", "key"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = [
        "key",
        "kind",
        "params",
        "to",
        "language",
        "message_id",
        "subject",
        "status",
        "attempts",
        "not_before",
        "claimed_until",
        "sent_at",
        "last_error",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Send the selected failed messages again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        failed = list(queryset.filter(status=EmailStatus.FAILED))
        for email in failed:
            services.email_retry(email=email)
        self.message_user(
            request,
            ngettext(
                "%(count)d message queued again.", "%(count)d messages queued again.", len(failed)
            )
            % {"count": len(failed)},
            messages.SUCCESS,
        )


# === Joining the network: policies, subscribers, the consent ledger, erasures ========


class _ReadOnly(admin.ModelAdmin):
    """Records nobody edits by hand: they are written by the services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(TranslationAdmin):
    """Versions of the privacy policy and the terms. Drafts are edited here; publishing
    one is an action, and a published version can no longer be changed or deleted:
    write the next version (the other action copies the newest text into a draft)."""

    list_display = ["__str__", "title", "published_at", "in_force"]
    list_filter = ["kind"]
    readonly_fields = ["published_at", "created_at"]
    actions = ["publish", "new_version"]

    @admin.display(boolean=True, description=_("in force"))
    def in_force(self, obj: PolicyDocument) -> bool:
        current = PolicyDocument.objects.current(obj.kind)
        return current is not None and current.pk == obj.pk

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description=_("Publish the selected drafts (in force from now)"))
    def publish(self, request: HttpRequest, queryset: QuerySet[PolicyDocument]) -> None:
        for document in queryset.order_by("kind", "version"):
            try:
                services.policy_document_publish(document=document)
            except services.PolicyError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("%(document)s is in force.") % {"document": document})

    @admin.action(description=_("Start the next version of the selected documents"))
    def new_version(self, request: HttpRequest, queryset: QuerySet[PolicyDocument]) -> None:
        for kind in sorted(set(queryset.values_list("kind", flat=True))):
            draft = services.policy_document_new_version(kind=kind)
            self.message_user(
                request,
                _("%(document)s is a draft: edit it, then publish it.") % {"document": draft},
            )


class ConsentInline(admin.TabularInline):
    model = Consent
    fk_name = "subscriber"
    extra = 0
    can_delete = False
    fields = ("at", "purpose", "granted", "privacy_policy", "terms", "source", "requested_at")
    readonly_fields = fields
    ordering = ["-at", "-pk"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Subscribers come from the sign-up; their consents and status change only by the
    person's own choices (or the unsubscribe action), each recorded in the ledger.
    Erasing someone is done on the Personal data page, which records the erasure."""

    list_display = ["email", "name", "status", "language", "wants_newsletter", "wants_events"]
    list_filter = ["status", "language", "wants_newsletter", "wants_events", "source", "topics"]
    search_fields = ["email", "first_name", "last_name", "organization_name"]
    date_hierarchy = "created_at"
    raw_id_fields = ["person"]
    filter_horizontal = ["topics"]
    readonly_fields = [
        "email",
        "status",
        "wants_newsletter",
        "wants_events",
        "source",
        "created_at",
        "confirmation_sent_at",
        "confirmed_at",
        "unsubscribed_at",
        "request_ip_hash",
        "confirmation_ip_hash",
    ]
    inlines = [ConsentInline]
    actions = ["unsubscribe"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Unsubscribe the selected subscribers from the newsletter"))
    def unsubscribe(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = 0
        for subscriber in queryset:
            if services.subscriber_unsubscribe(
                email=subscriber.email, source=services.SOURCE_STAFF, by=request.user
            ):
                count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d subscriber unsubscribed.", "%(count)d subscribers unsubscribed.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Consent)
class ConsentAdmin(_ReadOnly):
    """The ledger: every grant and withdrawal, as recorded; never edited."""

    list_display = ["at", "email", "purpose", "granted", "privacy_policy", "terms", "source"]
    list_filter = ["purpose", "granted", "source"]
    search_fields = ["email"]
    date_hierarchy = "at"
    list_select_related = ["privacy_policy", "terms"]


@admin.register(Erasure)
class ErasureAdmin(_ReadOnly):
    list_display = ["at", "email_hash", "by", "summary"]
    date_hierarchy = "at"


# === Campaigns: listed here; written, sent and followed on the staff pages ===========


@admin.register(Campaign)
class CampaignAdmin(_ReadOnly):
    """Campaigns are composed on their own pages (live preview, audience count,
    progress): the back office lists them and links there."""

    list_display = ["subject", "status", "scheduled_for", "started_at", "finished_at", "page"]
    list_filter = ["status", "in_archive"]
    search_fields = ["slug", "subject_en", "subject_es", "subject_ca"]
    date_hierarchy = "created_at"

    @admin.display(description=_("campaign page"))
    def page(self, campaign: Campaign) -> str:
        url = reverse("mailing:campaign", kwargs={"pk": campaign.pk})
        return format_html('<a href="{}">{}</a>', url, _("Open"))
