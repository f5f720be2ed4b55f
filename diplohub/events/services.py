"""Programme workflows: register, cancel, substitute, promote, move, check in.

Every function that changes registrations runs in one transaction and first locks the
event row (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the settings open write
transactions with BEGIN IMMEDIATE, so writers queue). Under that lock the seat count,
the per-organisation quota and the waitlist tickets are read and written, so parallel
requests cannot overbook an event, break a quota or draw the same ticket twice.

Pages, the API, the admin and the periodic task all call these functions.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from diplohub.directory.models import Membership, Organization, Person
from diplohub.events import emails
from diplohub.events.models import (
    SEATED,
    Event,
    EventStatus,
    Feedback,
    Invitation,
    InvitationStatus,
    Registration,
    RegistrationStatus,
    Visibility,
    new_token,
)
from diplohub.mailing.models import Consent, Purpose

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from diplohub.accounts.models import User

    # Views pass request.user as it is; an anonymous visitor counts as nobody.
    Actor = User | AnonymousUser | None


class RegistrationError(Exception):
    """A registration workflow refused; `code` tells a program why, the message a person.

    Codes: closed, cancelled, past, not_invited, not_allowed, quota, deadline,
    not_yours, already_registered, not_seated, expired, not_a_member, invalid,
    not_attended, not_ended, already_given.
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


# --- Helpers ------------------------------------------------------------------------


def _user(by: Actor) -> User | None:
    return by if by is not None and by.is_authenticated else None  # type: ignore[return-value]


def _is_staff(user: User | None) -> bool:
    return bool(user is not None and user.is_hub_staff)


def _lock(event: Event) -> Event:
    """The event row, locked until the transaction ends; fresh values for every field."""
    return Event.objects.select_for_update().get(pk=event.pk)


def _lock_registration(registration: Registration) -> tuple[Event, Registration]:
    event = _lock(registration.event)
    fresh = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("person", "organization")
        .get(pk=registration.pk)
    )
    fresh.event = event
    return event, fresh


def current_organizations(person: Person) -> list[Organization]:
    """The organisations where the person holds a post today, first post first."""
    tenures = (
        Membership.objects.current()
        .filter(person=person)
        .select_related("post__organization")
        .order_by("post__position", "post__pk", "pk")
    )
    seen: dict[int, Organization] = {}
    for tenure in tenures:
        seen.setdefault(tenure.post.organization_id, tenure.post.organization)
    return list(seen.values())


def _is_member(person: Person, organization: Organization) -> bool:
    return (
        Membership.objects.current().filter(person=person, post__organization=organization).exists()
    )


def _next_waitlist_number(event: Event) -> int:
    top = Registration.objects.filter(event=event).aggregate(top=Max("waitlist_number"))["top"]
    return (top or 0) + 1


class _Seats(NamedTuple):
    seated: int  # seats taken
    mine: int  # seats taken by the organisation
    waiting: int  # people on the waitlist
    top: int | None  # the last waitlist ticket drawn
    existing: int | None  # the person's registration, if they have one
    invited: bool  # an invitation of theirs not yet marked as registered


# Written out rather than built with the ORM because it runs while the event is locked:
# compiling the equivalent aggregate took 0.9 ms of CPU, more than the rest of the
# locked section, and every registration for the event waits for it. Portable SQL
# (PostgreSQL and SQLite); every value is a parameter.
_SEATED_IN = ", ".join(["%s"] * len(SEATED))
_SEATS_SQL = f"""
SELECT
    COUNT(CASE WHEN status IN ({_SEATED_IN}) THEN 1 END),
    COUNT(CASE WHEN status IN ({_SEATED_IN}) AND organization_id = %s THEN 1 END),
    COUNT(CASE WHEN status = %s THEN 1 END),
    MAX(waitlist_number),
    MAX(CASE WHEN person_id = %s THEN id END),
    (SELECT COUNT(*) FROM events_invitation
     WHERE event_id = %s AND person_id = %s AND status <> %s)
FROM events_registration
WHERE event_id = %s
"""  # noqa: S608 (placeholders only)


def _seats(event: Event, person: Person, organization_id: int | None) -> _Seats:
    """What the seat decision needs, in one query, while the event is locked."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SEATS_SQL,
            [
                *SEATED,
                *SEATED,
                organization_id,
                RegistrationStatus.WAITLISTED,
                person.pk,
                event.pk,
                person.pk,
                InvitationStatus.REGISTERED,
                event.pk,
            ],
        )
        seated, mine, waiting, top, existing, invited = cursor.fetchone()
    return _Seats(seated, mine, waiting, top, existing, bool(invited))


def _ticket(event: Event, seats: _Seats, organization_id: int | None) -> int | None:
    """None if a seat is free and the organisation is under its quota, else the next
    waitlist ticket."""
    quota = event.quota_per_organization
    if seats.seated < event.capacity and (
        quota is None or organization_id is None or seats.mine < quota
    ):
        return None
    return (seats.top or 0) + 1


def _save(registration: Registration, by: User | None, reason: str) -> None:
    registration._history_user = by  # type: ignore[attr-defined]
    registration._change_reason = reason  # type: ignore[attr-defined]
    registration.save()


def registration_waitlist_position(*, registration: Registration) -> int | None:
    """The rank among those waiting (1 is next), or None when not waiting."""
    if registration.status != RegistrationStatus.WAITLISTED or registration.waitlist_number is None:
        return None
    return (
        Registration.objects.waiting()
        .filter(event_id=registration.event_id, waitlist_number__lte=registration.waitlist_number)
        .count()
    )


def _check_open(event: Event, *, staff: bool, now: datetime.datetime) -> None:
    if event.status == EventStatus.CANCELLED:
        raise RegistrationError(_("This event has been cancelled."), code="cancelled")
    if event.status != EventStatus.PUBLISHED:
        raise RegistrationError(_("Registration for this event is not open."), code="closed")
    if now >= event.start:
        raise RegistrationError(_("This event has already taken place."), code="past")
    if staff:
        return  # staff register people on their behalf outside the window
    if event.registration_opens and now < event.registration_opens:
        when = timezone.localtime(event.registration_opens)
        raise RegistrationError(
            _("Registration opens on %(when)s.") % {"when": f"{when:%Y-%m-%d %H:%M}"},
            code="closed",
        )
    if event.registration_closes and now >= event.registration_closes:
        raise RegistrationError(_("Registration for this event has closed."), code="closed")


def _invited_organization(
    event: Event, person: Person, organizations: list[Organization], invitation: Invitation | None
) -> Organization | bool | None:
    """For an invitation-only event: False if the person may not register; else the
    organisation the invitation was for (None when the invitation names none)."""
    invitations = Invitation.objects.filter(event=event)
    if invitation is not None and invitation.event_id != event.pk:
        return False
    own = invitations.filter(person=person).select_related("organization").first()
    if own is not None:
        return own.organization
    # A colleague of an invited person's mission may take the mission's place.
    mine = {org.pk: org for org in organizations}
    for inv in invitations.select_related("organization"):
        if inv.organization_id in mine:
            return mine[inv.organization_id]
    invited_people = invitations.filter(organization__isnull=True).values("person")
    shared = (
        Membership.objects.current()
        .filter(person__in=invited_people, post__organization__in=list(mine))
        .values_list("post__organization", flat=True)
        .first()
    )
    return mine[shared] if shared is not None else False


# --- Register -----------------------------------------------------------------------


def registration_create(
    *,
    event: Event,
    person: Person,
    organization: Organization | None = None,
    by: Actor = None,
    invitation: Invitation | None = None,
) -> Registration:
    """Register a person, confirmed if a seat is free and their organisation is under its
    quota, else on the waitlist. Registering twice gives back the same registration; a
    cancelled one is reactivated at the back of the queue.

    A new place on the waitlist comes back with its rank as `position` (counted under
    the lock), so callers need not count it again.

    1. Who: a member registers themselves; staff anyone. Their organisations are read
       before the lock, to keep the locked part short (one event's registrations
       queue on it).
    2. Lock the event; read the counts, any registration of theirs and whether they
       hold an invitation not yet marked as registered, in one query. The invitation,
       if any, is marked (rolled back if refused below); an active registration is
       returned as it is.
    3. Check the event is published, upcoming, in its window, and visible to them.
    4. Seat or ticket, decided on the locked counts; the insert, its history record
       and the e-mail in the outbox; commit.
    """
    by = _user(by)
    staff = _is_staff(by)
    if by is not None and not staff and person.user_id != by.pk:
        raise RegistrationError(
            _("You can only register yourself; ask the hub team to register someone else."),
            code="not_allowed",
        )
    organizations = current_organizations(person)
    if organization is not None and not staff and organization not in organizations:
        raise RegistrationError(
            _("You can only take a seat for an organisation where you hold a post."),
            code="not_a_member",
        )

    seat_for = organization or (organizations[0] if organizations else None)

    with transaction.atomic():
        now = timezone.now()
        event = _lock(event)
        seats = _seats(event, person, seat_for.pk if seat_for else None)
        if seats.invited:
            Invitation.objects.filter(event=event, person=person).exclude(
                status=InvitationStatus.REGISTERED
            ).update(status=InvitationStatus.REGISTERED, answered_at=now)
        existing = None
        if seats.existing is not None:
            existing = Registration.objects.select_related("organization").get(pk=seats.existing)
            if existing.status != RegistrationStatus.CANCELLED:
                existing.event = event
                return existing

        _check_open(event, staff=staff, now=now)
        invited = invitation is not None and (invitation.event_id, invitation.person_id) == (
            event.pk,
            person.pk,
        )
        if (
            event.visibility == Visibility.MEMBERS
            and not staff
            and person.user_id is None
            and not invited
        ):
            raise RegistrationError(
                _("This event is for members of the network; please sign in."),
                code="not_allowed",
            )
        if event.visibility == Visibility.INVITATION and not staff:
            invited_for = _invited_organization(event, person, organizations, invitation)
            if invited_for is False:
                raise RegistrationError(
                    _("This event is by invitation only, and you have not been invited."),
                    code="not_invited",
                )
            if organization is None and isinstance(invited_for, Organization):
                if invited_for != seat_for:
                    seats = _seats(event, person, invited_for.pk)
                seat_for = invited_for

        registration = existing or Registration(event=event, person=person)
        registration.event = event
        registration.organization = seat_for
        registration.registered_by = by
        registration.confirm_by = None
        registration.substitute_for = None
        ticket = _ticket(event, seats, seat_for.pk if seat_for else None)
        registration.waitlist_number = ticket
        registration.status = (
            RegistrationStatus.CONFIRMED if ticket is None else RegistrationStatus.WAITLISTED
        )
        _save(registration, by, "registered again" if existing else "registered")
        emails.queue_registration(registration, "registered" if ticket is None else "waitlisted")
        if ticket is not None:
            # The newest ticket: behind everyone waiting.
            registration.position = seats.waiting + 1  # type: ignore[attr-defined]
        return registration


# --- Cancel -------------------------------------------------------------------------


def _check_owner(registration: Registration, by: User | None) -> None:
    if by is not None and not _is_staff(by) and registration.person.user_id != by.pk:
        raise RegistrationError(_("This registration is not yours."), code="not_yours")


def registration_cancel(*, registration: Registration, by: Actor = None) -> Registration:
    """Cancel a registration; a freed seat goes to the waiting people, in order.

    After the cancellation deadline (or once the event has started) only staff cancel.
    Cancelling a cancelled registration changes nothing.
    """
    by = _user(by)
    staff = _is_staff(by)
    with transaction.atomic():
        event, registration = _lock_registration(registration)
        _check_owner(registration, by)
        if registration.status == RegistrationStatus.CANCELLED:
            return registration
        now = timezone.now()
        if not staff:
            if registration.status in (RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW):
                raise RegistrationError(
                    _("Attendance has been recorded; it can no longer be cancelled."),
                    code="past",
                )
            if now >= event.start:
                raise RegistrationError(_("This event has already taken place."), code="past")
            if event.cancellation_deadline and now >= event.cancellation_deadline:
                raise RegistrationError(
                    _("The cancellation deadline has passed; please contact the hub team."),
                    code="deadline",
                )
        was_seated = registration.status in SEATED
        registration.status = RegistrationStatus.CANCELLED
        registration.waitlist_number = None
        registration.confirm_by = None
        _save(registration, by, "cancelled")
        by_staff = staff and registration.person.user_id != by.pk  # type: ignore[union-attr]
        emails.queue_registration(registration, "cancelled", reason="staff" if by_staff else "you")
        if was_seated:
            _promote(event, now=now)
        return registration


# --- Substitute ---------------------------------------------------------------------


def registration_substitute(
    *, registration: Registration, person: Person, by: Actor = None
) -> Registration:
    """Give the same seat (or waitlist place), for the same organisation, to a colleague.

    The registration row stays; its person changes and substitute_for names the
    delegate replaced, and the history keeps every step.
    """
    by = _user(by)
    staff = _is_staff(by)
    with transaction.atomic():
        event, registration = _lock_registration(registration)
        if by is not None and not staff and registration.person.user_id != by.pk:
            # A colleague of the same mission may step in for the registered delegate.
            by_person = Person.objects.filter(user=by).first()
            if not (
                by_person is not None
                and registration.organization is not None
                and _is_member(by_person, registration.organization)
            ):
                raise RegistrationError(_("This registration is not yours."), code="not_yours")
        if registration.status not in (
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.WAITLISTED,
        ):
            raise RegistrationError(
                _("Only a confirmed or waiting registration can be handed to a colleague."),
                code="not_allowed",
            )
        if not staff and timezone.now() >= event.start:
            raise RegistrationError(_("This event has already taken place."), code="past")
        if person.pk == registration.person_id:
            return registration
        if not staff and (
            registration.organization is None or not _is_member(person, registration.organization)
        ):
            raise RegistrationError(
                _("The substitute must hold a post at the same organisation."),
                code="not_a_member",
            )
        theirs = Registration.objects.filter(event=event, person=person).first()
        if theirs is not None:
            if theirs.status != RegistrationStatus.CANCELLED:
                raise RegistrationError(
                    _("%(name)s is already registered for this event.") % {"name": person.name},
                    code="already_registered",
                )
            # A cancelled row of theirs would clash with one registration per person;
            # its history stays in the historical table.
            theirs._history_user = by  # type: ignore[attr-defined]
            theirs.delete()
        previous = registration.person
        registration.substitute_for = previous
        registration.person = person
        # The former delegate's links (check-in code, e-mails) stop working.
        registration.token = new_token()
        _save(registration, by, f"substitute for {previous.name}")
        seated = registration.status in SEATED
        emails.queue_registration(registration, "registered" if seated else "waitlisted")
        emails.queue_substituted(registration, previous)
        return registration


# --- Waitlist -----------------------------------------------------------------------


def _promote(
    event: Event, *, now: datetime.datetime, passing_over: int | None = None
) -> list[Registration]:
    """Fill free seats from the waitlist, in ticket order, skipping (without moving)
    those whose organisation is at its quota. The event must be locked.

    `passing_over`: a registration staff have just moved to the waitlist, which must
    not be handed its seat straight back."""
    if event.status != EventStatus.PUBLISHED or now >= event.start:
        return []  # no seat to offer at a cancelled event, or once it has started
    seated = Registration.objects.seated().filter(event=event)
    free = event.capacity - seated.count()
    if free <= 0:
        return []
    quota = event.quota_per_organization
    per_org: Counter[int | None] = Counter(
        seated.exclude(organization=None).values_list("organization_id", flat=True)
    )
    confirm_by = (
        now + datetime.timedelta(hours=event.promotion_hours) if event.promotion_hours else None
    )
    promoted = []
    waiting_list = Registration.objects.waiting().filter(event=event)
    if passing_over is not None:
        waiting_list = waiting_list.exclude(pk=passing_over)
    for waiting in waiting_list.select_for_update():
        if free <= 0:
            break
        org = waiting.organization_id
        if quota is not None and org is not None and per_org[org] >= quota:
            continue
        waiting.status = RegistrationStatus.CONFIRMED
        waiting.waitlist_number = None
        waiting.confirm_by = confirm_by
        _save(waiting, None, "promoted from the waitlist")
        emails.queue_registration(waiting, "promoted")
        per_org[org] += 1
        free -= 1
        promoted.append(waiting)
    return promoted


def registration_promote_waiting(*, event: Event) -> list[Registration]:
    """Offer the free seats to the waiting people, in order, honouring quotas.

    A promoted registration is confirmed with `confirm_by` set: the person confirms
    within the event's promotion_hours or the seat goes to the next one.
    """
    with transaction.atomic():
        return _promote(_lock(event), now=timezone.now())


def registration_confirm_offer(*, registration: Registration, by: Actor = None) -> Registration:
    """The person accepts a seat offered from the waitlist."""
    by = _user(by)
    with transaction.atomic():
        _event, registration = _lock_registration(registration)
        _check_owner(registration, by)
        if registration.status not in SEATED:
            raise RegistrationError(
                _("This offer has expired or the registration was cancelled."), code="expired"
            )
        if registration.confirm_by is not None:
            registration.confirm_by = None
            _save(registration, by, "offer confirmed")
        return registration


def registrations_release_expired_offers(
    *, event: Event | None = None, now: datetime.datetime | None = None
) -> list[Registration]:
    """Cancel the seats offered from the waitlist and not confirmed in time, and offer
    them to the next people. Safe to run twice; one transaction per event."""
    now = now or timezone.now()
    expired = Registration.objects.filter(status=RegistrationStatus.CONFIRMED, confirm_by__lt=now)
    if event is not None:
        expired = expired.filter(event=event)
    released: list[Registration] = []
    for event_id in expired.values_list("event_id", flat=True).distinct().order_by("event_id"):
        with transaction.atomic():
            locked = _lock(Event(pk=event_id))
            for registration in expired.filter(event=locked).select_for_update():
                registration.status = RegistrationStatus.CANCELLED
                registration.confirm_by = None
                _save(registration, None, "offer expired")
                emails.queue_registration(registration, "cancelled", reason="expired")
                released.append(registration)
            _promote(locked, now=now)
    return released


# --- Staff --------------------------------------------------------------------------


MOVABLE = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
    RegistrationStatus.ATTENDED,
    RegistrationStatus.NO_SHOW,
)


def registration_move(*, registration: Registration, status: str, by: Actor) -> Registration:
    """Staff move a person by hand: to the waitlist (at the back), to a seat even over
    capacity or quota (an explicit override), to attended or no-show, or out.

    The history records who moved whom. A seat freed by the move is offered to the
    waiting people.
    """
    by = _user(by)
    if not _is_staff(by):
        raise RegistrationError(_("Only the hub team can move registrations."), code="not_allowed")
    if status not in MOVABLE:
        raise RegistrationError(_("Unknown registration status."), code="not_allowed")
    with transaction.atomic():
        event, registration = _lock_registration(registration)
        if registration.status == status:
            return registration
        was_seated = registration.status in SEATED
        now = timezone.now()
        registration.status = status
        registration.confirm_by = None
        if status == RegistrationStatus.WAITLISTED:
            registration.waitlist_number = _next_waitlist_number(event)
        else:
            registration.waitlist_number = None
        if status == RegistrationStatus.ATTENDED and registration.checked_in_at is None:
            registration.checked_in_at = now
            registration.checked_in_by = by
        _save(registration, by, f"moved to {status} by staff")
        if status == RegistrationStatus.CONFIRMED:
            emails.queue_registration(registration, "registered")
        elif status == RegistrationStatus.WAITLISTED:
            emails.queue_registration(registration, "waitlisted")
        elif status == RegistrationStatus.CANCELLED:
            emails.queue_registration(registration, "cancelled", reason="staff")
        if was_seated and status not in SEATED:
            _promote(event, now=now, passing_over=registration.pk)
        return registration


def _may_check_in(user: User | None, event: Event) -> bool:
    if _is_staff(user):
        return True
    from diplohub.accounts.models import Role

    return bool(
        user is not None
        and user.is_active
        and event.host_id is not None
        and user.organization_id == event.host_id
        and user.has_role(Role.HOST)
    )


def registration_check_in(*, registration: Registration, by: Actor) -> Registration:
    """Record an arrival (staff, or a host at the event's host institution). Twice is once."""
    by = _user(by)
    with transaction.atomic():
        event, registration = _lock_registration(registration)
        if not _may_check_in(by, event):
            raise RegistrationError(
                _("Only the hub team and the host can check people in."), code="not_allowed"
            )
        if registration.status == RegistrationStatus.ATTENDED:
            return registration
        if registration.status not in SEATED:
            raise RegistrationError(
                _("%(name)s has no seat at this event.") % {"name": registration.person.name},
                code="not_seated",
            )
        registration.status = RegistrationStatus.ATTENDED
        registration.confirm_by = None
        registration.checked_in_at = timezone.now()
        registration.checked_in_by = by
        _save(registration, by, "checked in")
        return registration


def registration_mark_no_show(*, registration: Registration, by: Actor) -> Registration:
    return registration_move(registration=registration, status=RegistrationStatus.NO_SHOW, by=by)


def feedback_give(*, registration: Registration, rating: int, comments: str = "") -> Feedback:
    """An attendee's one feedback on an event that has ended; a second time is refused."""
    if not 1 <= rating <= 5:
        raise RegistrationError(_("Please choose a rating from 1 to 5."), code="invalid")
    if len(comments) > 4000:
        raise RegistrationError(
            _("Please keep your comments under 4000 characters."), code="invalid"
        )
    with transaction.atomic():
        event, registration = _lock_registration(registration)
        if registration.status != RegistrationStatus.ATTENDED:
            raise RegistrationError(
                _("Only people who attended the event can give feedback on it."),
                code="not_attended",
            )
        if event.end > timezone.now():
            raise RegistrationError(
                _("You can give feedback once the event has ended."), code="not_ended"
            )
        # The registration row is locked, so two submissions cannot both pass this test.
        if Feedback.objects.filter(registration=registration).exists():
            raise RegistrationError(
                _("You have already given feedback on this event. Thank you."),
                code="already_given",
            )
        return Feedback.objects.create(
            registration=registration, rating=rating, comments=comments.strip()
        )


def registrations_purge_security_notes(
    *, days: int = 1, now: datetime.datetime | None = None
) -> int:
    """Blank the ID-check notes of events that ended more than `days` days ago, in the
    registrations and in their history, so the venue's security data is not kept.
    Returns how many registrations had a note. Safe to run twice."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    with transaction.atomic():
        purged = (
            Registration.objects.filter(event__end__lt=cutoff)
            .exclude(id_check_note="")
            .update(id_check_note="")
        )
        ended = Event.objects.filter(end__lt=cutoff).values("pk")
        Registration.history.filter(event_id__in=ended).exclude(id_check_note="").update(  # type: ignore[attr-defined]
            id_check_note=""
        )
    return purged


# --- The event itself -----------------------------------------------------------------

# A change to one of these is a new version of the event for calendars (SEQUENCE).
CALENDAR_FIELDS = frozenset(
    {"title", "summary", "kind", "start", "end", "venue", "address", "latitude", "longitude"}
)
# A change to one of these is news the registered people are told by e-mail.
NEWS_FIELDS = frozenset({"start", "end", "venue", "address"})


def _base_name(field: str) -> str:
    """'title_es' -> 'title' (modeltranslation's columns count as their field)."""
    base, _sep, suffix = field.rpartition("_")
    return base if base and suffix in dict(settings.LANGUAGES) else field


def event_save(*, event: Event, changed: Iterable[str] = (), by: Actor = None) -> Event:
    """Save an event staff have edited (`changed`: the names of the fields they
    changed), and tell the people concerned.

    1. A change calendars show (title, time, place, status) bumps SEQUENCE, so
       calendar programs replace their copy.
    2. A new time or place of a published, upcoming event is e-mailed to everyone
       holding a seat or waiting, with the updated calendar file.
    3. Cancelling the event tells the same people, with a calendar file that marks
       it cancelled. Their registrations stay as they are, for the record.
    """
    by = _user(by)
    changed = {_base_name(name) for name in changed}
    with transaction.atomic():
        is_new = event.pk is None
        before = None if is_new else Event.objects.select_for_update().get(pk=event.pk)
        if before is not None and (changed & CALENDAR_FIELDS or "status" in changed):
            event.sequence = before.sequence + 1
        event._history_user = by  # type: ignore[attr-defined]
        event.save()
        if before is None or event.is_past:
            return event
        concerned = (
            Registration.objects.filter(
                event=event,
                status__in=(RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED),
            )
            .select_related("person__user")
            .order_by("pk")
        )
        became_cancelled = (
            before.status != EventStatus.CANCELLED and event.status == EventStatus.CANCELLED
        )
        if became_cancelled:
            emails.queue_event_news(event, "event_cancelled", concerned)
        elif event.status == EventStatus.PUBLISHED and changed & NEWS_FIELDS:
            emails.queue_event_news(event, "event_changed", concerned)
        return event


# --- Invitations ----------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationsSent:
    invited: list[Invitation]
    already_invited: list[Person]
    without_address: list[Person]
    # They withdrew their consent to event communications (the consent ledger).
    no_event_mail: list[Person]


def _check_staff(by: User | None) -> None:
    if not _is_staff(by):
        raise RegistrationError(_("Only the hub team can send invitations."), code="not_allowed")


def _check_inviting(event: Event) -> None:
    if event.status != EventStatus.PUBLISHED:
        raise RegistrationError(_("Publish the event before inviting people to it."), code="closed")
    if event.is_past or timezone.now() >= event.start:
        raise RegistrationError(_("This event has already taken place."), code="past")


def invitations_send(*, event: Event, people: Iterable[Person], by: Actor) -> InvitationsSent:
    """Invite people to an event, each by a personal e-mail with a link to answer.

    People already invited are not invited twice; people the hub has no address for,
    and people who withdrew their consent to event communications, are left out. All
    three are reported, so staff can see who and why.
    """
    by = _user(by)
    _check_staff(by)
    people = list({person.pk: person for person in people}.values())
    with transaction.atomic():
        event = _lock(event)
        _check_inviting(event)
        already = set(
            Invitation.objects.filter(event=event, person__in=people).values_list(
                "person_id", flat=True
            )
        )
        now = timezone.now()
        invited, repeated, unreachable, unwilling = [], [], [], []
        for person in people:
            address = emails.address_of(person)
            if person.pk in already:
                repeated.append(person)
                continue
            if not address:
                unreachable.append(person)
                continue
            if Consent.objects.standing(email=address, purpose=Purpose.EVENTS) is False:
                unwilling.append(person)
                continue
            organizations = current_organizations(person)
            invitation = Invitation.objects.create(
                event=event,
                person=person,
                organization=organizations[0] if organizations else None,
                invited_by=by,
                sent_at=now,
            )
            emails.queue_invitation(invitation)
            invited.append(invitation)
        return InvitationsSent(invited, repeated, unreachable, unwilling)


REMINDER_GAP = datetime.timedelta(hours=12)


def invitations_remind(*, event: Event, by: Actor) -> tuple[int, int]:
    """Remind the invited people who have not answered; nobody twice within 12 hours
    (a button pressed twice sends one reminder). Returns (reminded, reminded lately)."""
    by = _user(by)
    _check_staff(by)
    with transaction.atomic():
        event = _lock(event)
        _check_inviting(event)
        now = timezone.now()
        waiting = Invitation.objects.filter(event=event, status=InvitationStatus.INVITED)
        recent = waiting.filter(reminded_at__gte=now - REMINDER_GAP).count()
        due = list(
            waiting.filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=now - REMINDER_GAP))
            .select_related("person__user")
            .order_by("pk")
        )
        for invitation in due:
            emails.queue_invitation(invitation, reminder=True)
        Invitation.objects.filter(pk__in=[i.pk for i in due]).update(reminded_at=now)
        return len(due), recent


def invitation_decline(*, invitation: Invitation) -> Invitation:
    """The invited person says they cannot come (from the link in their invitation)."""
    with transaction.atomic():
        _lock(invitation.event)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        active = (
            Registration.objects.filter(
                event_id=invitation.event_id, person_id=invitation.person_id
            )
            .exclude(status=RegistrationStatus.CANCELLED)
            .exists()
        )
        if active:
            raise RegistrationError(
                _("You are registered for this event; cancel your registration instead."),
                code="already_registered",
            )
        if invitation.status != InvitationStatus.DECLINED:
            invitation.status = InvitationStatus.DECLINED
            invitation.answered_at = timezone.now()
            invitation.save(update_fields=["status", "answered_at"])
        return invitation


def invitation_accept(*, invitation: Invitation) -> Registration:
    """The invited person registers through the link in their invitation; the link
    stands for them, so no password is needed."""
    return registration_create(
        event=invitation.event, person=invitation.person, invitation=invitation
    )


def invitation_send_colleague(*, invitation: Invitation, colleague: Person) -> Registration:
    """The invited person cannot come and names a colleague of the organisation they
    were invited for, who is registered (and e-mailed) in their place."""
    if invitation.organization is None or not _is_member(colleague, invitation.organization):
        raise RegistrationError(
            _("The substitute must hold a post at the same organisation."), code="not_a_member"
        )
    with transaction.atomic():
        registration = registration_create(
            event=invitation.event,
            person=colleague,
            organization=invitation.organization,
            invitation=invitation,
        )
        Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.INVITED).update(
            status=InvitationStatus.REGISTERED, answered_at=timezone.now()
        )
        return registration


def registrations_remind_upcoming(
    *, now: datetime.datetime | None = None, hours: int | None = None
) -> int:
    """E-mail the people holding a seat a reminder, with their QR code and the calendar
    file, once the event is less than `hours` away (DIPLOHUB_EVENT_REMINDER_HOURS).
    Each registration is reminded once, however often this runs (a housekeeping job);
    one made in the last hour is left alone for now, its confirmation being fresh.
    Returns how many were queued."""
    now = now or timezone.now()
    hours = settings.EVENT_REMINDER_HOURS if hours is None else hours
    if hours <= 0:
        return 0
    soon = (
        Registration.objects.filter(
            status=RegistrationStatus.CONFIRMED,
            event__status=EventStatus.PUBLISHED,
            event__start__gt=now,
            event__start__lte=now + datetime.timedelta(hours=hours),
            created_at__lt=now - datetime.timedelta(hours=1),
        )
        .select_related("person__user", "event")
        .order_by("pk")
    )
    queued = 0
    for registration in soon:
        with transaction.atomic():
            queued += emails.queue_reminder(registration)
    return queued
