from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps
from itertools import groupby
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import user_has_device

from diplohub.accounts.decorators import staff_required
from diplohub.directory.models import Membership, Organization, Person
from diplohub.events import calendars, selectors, services
from diplohub.events.forms import AudienceForm, ColleagueForm, FeedbackForm, InviteForm
from diplohub.events.models import (
    SEATED,
    AgendaItem,
    CalendarFeed,
    Event,
    EventQuerySet,
    EventStatus,
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
from diplohub.lib import pdf
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


# Answering by link: invitations and registrations, no password --------------------


def _link_invalid(request: HttpRequest, what: str) -> HttpResponse:
    return render(request, "events/link_invalid.html", {"what": what}, status=404)


def _colleagues(person: Person, organization: Organization | None) -> QuerySet[Person]:
    """People holding a post today at `organization`, `person` excepted."""
    if organization is None:
        return Person.objects.none()
    return (
        Person.objects.filter(
            pk__in=Membership.objects.current()
            .filter(post__organization=organization)
            .values("person")
        )
        .exclude(pk=person.pk)
        .order_by("family_name", "given_name")
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invited person accepts, declines, or sends a colleague, from the link in
    their invitation."""
    invitation = (
        Invitation.objects.select_related("event__series", "event__host", "person", "organization")
        .filter(token=token[:64])
        .exclude(event__status=EventStatus.DRAFT)
        .first()
    )
    if invitation is None:
        return _link_invalid(request, "invitation")
    event = invitation.event
    colleagues = _colleagues(invitation.person, invitation.organization)
    colleague_form = ColleagueForm(colleagues=colleagues)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                registration = services.invitation_accept(invitation=invitation)
                messages.success(request, _registered_message(registration))
                return redirect("events:registration", token=registration.token)
            if action == "decline":
                services.invitation_decline(invitation=invitation)
                messages.success(request, _("Thank you for letting us know."))
                return redirect("events:invitation", token=invitation.token)
            if action == "colleague":
                colleague_form = ColleagueForm(request.POST, colleagues=colleagues)
                if colleague_form.is_valid():
                    registration = services.invitation_send_colleague(
                        invitation=invitation, colleague=colleague_form.cleaned_data["colleague"]
                    )
                    messages.success(
                        request,
                        _("%(name)s is registered in your place; we have e-mailed them.")
                        % {"name": registration.person.name},
                    )
                    return redirect("events:invitation", token=invitation.token)
            else:
                messages.error(request, _("Please choose one of the answers below."))
        except services.RegistrationError as error:
            messages.error(request, error.message)
            return redirect("events:invitation", token=invitation.token)
    mine = Registration.objects.filter(event=event, person=invitation.person).first()
    return render(
        request,
        "events/invitation.html",
        {
            "invitation": invitation,
            "event": event,
            "registration": mine if mine and mine.status != RegistrationStatus.CANCELLED else None,
            "open": event.registration_is_open(),
            "colleague_form": colleague_form
            if colleague_form.is_bound or colleagues.exists()
            else None,
            "map_url": _map_url(event),
        },
        status=400 if request.method == "POST" else 200,
    )


def _registered_message(registration: Registration) -> str:
    if registration.status == RegistrationStatus.WAITLISTED:
        position = services.registration_waitlist_position(registration=registration)
        return _("The event is full: you are number %(position)s on the waitlist.") % {
            "position": position
        }
    return _("You are registered. We look forward to seeing you.")


def _get_registration_by_token(token: str) -> Registration | None:
    return (
        Registration.objects.select_related(
            "event__series", "event__host", "person", "organization", "substitute_for"
        )
        .filter(token=token[:64])
        .exclude(event__status=EventStatus.DRAFT)
        .first()
    )


@never_cache
@require_http_methods(["GET", "POST"])
def registration(request: HttpRequest, token: str) -> HttpResponse:
    """A person's registration, from the link in their e-mails: the check-in QR code,
    the calendar file, and cancel, confirm an offered seat, or send a colleague."""
    registration = _get_registration_by_token(token)
    if registration is None:
        return _link_invalid(request, "registration")
    colleagues = _colleagues(registration.person, registration.organization)
    colleague_form = ColleagueForm(colleagues=colleagues)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "cancel":
                services.registration_cancel(registration=registration)
                messages.success(request, _("Your registration has been cancelled."))
                return redirect("events:registration", token=registration.token)
            if action == "confirm":
                services.registration_confirm_offer(registration=registration)
                messages.success(request, _("Thank you: your seat is confirmed."))
                return redirect("events:registration", token=registration.token)
            if action == "colleague":
                colleague_form = ColleagueForm(request.POST, colleagues=colleagues)
                if colleague_form.is_valid():
                    colleague = colleague_form.cleaned_data["colleague"]
                    services.registration_substitute(registration=registration, person=colleague)
                    messages.success(
                        request,
                        _("Your seat now belongs to %(name)s; we have e-mailed them.")
                        % {"name": colleague.name},
                    )
                    # This link was the former delegate's and no longer works.
                    return redirect("events:programme")
            else:
                messages.error(request, _("Please choose one of the actions below."))
        except services.RegistrationError as error:
            messages.error(request, error.message)
            return redirect("events:registration", token=registration.token)
    event = registration.event
    active = registration.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
    return render(
        request,
        "events/registration.html",
        {
            "registration": registration,
            "event": event,
            "position": services.registration_waitlist_position(registration=registration),
            "active": active and not event.is_past and not event.is_cancelled,
            "qr_svg": segno.make(request.build_absolute_uri(), error="m").svg_data_uri(scale=5)
            if registration.status in SEATED
            else "",
            "colleague_form": colleague_form
            if active and (colleague_form.is_bound or colleagues.exists())
            else None,
            "map_url": _map_url(event),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def registration_calendar(request: HttpRequest, token: str) -> HttpResponse:
    registration = _get_registration_by_token(token)
    if registration is None:
        raise Http404
    event = registration.event
    waiting = frozenset({event.pk} if registration.status == RegistrationStatus.WAITLISTED else ())
    calendar = calendars.calendar_of(
        [event], request, name=f"{_circle_name()}: {event.title}", tentative=waiting
    )
    response = calendars.calendar_response(calendar, filename=f"{event.slug}.ics")
    response["Cache-Control"] = "private, no-store"
    return response


# Invitations: the audience builder and the answers (staff) ---------------------------


def _get_event_for_staff(slug: str) -> Event:
    return get_object_or_404(Event.objects.select_related("series", "host"), slug=slug)


@never_cache
@require_GET
@staff_required
def invitations(request: HttpRequest, slug: str) -> HttpResponse:
    """Choose an audience by segment, preview who it reaches, invite them; follow
    the answers and remind those who have not answered."""
    event = _get_event_for_staff(slug)
    form = AudienceForm(request.GET or None)
    preview = None
    if form.has_criteria():
        preview = selectors.audience(event=event, **form.cleaned_data)
    context = {
        "event": event,
        "form": form,
        "preview": preview,
        "reachable": sum(1 for i in preview or [] if i.has_address and not i.invited),
        "counts": selectors.invitation_counts(event),
        "invitations": Invitation.objects.filter(event=event)
        .select_related("person", "organization")
        .order_by("status", "person__family_name", "person__given_name"),
    }
    if request.headers.get("HX-Target") == "preview":
        return render(request, "events/invitations.html#preview", context)
    return render(request, "events/invitations.html", context)


@require_POST
@staff_required
def invitations_send(request: HttpRequest, slug: str) -> HttpResponse:
    event = _get_event_for_staff(slug)
    form = InviteForm(request.POST)
    back = reverse("events:invitations", kwargs={"slug": event.slug})
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["person"]))
        return redirect(back)
    try:
        sent = services.invitations_send(
            event=event, people=form.cleaned_data["person"], by=request.user
        )
    except services.RegistrationError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(
        request,
        ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", len(sent.invited))
        % {"count": len(sent.invited)},
    )
    if sent.already_invited:
        messages.info(
            request,
            _("Already invited, not invited again: %(names)s.")
            % {"names": ", ".join(p.name for p in sent.already_invited)},
        )
    if sent.without_address:
        messages.warning(
            request,
            _("No e-mail address, not invited: %(names)s.")
            % {"names": ", ".join(p.name for p in sent.without_address)},
        )
    if sent.no_event_mail:
        messages.warning(
            request,
            _("Asked not to receive event communications, not invited: %(names)s.")
            % {"names": ", ".join(p.name for p in sent.no_event_mail)},
        )
    return redirect(back)


@require_POST
@staff_required
def invitations_remind(request: HttpRequest, slug: str) -> HttpResponse:
    event = _get_event_for_staff(slug)
    try:
        reminded, recent = services.invitations_remind(event=event, by=request.user)
    except services.RegistrationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext("%(count)d reminder sent.", "%(count)d reminders sent.", reminded)
            % {"count": reminded},
        )
        if recent:
            messages.info(
                request,
                ngettext(
                    "%(count)d person was reminded less than 12 hours ago and was left alone.",
                    "%(count)d people were reminded less than 12 hours ago and were left alone.",
                    recent,
                )
                % {"count": recent},
            )
    return redirect("events:invitations", slug=event.slug)


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


# Protocol outputs: the attendee list, name badges, the order of precedence -----------

PDF_STYLES = Path(__file__).resolve().parent / "static" / "events"
BADGES_PER_SHEET = 8  # 2 by 4 badges of 90 by 55 mm on an A4 sheet


def _check_staff(request: HttpRequest) -> None:
    """Moving people and registering them on their behalf is for the hub team only."""
    if not request.user.is_hub_staff:
        raise PermissionDenied(_("Only the hub team can change registrations here."))


def _attendees_url(event: Event, query: str = "") -> str:
    url = reverse("events:attendees", kwargs={"slug": event.slug})
    return f"{url}?q={quote(query)}#register" if query else url


@never_cache
@require_GET
@organiser_required
def attendees(request: HttpRequest, event: Event) -> HttpResponse:
    """Everyone registered, by group, under live counts. Staff also move people and
    register them on their behalf (search the directory, press Register)."""
    staff = request.user.is_hub_staff
    query = request.GET.get("q", "").strip()[:100] if staff else ""
    context: dict[str, Any] = {
        "event": event,
        "is_staff": staff,
        "query": query,
        "candidates": selectors.people_to_register(event, query) if query else [],
    }
    if staff and request.headers.get("HX-Request"):
        return render(request, "events/attendees.html#candidates", context)
    context["counts"] = selectors.attendee_counts(event)
    context["attendees"] = selectors.attendee_list(event)
    return render(request, "events/attendees.html", context)


@never_cache
@require_GET
@organiser_required
def attendees_counts(request: HttpRequest, event: Event) -> HttpResponse:
    return render(
        request,
        "events/attendees.html#counts",
        {"event": event, "counts": selectors.attendee_counts(event)},
    )


@require_POST
@organiser_required
def attendee_move(request: HttpRequest, event: Event, pk: int) -> HttpResponse:
    _check_staff(request)
    registration = get_object_or_404(
        Registration.objects.select_related("event", "person"), event=event, pk=pk
    )
    try:
        registration = services.registration_move(
            registration=registration, status=request.POST.get("status", ""), by=request.user
        )
    except services.RegistrationError as error:
        messages.error(request, error.message)
        return redirect(_attendees_url(event))
    name = registration.person.name
    if registration.status == RegistrationStatus.WAITLISTED:
        position = services.registration_waitlist_position(registration=registration)
        messages.success(
            request,
            _("%(name)s is on the waitlist, number %(position)s.")
            % {"name": name, "position": position},
        )
    else:
        messages.success(
            request,
            _("%(name)s is now: %(status)s.")
            % {"name": name, "status": registration.get_status_display()},
        )
    return redirect(_attendees_url(event))


@require_POST
@organiser_required
def attendee_register(request: HttpRequest, event: Event) -> HttpResponse:
    """Staff register someone from the directory on their behalf (twice is once)."""
    _check_staff(request)
    back = _attendees_url(event, request.POST.get("q", "").strip()[:100])
    raw = request.POST.get("person", "")
    person = (
        Person.objects.filter(pk=int(raw)).first()
        if raw.isascii() and raw.isdigit() and len(raw) < 10
        else None
    )
    if person is None:
        messages.error(request, _("Please choose a person from the directory."))
        return redirect(back)
    already = (
        Registration.objects.filter(event=event, person=person)
        .exclude(status=RegistrationStatus.CANCELLED)
        .exists()
    )
    try:
        registration = services.registration_create(event=event, person=person, by=request.user)
    except services.RegistrationError as error:
        messages.error(request, error.message)
        return redirect(back)
    if already:
        messages.info(
            request,
            _("%(name)s is already registered for this event (%(status)s).")
            % {"name": person.name, "status": registration.get_status_display()},
        )
    elif registration.status == RegistrationStatus.WAITLISTED:
        position = services.registration_waitlist_position(registration=registration)
        messages.success(
            request,
            _("%(name)s is on the waitlist, number %(position)s.")
            % {"name": person.name, "position": position},
        )
    else:
        messages.success(request, _("%(name)s is registered, with a seat.") % {"name": person.name})
    return redirect(back)


def _local(moment: Any) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


@require_GET
@organiser_required
def attendees_csv(request: HttpRequest, event: Event) -> HttpResponse:
    """The attendee list as a spreadsheet; e-mail addresses for staff only."""
    staff = request.user.is_hub_staff
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-attendees.csv"'
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")  # Spreadsheets read UTF-8 only with a byte-order mark.
    writer = csv.writer(response)
    header = [
        _("Status"),
        _("Waitlist position"),
        _("Form of address"),
        _("Name"),
        _("Post"),
        _("Organisation"),
        _("Country"),
        _("Registered on"),
        _("Checked in at"),
        _("Registered by staff"),
        _("Substitute for"),
    ]
    writer.writerow([*header, _("E-mail")] if staff else header)
    groups = selectors.attendee_list(event)
    for row in [*groups.seated, *groups.waiting, *groups.cancelled]:
        registration, person = row.registration, row.registration.person
        organization = registration.organization
        cells = [
            registration.get_status_display(),
            row.position or "",
            person.form_of_address,
            person.public_name,
            row.post.label if row.post else "",
            organization.name if organization else "",
            organization.country.name if organization and organization.country else "",
            _local(registration.created_at),
            _local(registration.checked_in_at),
            _("yes") if row.by_staff else "",
            registration.substitute_for.name if registration.substitute_for else "",
        ]
        if staff:
            cells.append(person.email)
        writer.writerow([_csv_cell(cell) for cell in cells])
    return response


def _qr_data_uri(code: str) -> str:
    # The check-in code alone: the door's code field reads it, as it reads a link. A
    # PNG, one pixel square per module drawn without smoothing (badges.css), is as sharp
    # as an SVG in print and twice as quick for WeasyPrint to lay out.
    return str(segno.make(code, error="m").png_data_uri(scale=4, border=0))


@require_GET
@organiser_required
def badges(request: HttpRequest, event: Event) -> HttpResponse:
    """Name badges for the people expected or present, 8 to an A4 sheet, as a PDF."""
    cards = [(row, _qr_data_uri(row.registration.token)) for row in selectors.badge_list(event)]
    sheets = [
        cards[start : start + BADGES_PER_SHEET] for start in range(0, len(cards), BADGES_PER_SHEET)
    ]
    html = render_to_string(
        "events/badges.html", {"event": event, "sheets": sheets}, request=request
    )
    document = pdf.render_pdf(html, stylesheets=[PDF_STYLES / "badges.css"])
    return pdf.pdf_response(document, filename=f"{event.slug}-badges.pdf")


@never_cache
@require_GET
@organiser_required
def precedence(request: HttpRequest, event: Event) -> HttpResponse:
    """The speaking and seating order, by order of precedence (protocol.py); printable,
    and as a PDF with ?format=pdf."""
    context = {"event": event, "attendees": selectors.precedence_list(event)}
    if request.GET.get("format") == "pdf":
        html = render_to_string("events/precedence_pdf.html", context, request=request)
        document = pdf.render_pdf(html, stylesheets=[PDF_STYLES / "precedence_pdf.css"])
        return pdf.pdf_response(document, filename=f"{event.slug}-order-of-precedence.pdf")
    return render(request, "events/precedence.html", context)
