from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps
from itertools import groupby
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import user_has_device

from diplohub.events import calendars, services
from diplohub.events.forms import FeedbackForm
from diplohub.events.models import (
    SEATED,
    AgendaItem,
    CalendarFeed,
    Event,
    EventQuerySet,
    Feedback,
    Invitation,
    Registration,
    RegistrationQuerySet,
    RegistrationStatus,
)
from diplohub.events.schema_org import event_json_ld
from diplohub.events.selectors import (
    event_report,
    events_visible_to,
    has_feedback,
    person_of,
    seats_of,
)
from diplohub.lib.pagecache import cached_for_visitors


def _with_relations(events: EventQuerySet) -> EventQuerySet:
    return events.select_related("series", "host").prefetch_related("co_organisers")


def _get_event_for_user(request: HttpRequest, slug: str) -> Event:
    """The event, or 404 when it does not exist or the user may not see it (no hint which)."""
    events = events_visible_to(request.user, drafts=True)
    agenda = AgendaItem.objects.prefetch_related("speakers")
    return get_object_or_404(
        _with_relations(events).prefetch_related(Prefetch("agenda", queryset=agenda)),
        slug=slug,
    )


@require_GET
@cached_for_visitors
def programme(request: HttpRequest) -> HttpResponse:
    visible = _with_relations(events_visible_to(request.user))
    past = list(visible.past())
    past_by_year = [
        (year, list(events))
        for year, events in groupby(past, key=lambda e: timezone.localtime(e.start).year)
    ]
    return render(
        request,
        "events/programme.html",
        {"upcoming": list(visible.upcoming()), "past_by_year": past_by_year},
    )


@require_GET
@cached_for_visitors
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = _get_event_for_user(request, slug)
    person = person_of(request.user)
    registration = None
    position = None
    if person is not None:
        registration = Registration.objects.filter(event=event, person=person).first()
        if registration is not None:
            position = services.registration_waitlist_position(registration=registration)
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "seats": seats_of(event),
            "registration": registration,
            "waitlist_position": position,
            "can_cancel": registration is not None
            and registration.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
            and not event.is_past
            and not event.is_cancelled,
            "has_person": person is not None,
            "can_give_feedback": _may_give_feedback(registration),
            "is_organiser": _is_organiser(request.user, event),
            "json_ld": event_json_ld(event, request),
            "map_url": _map_url(event),
        },
    )


def _map_url(event: Event) -> str:
    """OpenStreetMap at the venue: by coordinates when known, else by address."""
    if event.latitude is not None and event.longitude is not None:
        return (
            f"https://www.openstreetmap.org/?mlat={event.latitude}&mlon={event.longitude}"
            f"#map=17/{event.latitude}/{event.longitude}"
        )
    if event.address:
        return "https://www.openstreetmap.org/search?query=" + quote(event.address)
    return ""


@login_required
@require_POST
def register(request: HttpRequest, slug: str) -> HttpResponse:
    event = _get_event_for_user(request, slug)
    person = person_of(request.user)
    if person is None:
        messages.error(
            request,
            _(
                "Your account is not linked to a person in the directory yet; "
                "please ask the hub team to register you."
            ),
        )
        return redirect(event)
    invitation = Invitation.objects.filter(event=event, person=person).first()
    try:
        registration = services.registration_create(
            event=event, person=person, by=request.user, invitation=invitation
        )
    except services.RegistrationError as error:
        messages.error(request, error.message)
        return redirect(event)
    if registration.status == RegistrationStatus.WAITLISTED:
        position = services.registration_waitlist_position(registration=registration)
        messages.success(
            request,
            _("The event is full: you are number %(position)s on the waitlist.")
            % {"position": position},
        )
    else:
        messages.success(request, _("You are registered. We look forward to seeing you."))
    return redirect(event)


def _get_registration_for_user(request: HttpRequest, slug: str) -> Registration:
    """The signed-in person's own registration for a visible event, or 404."""
    event = _get_event_for_user(request, slug)
    person = person_of(request.user)
    if person is None:
        raise Http404
    return get_object_or_404(
        Registration.objects.select_related("event"), event=event, person=person
    )


@login_required
@require_POST
def cancel(request: HttpRequest, slug: str) -> HttpResponse:
    registration = _get_registration_for_user(request, slug)
    try:
        services.registration_cancel(registration=registration, by=request.user)
    except services.RegistrationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your registration has been cancelled."))
    return redirect(registration.event)


@login_required
@require_POST
def confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """The person accepts a seat offered to them from the waitlist."""
    registration = _get_registration_for_user(request, slug)
    try:
        services.registration_confirm_offer(registration=registration, by=request.user)
    except services.RegistrationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you: your seat is confirmed."))
    return redirect(registration.event)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    registrations: list[Registration] = []
    feed = None
    if person is not None:
        feed, _created = CalendarFeed.objects.get_or_create(person=person)
        registrations = list(
            Registration.objects.filter(person=person)
            .exclude(event__status="draft")
            .select_related("event__series", "event__host", "feedback")
            .order_by("-event__start")
        )
        for registration in registrations:
            registration.position = services.registration_waitlist_position(  # type: ignore[attr-defined]
                registration=registration
            )
            registration.feedback_due = (  # type: ignore[attr-defined]
                registration.status == RegistrationStatus.ATTENDED
                and registration.event.is_past
                and not has_feedback(registration)
            )
    now = timezone.now()
    return render(
        request,
        "events/mine.html",
        {
            "person": person,
            "upcoming": [r for r in registrations if r.event.end >= now][::-1],
            "past": [r for r in registrations if r.event.end < now],
            "feed": feed,
        },
    )


# Calendars -----------------------------------------------------------------------


def _circle_name() -> str:
    return settings.HUB_CIRCLE_NAME


@require_GET
@cached_for_visitors
def event_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    event = _get_event_for_user(request, slug)
    calendar = calendars.calendar_of([event], request, name=f"{_circle_name()}: {event.title}")
    return calendars.calendar_response(calendar, filename=f"{event.slug}.ics")


@require_GET
@cached_for_visitors
def public_calendar(request: HttpRequest) -> HttpResponse:
    events = Event.objects.public().upcoming().select_related("series")
    calendar = calendars.calendar_of(events, request, name=_circle_name())
    return calendars.calendar_response(calendar)


@require_GET
def personal_calendar(request: HttpRequest, token: str) -> HttpResponse:
    feed = CalendarFeed.objects.select_related("person").filter(token=token).first()
    if feed is None:
        raise Http404
    registrations = (
        Registration.objects.filter(
            person=feed.person, status__in=(*SEATED, RegistrationStatus.WAITLISTED)
        )
        .filter(event__in=Event.objects.published())
        .select_related("event")
        .order_by("event__start")
    )
    events = [r.event for r in registrations]
    waiting = frozenset(
        r.event_id for r in registrations if r.status == RegistrationStatus.WAITLISTED
    )
    name = _("%(circle)s: my events") % {"circle": _circle_name()}
    calendar = calendars.calendar_of(events, request, name=name, tentative=waiting)
    response = calendars.calendar_response(calendar)
    response["Cache-Control"] = "private, max-age=300"
    return response


# After the event ------------------------------------------------------------------


def _may_give_feedback(registration: Registration | None) -> bool:
    return (
        registration is not None
        and registration.status == RegistrationStatus.ATTENDED
        and registration.event.is_past
        and not Feedback.objects.filter(registration=registration).exists()
    )


@login_required
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest, slug: str) -> HttpResponse:
    registration = _get_registration_for_user(request, slug)
    event = registration.event
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            try:
                services.feedback_give(
                    registration=registration,
                    rating=form.cleaned_data["rating"],
                    comments=form.cleaned_data["comments"],
                )
            except services.RegistrationError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Thank you for your feedback."))
            return redirect(event)
    else:
        if not _may_give_feedback(registration):
            if Feedback.objects.filter(registration=registration).exists():
                messages.info(
                    request, _("You have already given feedback on this event. Thank you.")
                )
            else:
                messages.error(
                    request, _("Feedback is open to attendees once the event has ended.")
                )
            return redirect(event)
        form = FeedbackForm()
    return render(request, "events/feedback.html", {"event": event, "form": form})


def _is_organiser(user: Any, event: Event) -> bool:
    """Hub staff, or a host at the event's host organisation."""
    return bool(
        user.is_authenticated
        and (
            user.is_hub_staff or (event.host is not None and user.can_edit_organization(event.host))
        )
    )


def organiser_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Hub staff, or a host at the event's host organisation; the view gets the event.

    Anonymous visitors go to sign in, everyone else gets 403 (404 if there is no such
    event). Staff with an authenticator app must have given a code in this session."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        event = get_object_or_404(Event.objects.select_related("host"), slug=slug)
        if user.is_hub_staff:
            verified = getattr(user, "is_verified", None)
            if callable(verified) and not verified() and user_has_device(user):
                return redirect_to_login(request.get_full_path())
        elif not _is_organiser(user, event):
            raise PermissionDenied(_("This page is for the hub team and the event's host."))
        return view(request, event, *args, **kwargs)

    return wrapper


@require_GET
@organiser_required
def report(request: HttpRequest, event: Event) -> HttpResponse:
    return render(request, "events/report.html", {"event": event, "report": event_report(event)})


# Check-in at the door ----------------------------------------------------------------


def _door_list(event: Event) -> RegistrationQuerySet:
    return (
        Registration.objects.filter(
            event=event, status__in=(RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED)
        )
        .select_related("person", "organization", "checked_in_by")
        .order_by("person__family_name", "person__given_name", "pk")
    )


def _counts(event: Event) -> dict[str, int]:
    return Registration.objects.filter(event=event).aggregate(
        arrived=Count("pk", filter=Q(status=RegistrationStatus.ATTENDED)),
        expected=Count(
            "pk",
            filter=Q(status__in=(RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED)),
        ),
    )


@require_GET
@organiser_required
def check_in(request: HttpRequest, event: Event) -> HttpResponse:
    """The door: search a name, press Check in; or type, paste or scan a check-in code."""
    query = request.GET.get("q", "").strip()[:100]
    registrations = _door_list(event)
    for word in query.split():
        registrations = registrations.filter(
            Q(person__given_name__icontains=word) | Q(person__family_name__icontains=word)
        )
    context = {
        "event": event,
        "registrations": registrations,
        "query": query,
        "counts": _counts(event),
    }
    if request.headers.get("HX-Request"):
        return render(request, "events/check_in.html#results", context)
    return render(request, "events/check_in.html", context)


@require_GET
@organiser_required
def check_in_counts(request: HttpRequest, event: Event) -> HttpResponse:
    return render(
        request, "events/check_in.html#counts", {"event": event, "counts": _counts(event)}
    )


@require_POST
@organiser_required
def check_in_person(request: HttpRequest, event: Event, pk: int) -> HttpResponse:
    registration = get_object_or_404(
        Registration.objects.select_related("event"), event=event, pk=pk
    )
    return _check_in(request, event, registration)


@require_POST
@organiser_required
def check_in_code(request: HttpRequest, event: Event) -> HttpResponse:
    """Check in the holder of a check-in code (the registration's token, or a link
    that ends with it, as a QR code would carry)."""
    code = request.POST.get("code", "").strip().rstrip("/").rsplit("/", 1)[-1][:64]
    registration = (
        Registration.objects.select_related("event").filter(event=event, token=code).first()
        if code
        else None
    )
    if registration is None:
        messages.error(request, _("No registration for this event has that check-in code."))
        return redirect("events:check-in", slug=event.slug)
    return _check_in(request, event, registration)


def _check_in(request: HttpRequest, event: Event, registration: Registration) -> HttpResponse:
    try:
        registration = services.registration_check_in(registration=registration, by=request.user)
    except services.RegistrationError as error:
        if request.headers.get("HX-Request"):
            return HttpResponse(error.message, status=409)
        messages.error(request, error.message)
        return redirect("events:check-in", slug=event.slug)
    registration = _door_list(event).get(pk=registration.pk)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "events/check_in.html#row",
            {"event": event, "registration": registration, "counts": _counts(event), "oob": True},
        )
    messages.success(request, _("%(name)s is checked in.") % {"name": registration.person.name})
    return redirect("events:check-in", slug=event.slug)


def _csv_cell(value: object) -> str:
    # A cell starting with one of these would run as a formula in a spreadsheet.
    text = str(value or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@organiser_required
def security_list(request: HttpRequest, event: Event) -> HttpResponse:
    """Names, organisations and ID-check notes for the venue's security desk."""
    registrations = (
        Registration.objects.filter(
            event=event, status__in=(RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED)
        )
        .select_related("person", "organization")
        .order_by("organization__name", "person__family_name", "person__given_name", "pk")
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-security-list.csv"'
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")  # Spreadsheets read UTF-8 only with a byte-order mark.
    writer = csv.writer(response)
    writer.writerow([_("Name"), _("Organisation"), _("Country"), capfirst(_("ID-check note"))])
    for registration in registrations:
        organization = registration.organization
        writer.writerow(
            [
                _csv_cell(registration.person.name),
                _csv_cell(organization.name if organization else ""),
                _csv_cell(
                    organization.country.name if organization and organization.country else ""
                ),
                _csv_cell(registration.id_check_note),
            ]
        )
    return response
