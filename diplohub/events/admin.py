# Plain TranslationAdmin, not the tabbed one: the tabs load jQuery UI from a CDN, which
# our CSP (default-src 'self') and the no-CDN rule forbid.
#
# Registrations change only through the services (seats, quotas and the waitlist are
# checked there, under the event lock): the change form edits nothing but the ID-check
# note, adding one calls registration_create, and the actions call the other services.
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline
from simple_history.admin import SimpleHistoryAdmin

from diplohub.events import services
from diplohub.events.models import (
    SEATED,
    AgendaItem,
    Event,
    EventStatus,
    Feedback,
    Invitation,
    Registration,
    RegistrationStatus,
    Series,
)

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


@admin.register(Series)
class SeriesAdmin(TranslationAdmin):
    list_display = ["name", "slug"]
    search_fields = [f"name_{code}" for code in LANGUAGE_CODES] + ["slug"]
    prepopulated_fields = {"slug": [f"name_{settings.LANGUAGE_CODE}"]}


class AgendaItemInline(TranslationTabularInline):
    model = AgendaItem
    extra = 0
    fields = ["starts_at", "ends_at", "title", "speakers", "position"]
    autocomplete_fields = ["speakers"]


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin, TranslationAdmin):
    list_display = [
        "title",
        "start",
        "kind",
        "visibility",
        "status",
        "capacity",
        "seated",
        "waiting",
        "registrations_link",
    ]
    list_filter = ["status", "kind", "visibility", "series", "start"]
    search_fields = [f"title_{code}" for code in LANGUAGE_CODES] + ["slug", "venue"]
    date_hierarchy = "start"
    autocomplete_fields = ["host", "co_organisers", "series"]
    prepopulated_fields = {"slug": [f"title_{settings.LANGUAGE_CODE}"]}
    inlines = [AgendaItemInline]
    actions = ["promote_waiting", "cancel_events"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "kind",
                    "status",
                    "visibility",
                    "series",
                    "edition",
                    "summary",
                    "description",
                ]
            },
        ),
        (_("Hosts"), {"fields": ["host", "co_organisers"]}),
        (
            _("Time and place"),
            {
                "fields": [
                    "start",
                    "end",
                    "venue",
                    "address",
                    "latitude",
                    "longitude",
                    "languages",
                    "practical_notes",
                ]
            },
        ),
        (
            _("Seats"),
            {
                "fields": [
                    "capacity",
                    "quota_per_organization",
                    "registration_opens",
                    "registration_closes",
                    "cancellation_deadline",
                    "promotion_hours",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _seated=Count("registrations", filter=Q(registrations__status__in=SEATED)),
                _waiting=Count(
                    "registrations",
                    filter=Q(registrations__status=RegistrationStatus.WAITLISTED),
                ),
            )
        )

    @admin.display(description=_("seated"), ordering="_seated")
    def seated(self, obj: Event) -> int:
        return obj._seated  # type: ignore[attr-defined,no-any-return]

    @admin.display(description=_("waiting"), ordering="_waiting")
    def waiting(self, obj: Event) -> int:
        return obj._waiting  # type: ignore[attr-defined,no-any-return]

    @admin.display(description=_("registrations"))
    def registrations_link(self, obj: Event) -> str:
        url = reverse("admin:events_registration_changelist") + f"?event__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("list"))

    def save_model(self, request: HttpRequest, obj: Event, form: Any, change: bool) -> None:
        # Through the service: a change of time or place bumps the calendars' SEQUENCE
        # and is e-mailed to the people registered.
        services.event_save(event=obj, changed=form.changed_data if change else (), by=request.user)

    @admin.action(description=_("Cancel the selected events and tell the people registered"))
    def cancel_events(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        cancelled = 0
        for event in queryset.exclude(status=EventStatus.CANCELLED):
            event.status = EventStatus.CANCELLED
            services.event_save(event=event, changed=["status"], by=request.user)
            cancelled += 1
        self.message_user(
            request,
            ngettext("%(count)d event cancelled.", "%(count)d events cancelled.", cancelled)
            % {"count": cancelled},
        )

    @admin.action(description=_("Offer free seats to the waitlist"), permissions=["change"])
    def promote_waiting(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        promoted = 0
        for event in queryset:
            promoted += len(services.registration_promote_waiting(event=event))
        self.message_user(
            request,
            ngettext(
                "%(count)d person promoted from the waitlist.",
                "%(count)d people promoted from the waitlist.",
                promoted,
            )
            % {"count": promoted},
        )


@admin.register(Registration)
class RegistrationAdmin(SimpleHistoryAdmin):
    list_display = [
        "person",
        "event",
        "organization",
        "status",
        "waitlist_position",
        "confirm_by",
        "checked_in_at",
    ]
    list_filter = ["status", "event"]
    list_select_related = ["person", "event", "organization"]
    search_fields = ["person__given_name", "person__family_name", "person__email"]
    autocomplete_fields = ["event", "person", "organization"]
    actions = [
        "check_in",
        "mark_no_show",
        "move_to_confirmed",
        "move_to_waitlist",
        "cancel",
        "promote_waiting",
    ]
    readonly_fields = [
        "status",
        "waitlist_number",
        "confirm_by",
        "substitute_for",
        "registered_by",
        "created_at",
        "checked_in_at",
        "checked_in_by",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["event", "person", "organization"]
        return ["event", "person", "organization", "id_check_note", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["event", "person", "organization", *self.readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Registration]:
        return super().get_queryset(request).order_by("event", "status", "waitlist_number", "pk")

    @admin.display(description=_("waitlist position"), ordering="waitlist_number")
    def waitlist_position(self, obj: Registration) -> int | None:
        return services.registration_waitlist_position(registration=obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form

        class RegisterOnBehalf(form):  # type: ignore[valid-type,misc]
            """Adding a registration registers through the service, in the form's
            clean(), so that a refusal (event past, cancelled…) is a form error; the
            admin's view wraps it all in one transaction."""

            def clean(self) -> dict[str, Any]:
                data = super().clean()
                if self.errors:
                    return data
                try:
                    self.registered = services.registration_create(
                        event=data["event"],
                        person=data["person"],
                        organization=data.get("organization"),
                        by=request.user,
                    )
                except services.RegistrationError as error:
                    raise ValidationError(str(error), code=error.code) from error
                # The model's own checks (one registration per person…) then see the
                # stored row as this form's instance, not as a clash.
                self.instance = self.registered
                return data

        return RegisterOnBehalf

    def save_model(self, request: HttpRequest, obj: Registration, form: Any, change: bool) -> None:
        if change:
            obj._history_user = request.user  # type: ignore[attr-defined]
            obj.save(update_fields=["id_check_note", "updated_at"])
            return
        # Already stored by the service in the form's clean().

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Registration],
        call: Callable[[Registration], Any],
        done: str,
    ) -> None:
        ok, refused = 0, []
        for registration in queryset.select_related("person"):
            try:
                call(registration)
            except services.RegistrationError as error:
                refused.append(f"{registration.person}: {error}")
            else:
                ok += 1
        if ok:
            self.message_user(request, f"{done}: {ok}", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description=_("Check in"), permissions=["change"])
    def check_in(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._each(
            request,
            queryset,
            lambda r: services.registration_check_in(registration=r, by=request.user),
            str(_("Checked in")),
        )

    @admin.action(description=_("Mark as no-show"), permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._move(request, queryset, RegistrationStatus.NO_SHOW)

    @admin.action(
        description=_("Give a seat (even over capacity or quota)"), permissions=["change"]
    )
    def move_to_confirmed(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._move(request, queryset, RegistrationStatus.CONFIRMED)

    @admin.action(description=_("Move to the back of the waitlist"), permissions=["change"])
    def move_to_waitlist(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._move(request, queryset, RegistrationStatus.WAITLISTED)

    @admin.action(description=_("Cancel (frees the seat for the waitlist)"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        self._each(
            request,
            queryset,
            lambda r: services.registration_cancel(registration=r, by=request.user),
            str(_("Cancelled")),
        )

    @admin.action(description=_("Offer free seats to the waitlist"), permissions=["change"])
    def promote_waiting(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        promoted = 0
        for event in Event.objects.filter(pk__in=queryset.values("event")):
            promoted += len(services.registration_promote_waiting(event=event))
        self.message_user(request, f"{_('Promoted from the waitlist')}: {promoted}")

    def _move(self, request: HttpRequest, queryset: QuerySet[Registration], status: str) -> None:
        self._each(
            request,
            queryset,
            lambda r: services.registration_move(registration=r, status=status, by=request.user),
            str(_("Moved")),
        )


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["person", "event", "organization", "status", "sent_at", "answered_at"]
    list_filter = ["status", "event"]
    list_select_related = ["person", "event", "organization"]
    search_fields = ["person__given_name", "person__family_name", "person__email"]
    autocomplete_fields = ["event", "person", "organization"]
    readonly_fields = ["invited_by", "created_at", "sent_at", "reminded_at", "answered_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Invitations are sent from the event's invitations page, which e-mails them.
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["registration", "rating", "created_at"]
    list_filter = ["rating", "registration__event"]
    list_select_related = ["registration__person", "registration__event"]
    search_fields = ["comments", "registration__person__family_name"]
    readonly_fields = ["registration", "rating", "comments", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
