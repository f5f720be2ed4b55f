"""Programme endpoints of the API: events by visibility, a member's own registrations
(register, cancel, substitute, confirm an offered seat), and staff attendance.

The endpoints call the same services as the pages; a refused workflow answers 409 (or
403 when it is about who may do it) with {"detail": ..., "code": ...}, the code being
RegistrationError.code.

No `from __future__ import annotations` here: ninja reads the parameter annotations
at import time (see directory/api.py).
"""

import datetime
from typing import Any, Literal

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError
from ninja.pagination import paginate
from ninja.responses import Status

from diplohub.accounts.api import ApiError, staff_token_auth, token_auth
from diplohub.directory.api import ContentParams, _in_content_language
from diplohub.directory.models import Person
from diplohub.events import services
from diplohub.events.models import (
    SEATED,
    AgendaItem,
    Event,
    EventKind,
    EventQuerySet,
    EventStatus,
    Invitation,
    InvitationStatus,
    Registration,
    RegistrationStatus,
    Visibility,
)
from diplohub.events.selectors import events_visible_to
from diplohub.lib.pagination import Pages

router = Router(tags=["programme"])
router.add_decorator(_in_content_language, mode="view")


# --- Errors -------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str


class RefusalOut(Schema):
    detail: str
    code: str | None = Field(
        None,
        description="Why a workflow was refused: closed, cancelled, past, not_invited, "
        "not_allowed, not_a_member, quota, deadline, not_yours, already_registered, "
        "not_seated, expired.",
    )


class FieldErrorOut(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut]


PUBLIC_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
MEMBER_ERRORS: dict[int, Any] = {
    401: ErrorOut,
    403: RefusalOut,
    404: ErrorOut,
    409: RefusalOut,
    422: ValidationErrorOut,
}
STAFF_ERRORS: dict[int, Any] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}

# Refusals about who may do it are 403; the others (the event's state, seats) are 409.
FORBIDDEN_CODES = {"not_invited", "not_allowed", "not_yours", "not_a_member"}


def _refusal(error: services.RegistrationError) -> Status[dict[str, str]]:
    status = 403 if error.code in FORBIDDEN_CODES else 409
    return Status(status, {"detail": error.message, "code": error.code})


# --- Who is asking ------------------------------------------------------------------


def _optional_user(request: HttpRequest) -> Any:
    """The token's user, or None without an Authorization header; a bad token is a 401
    rather than a silent fall-back to what anonymous visitors see."""
    if "HTTP_AUTHORIZATION" not in request.META:
        return None
    user = token_auth(request)
    if user is None:
        raise ApiError(401, "Missing or invalid token: send 'Authorization: Bearer <token>'.")
    return user


def _person(request: HttpRequest) -> Person:
    try:
        person: Person | None = request.auth.person  # type: ignore[attr-defined]
    except Person.DoesNotExist:
        person = None
    if person is None:
        raise ApiError(
            403,
            "Your account is not linked to a person in the directory; "
            "ask the hub team to register you.",
        )
    return person


class _Anonymous:
    is_authenticated = False
    is_hub_staff = False


def _visible_events(user: Any) -> EventQuerySet:
    return events_visible_to(user if user is not None else _Anonymous())


def _event_for(user: Any, slug: str) -> Event:
    event = _visible_events(user).filter(slug=slug).first()
    if event is None:
        raise ApiError(404, f"No event you may see has the slug '{slug}'.")
    return event


def _event_to_register(request: HttpRequest, slug: str) -> Event:
    """A published event by slug. Invitation-only events are found too: a colleague of
    an invited mission may register without an invitation of their own, and the
    service answers who may not (403 not_invited)."""
    # Only the id: the service reads the whole row again under its lock. The slug is
    # unique, so get(), which orders nothing, rather than first().
    try:
        return Event.objects.published().only("pk").get(slug=slug)
    except Event.DoesNotExist:
        raise ApiError(404, f"No published event has the slug '{slug}'.") from None


# --- Schemas ------------------------------------------------------------------------


class OrganizationRefOut(Schema):
    slug: str
    name: str


class SeriesOut(Schema):
    slug: str
    name: str


def _with_counts(events: QuerySet[Event]) -> QuerySet[Event]:
    return events.annotate(
        seats_taken=Count("registrations", filter=Q(registrations__status__in=SEATED)),
        waiting=Count("registrations", filter=Q(registrations__status="waitlisted")),
    )


class EventOut(Schema):
    slug: str
    title: str
    summary: str
    kind: EventKind
    status: EventStatus
    visibility: Visibility
    start: datetime.datetime
    end: datetime.datetime
    venue: str
    address: str
    series: SeriesOut | None
    edition: int | None
    host: OrganizationRefOut | None
    languages: list[str]
    capacity: int
    seats_left: int
    waiting: int = Field(description="People on the waitlist.")
    registration_open: bool
    url: str = Field(description="The event's page.")

    @staticmethod
    def resolve_seats_left(obj: Event) -> int:
        taken = getattr(obj, "seats_taken", None)
        if taken is None:
            taken = Registration.objects.seated().filter(event=obj).count()
        return max(obj.capacity - taken, 0)

    @staticmethod
    def resolve_waiting(obj: Event) -> int:
        waiting = getattr(obj, "waiting", None)
        if waiting is None:
            waiting = Registration.objects.waiting().filter(event=obj).count()
        return int(waiting)

    @staticmethod
    def resolve_registration_open(obj: Event) -> bool:
        return obj.registration_is_open()

    @staticmethod
    def resolve_url(obj: Event, context: Any) -> str:
        return str(context["request"].build_absolute_uri(obj.get_absolute_url()))


class AgendaItemOut(Schema):
    starts_at: datetime.time
    ends_at: datetime.time | None
    title: str
    speakers: list[str] = Field(description="Public names of the speakers.")

    @staticmethod
    def resolve_speakers(obj: AgendaItem) -> list[str]:
        return [person.public_name for person in obj.speakers.all()]


class EventDetailOut(EventOut):
    description: str
    practical_notes: str
    co_organisers: list[OrganizationRefOut]
    agenda: list[AgendaItemOut]
    quota_per_organization: int | None = Field(description="Seats per organisation; null: none.")
    registration_opens: datetime.datetime | None
    registration_closes: datetime.datetime | None
    cancellation_deadline: datetime.datetime | None

    @staticmethod
    def resolve_co_organisers(obj: Event) -> list[Any]:
        return list(obj.co_organisers.all())

    @staticmethod
    def resolve_agenda(obj: Event) -> list[AgendaItem]:
        return list(obj.agenda.all())


class EventRefOut(Schema):
    slug: str
    title: str
    start: datetime.datetime
    end: datetime.datetime


def _with_positions(registrations: QuerySet[Registration]) -> QuerySet[Registration]:
    """Each waiting registration's rank in its event's queue, in one query."""
    ahead = (
        Registration.objects.filter(
            event=OuterRef("event"),
            status=RegistrationStatus.WAITLISTED,
            waitlist_number__lte=OuterRef("waitlist_number"),
        )
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return registrations.annotate(position=Subquery(ahead, output_field=IntegerField()))


def _position(obj: Registration) -> int | None:
    if obj.status != RegistrationStatus.WAITLISTED:
        return None
    position = getattr(obj, "position", None)
    if position is None:
        position = services.registration_waitlist_position(registration=obj)
    return position


class RegistrationOut(Schema):
    id: int
    event: EventRefOut
    status: RegistrationStatus
    organization: OrganizationRefOut | None = Field(description="Whose seat it is (the quota).")
    waitlist_position: int | None = Field(description="1 is next in line; null if not waiting.")
    confirm_by: datetime.datetime | None = Field(
        description="A seat offered from the waitlist: confirm before this time."
    )
    substitute_for: str | None = Field(description="The delegate this person replaced.")
    created_at: datetime.datetime
    checked_in_at: datetime.datetime | None

    resolve_waitlist_position = staticmethod(_position)

    @staticmethod
    def resolve_substitute_for(obj: Registration) -> str | None:
        return obj.substitute_for.name if obj.substitute_for else None


class PersonRefOut(Schema):
    id: int
    name: str
    public_name: str


class AttendeeOut(RegistrationOut):
    person: PersonRefOut
    id_check_note: str


class OrganizationCountOut(Schema):
    slug: str
    name: str
    seated: int
    waiting: int


class AttendanceOut(Schema):
    capacity: int
    quota_per_organization: int | None
    seats_left: int
    confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    no_show: int
    by_organization: list[OrganizationCountOut]


# --- Public endpoints ---------------------------------------------------------------


class EventFilters(ContentParams):
    when: Literal["upcoming", "past", "all"] = Field(
        "upcoming", description="Upcoming (the default), past, or all events."
    )
    kind: EventKind | None = None
    series: str | None = Field(None, description="A series slug.")


@router.get(
    "/events",
    response={200: list[EventOut], **PUBLIC_ERRORS},
    summary="Events of the programme",
)
@paginate(Pages)
def event_list(request: HttpRequest, filters: Query[EventFilters]) -> QuerySet[Event]:
    """Published events you may see: public ones for everyone, members-only ones with a
    member's token, invitation-only ones for the people invited (and staff)."""
    events = _visible_events(_optional_user(request))
    if filters.when == "upcoming":
        events = events.upcoming()
    elif filters.when == "past":
        events = events.past()
    else:
        events = events.order_by("start", "pk")
    if filters.kind:
        events = events.filter(kind=filters.kind)
    if filters.series:
        events = events.filter(series__slug=filters.series)
    return _with_counts(events.select_related("series", "host"))


@router.get(
    "/events/{slug}",
    response={200: EventDetailOut, **PUBLIC_ERRORS},
    summary="One event",
)
def event_detail(request: HttpRequest, slug: str, content: Query[ContentParams]) -> Event:
    event = _event_for(_optional_user(request), slug)
    return (
        _with_counts(Event.objects.filter(pk=event.pk))
        .select_related("series", "host")
        .prefetch_related("co_organisers", "agenda__speakers")
        .get()
    )


# --- A member's own registrations ---------------------------------------------------


def _mine() -> QuerySet[Registration]:
    return _with_positions(
        Registration.objects.select_related("event", "organization", "substitute_for")
    ).order_by("event__start", "pk")


class MyRegistrationFilters(ContentParams):
    status: RegistrationStatus | None = None


@router.get(
    "/me/registrations",
    auth=token_auth,
    response={200: list[RegistrationOut], **MEMBER_ERRORS},
    summary="My registrations",
)
@paginate(Pages)
def my_registrations(
    request: HttpRequest, filters: Query[MyRegistrationFilters]
) -> QuerySet[Registration]:
    registrations = _mine().filter(person=_person(request))
    if filters.status:
        registrations = registrations.filter(status=filters.status)
    return registrations


def _my_registration(request: HttpRequest, event: Event) -> Registration:
    found = _mine().filter(event=event, person=_person(request)).first()
    if found is None:
        raise ApiError(404, "You are not registered for this event.")
    return found


def _answer(registration: Registration) -> Registration:
    return _mine().get(pk=registration.pk)


@router.post(
    "/events/{slug}/registration",
    auth=token_auth,
    response={200: RegistrationOut, **MEMBER_ERRORS},
    summary="Register for an event",
)
def register(request: HttpRequest, slug: str) -> Any:
    """Confirmed if a seat is free and your organisation is under its quota, else on the
    waitlist. Registering again gives the same registration."""
    event = _event_to_register(request, slug)
    person = _person(request)
    try:
        registration = services.registration_create(
            event=event,
            person=person,
            by=request.auth,  # type: ignore[attr-defined]
        )
    except services.RegistrationError as error:
        return _refusal(error)
    # The service's own object (event row and organisation already loaded): no re-read.
    return registration


@router.delete(
    "/events/{slug}/registration",
    auth=token_auth,
    response={200: RegistrationOut, **MEMBER_ERRORS},
    summary="Cancel my registration",
)
def cancel(request: HttpRequest, slug: str) -> Any:
    event = _event_to_register(request, slug)
    registration = _my_registration(request, event)
    try:
        registration = services.registration_cancel(
            registration=registration,
            by=request.auth,  # type: ignore[attr-defined]
        )
    except services.RegistrationError as error:
        return _refusal(error)
    return _answer(registration)


@router.post(
    "/events/{slug}/registration/confirm",
    auth=token_auth,
    response={200: RegistrationOut, **MEMBER_ERRORS},
    summary="Accept a seat offered from the waitlist",
)
def confirm_offer(request: HttpRequest, slug: str) -> Any:
    event = _event_to_register(request, slug)
    registration = _my_registration(request, event)
    try:
        registration = services.registration_confirm_offer(
            registration=registration,
            by=request.auth,  # type: ignore[attr-defined]
        )
    except services.RegistrationError as error:
        return _refusal(error)
    return _answer(registration)


class SubstituteIn(Schema):
    person_id: int = Field(description="A colleague at the same organisation.")


@router.post(
    "/events/{slug}/registration/substitute",
    auth=token_auth,
    response={200: RegistrationOut, **MEMBER_ERRORS},
    summary="Hand my seat to a colleague",
)
def substitute(request: HttpRequest, slug: str, payload: SubstituteIn) -> Any:
    """The seat (or the place on the waitlist) stays with your organisation; the
    colleague must hold a post there and not be registered already."""
    event = _event_to_register(request, slug)
    registration = _my_registration(request, event)
    colleague = Person.objects.filter(pk=payload.person_id).first()
    if colleague is None:
        raise ValidationError(
            [
                {
                    "loc": ("body", "payload", "person_id"),
                    "msg": f"No person has the id {payload.person_id}.",
                    "type": "invalid",
                }
            ]
        )
    try:
        registration = services.registration_substitute(
            registration=registration,
            person=colleague,
            by=request.auth,  # type: ignore[attr-defined]
        )
    except services.RegistrationError as error:
        return _refusal(error)
    return _answer(registration)


# --- Staff --------------------------------------------------------------------------


def _staff_event(slug: str) -> Event:
    event = Event.objects.filter(slug=slug).first()
    if event is None:
        raise ApiError(404, f"No event has the slug '{slug}'.")
    return event


class AttendeeFilters(ContentParams):
    status: RegistrationStatus | None = None


@router.get(
    "/events/{slug}/registrations",
    auth=staff_token_auth,
    response={200: list[AttendeeOut], **STAFF_ERRORS},
    summary="Who registered, waits and came (staff)",
)
@paginate(Pages)
def event_registrations(
    request: HttpRequest, slug: str, filters: Query[AttendeeFilters]
) -> QuerySet[Registration]:
    """Seated people first, then the waitlist in order, then cancellations."""
    event = _staff_event(slug)
    registrations = _with_positions(
        Registration.objects.filter(event=event).select_related(
            "event", "person", "organization", "substitute_for"
        )
    )
    if filters.status:
        registrations = registrations.filter(status=filters.status)
    seated_first = Case(When(status__in=SEATED, then=Value(0)), default=Value(1))
    return registrations.annotate(seated_first=seated_first).order_by(
        "seated_first", "waitlist_number", "status", "created_at", "pk"
    )


@router.get(
    "/events/{slug}/attendance",
    auth=staff_token_auth,
    response={200: AttendanceOut, **STAFF_ERRORS},
    summary="Attendance figures of an event (staff)",
)
def event_attendance(request: HttpRequest, slug: str, content: Query[ContentParams]) -> Any:
    event = _staff_event(slug)
    registrations = Registration.objects.filter(event=event)
    by_status = dict(
        registrations.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    per_org = (
        registrations.exclude(organization=None)
        .order_by()
        .values("organization__slug", "organization__name")
        .annotate(
            seated=Count("pk", filter=Q(status__in=SEATED)),
            waiting=Count("pk", filter=Q(status=RegistrationStatus.WAITLISTED)),
        )
        .filter(Q(seated__gt=0) | Q(waiting__gt=0))
        .order_by("organization__name")
    )
    seated = sum(by_status.get(status, 0) for status in SEATED)
    return {
        "capacity": event.capacity,
        "quota_per_organization": event.quota_per_organization,
        "seats_left": max(event.capacity - seated, 0),
        "confirmed": by_status.get(RegistrationStatus.CONFIRMED, 0),
        "waitlisted": by_status.get(RegistrationStatus.WAITLISTED, 0),
        "cancelled": by_status.get(RegistrationStatus.CANCELLED, 0),
        "attended": by_status.get(RegistrationStatus.ATTENDED, 0),
        "no_show": by_status.get(RegistrationStatus.NO_SHOW, 0),
        "by_organization": [
            {
                "slug": row["organization__slug"],
                "name": row["organization__name"],
                "seated": row["seated"],
                "waiting": row["waiting"],
            }
            for row in per_org
        ],
    }


# --- Staff: invitations ------------------------------------------------------------

STAFF_WRITE_ERRORS: dict[int, Any] = {**STAFF_ERRORS, 409: RefusalOut}


class InvitationOut(Schema):
    id: int
    person: PersonRefOut
    organization: OrganizationRefOut | None
    status: InvitationStatus
    sent_at: datetime.datetime | None
    reminded_at: datetime.datetime | None
    answered_at: datetime.datetime | None


class InvitationFilters(ContentParams):
    status: InvitationStatus | None = None


@router.get(
    "/events/{slug}/invitations",
    auth=staff_token_auth,
    response={200: list[InvitationOut], **STAFF_ERRORS},
    summary="Who is invited and what they answered (staff)",
)
@paginate(Pages)
def event_invitations(
    request: HttpRequest, slug: str, filters: Query[InvitationFilters]
) -> QuerySet[Invitation]:
    invitations = Invitation.objects.filter(event=_staff_event(slug)).select_related(
        "person", "organization"
    )
    if filters.status:
        invitations = invitations.filter(status=filters.status)
    return invitations.order_by("person__family_name", "person__given_name", "pk")


class InviteIn(Schema):
    person_ids: list[int] = Field(
        min_length=1, max_length=2000, description="The people to invite (directory ids)."
    )


class InvitationsSentOut(Schema):
    invited: list[InvitationOut]
    already_invited: list[int] = Field(description="Ids of people invited before: not again.")
    without_address: list[int] = Field(description="Ids of people with no e-mail address.")
    no_event_mail: list[int] = Field(
        description="Ids of people who withdrew their consent to event communications."
    )


@router.post(
    "/events/{slug}/invitations",
    auth=staff_token_auth,
    response={200: InvitationsSentOut, **STAFF_WRITE_ERRORS},
    summary="Invite people by e-mail (staff)",
)
def invite(request: HttpRequest, slug: str, payload: InviteIn) -> Any:
    """Each person gets a personal e-mail with a link to accept, decline or send a
    colleague, without a password. Asking twice for the same person invites once."""
    event = _staff_event(slug)
    people = list(Person.objects.filter(pk__in=payload.person_ids))
    unknown = sorted(set(payload.person_ids) - {person.pk for person in people})
    if unknown:
        raise ValidationError(
            [
                {
                    "loc": ("body", "payload", "person_ids"),
                    "msg": f"No person has the id {', '.join(map(str, unknown))}.",
                    "type": "invalid",
                }
            ]
        )
    try:
        sent = services.invitations_send(event=event, people=people, by=request.auth)  # type: ignore[attr-defined]
    except services.RegistrationError as error:
        return _refusal(error)
    return {
        "invited": sent.invited,
        "already_invited": [person.pk for person in sent.already_invited],
        "without_address": [person.pk for person in sent.without_address],
        "no_event_mail": [person.pk for person in sent.no_event_mail],
    }


class RemindedOut(Schema):
    reminded: int
    reminded_lately: int = Field(description="Not reminded again: reminded in the last 12 hours.")


@router.post(
    "/events/{slug}/invitations/remind",
    auth=staff_token_auth,
    response={200: RemindedOut, **STAFF_WRITE_ERRORS},
    summary="Remind the invited people who have not answered (staff)",
)
def remind(request: HttpRequest, slug: str) -> Any:
    try:
        reminded, lately = services.invitations_remind(
            event=_staff_event(slug),
            by=request.auth,  # type: ignore[attr-defined]
        )
    except services.RegistrationError as error:
        return _refusal(error)
    return {"reminded": reminded, "reminded_lately": lately}
