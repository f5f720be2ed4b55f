from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from diplohub.mailing import services
from diplohub.mailing.models import EmailStatus, OutboundEmail


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
