"""The programme's e-mails: who gets which message, in which language, saying what.

The services call the `queue_*` functions inside their transaction, so a message is
queued exactly when its change is committed. The renderers below build each message
when a worker sends it, from the rows as they are then, in the recipient's language;
a message that no longer fits (a confirmation for a registration cancelled since) is
not sent.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import segno
from django.conf import settings
from django.urls import reverse

from diplohub.directory.models import Person
from diplohub.events import calendars
from diplohub.events.models import (
    SEATED,
    Event,
    EventStatus,
    Invitation,
    InvitationStatus,
    Registration,
    RegistrationStatus,
)
from diplohub.mailing.models import OutboundEmail
from diplohub.mailing.services import Attachment, Rendered, email_enqueue, render_email, renderer

# --- Who, in which language ------------------------------------------------------


def address_of(person: Person) -> str:
    if person.email:
        return person.email
    user = person.user if person.user_id else None
    return user.email if user is not None else ""


def language_of(person: Person) -> str:
    """The language a person reads the hub in: their account's, else the first
    language of theirs the hub speaks, else the hub's default."""
    spoken = {code for code, _name in settings.LANGUAGES}
    user = person.user if person.user_id else None
    if user is not None and user.language in spoken:
        return str(user.language)
    for code in person.languages or []:
        if code in spoken:
            return str(code)
    return str(settings.LANGUAGE_CODE)


def _queue(kind: str, person: Person, key: str = "", **params: Any) -> OutboundEmail | None:
    return email_enqueue(
        kind=f"events.{kind}",
        to=address_of(person),
        language=language_of(person),
        params={"person": person.pk, **params},
        key=key,
    )


# --- Queueing, called by the services ---------------------------------------------


def queue_registration(registration: Registration, kind: str, **params: Any) -> None:
    """registered, waitlisted, promoted, cancelled (with a `reason`), substituted."""
    _queue(kind, registration.person, registration=registration.pk, **params)


def queue_invitation(invitation: Invitation, *, reminder: bool = False, key: str = "") -> None:
    kind = "invitation_reminder" if reminder else "invitation"
    _queue(kind, invitation.person, key=key, invitation=invitation.pk)


def queue_event_news(event: Event, kind: str, registrations: Iterable[Registration]) -> int:
    """event_changed or event_cancelled, to each of `registrations`; how many queued."""
    count = 0
    for registration in registrations:
        if _queue(kind, registration.person, registration=registration.pk, sequence=event.sequence):
            count += 1
    return count


# --- Building blocks ----------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def registration_url(registration: Registration) -> str:
    return _absolute(reverse("events:registration", kwargs={"token": registration.token}))


def invitation_url(invitation: Invitation) -> str:
    return _absolute(reverse("events:invitation", kwargs={"token": invitation.token}))


def check_in_qr_png(registration: Registration) -> bytes:
    """The check-in code as a QR code: the registration page's address, which ends
    with the code the check-in screen reads."""
    buffer = io.BytesIO()
    segno.make(registration_url(registration), error="m").save(
        buffer, kind="png", scale=6, border=2
    )
    return buffer.getvalue()


def _calendar(event: Event, *, tentative: bool = False) -> Attachment:
    name = f"{settings.HUB_CIRCLE_NAME}: {event.title}"
    calendar = calendars.calendar_of(
        [event], None, name=name, tentative=frozenset({event.pk}) if tentative else frozenset()
    )
    return Attachment(f"{event.slug}.ics", calendar.to_ical(), "text/calendar; charset=utf-8")


def _context(event: Event, person: Person, **extra: Any) -> dict[str, Any]:
    return {
        "event": event,
        "event_url": _absolute(event.get_absolute_url()),
        "person": person,
        "name": person.public_name,
        "place": ", ".join(part for part in (event.venue, event.address) if part),
        "hub_name": settings.HUB_NAME,
        "contact_email": settings.HUB_CONTACT_EMAIL,
        **extra,
    }


def _registration(email: OutboundEmail) -> Registration | None:
    """The registration a message is about, if it still belongs to its recipient."""
    registration = (
        Registration.objects.select_related(
            "event__series", "event__host", "person", "organization"
        )
        .filter(pk=email.params.get("registration"))
        .first()
    )
    if registration is None or registration.person_id != email.params.get("person"):
        return None
    return registration


def _render(kind: str, context: dict[str, Any], **kwargs: Any) -> Rendered:
    recipient = address_of(context["person"])
    return render_email(f"events/email/{kind}.html", context, recipient_email=recipient, **kwargs)


# --- Renderers ----------------------------------------------------------------------


@renderer("events.registered")
def _registered(email: OutboundEmail) -> Rendered | None:
    registration = _registration(email)
    if registration is None or registration.status not in SEATED:
        return None
    event = registration.event
    qr = Attachment("check-in.png", check_in_qr_png(registration), "image/png", "check-in-qr")
    context = _context(
        event,
        registration.person,
        registration=registration,
        registration_url=registration_url(registration),
        substitute=registration.substitute_for,
    )
    return _render("registered", context, attachments=[qr, _calendar(event)])


@renderer("events.waitlisted")
def _waitlisted(email: OutboundEmail) -> Rendered | None:
    from diplohub.events.services import registration_waitlist_position

    registration = _registration(email)
    if registration is None or registration.status != RegistrationStatus.WAITLISTED:
        return None
    context = _context(
        registration.event,
        registration.person,
        registration=registration,
        registration_url=registration_url(registration),
        position=registration_waitlist_position(registration=registration),
    )
    return _render("waitlisted", context)


@renderer("events.promoted")
def _promoted(email: OutboundEmail) -> Rendered | None:
    registration = _registration(email)
    if registration is None or registration.status not in SEATED:
        return None
    event = registration.event
    qr = Attachment("check-in.png", check_in_qr_png(registration), "image/png", "check-in-qr")
    context = _context(
        event,
        registration.person,
        registration=registration,
        registration_url=registration_url(registration),
    )
    return _render("promoted", context, attachments=[qr, _calendar(event)])


@renderer("events.cancelled")
def _cancelled(email: OutboundEmail) -> Rendered | None:
    registration = _registration(email)
    if registration is None or registration.status != RegistrationStatus.CANCELLED:
        return None
    context = _context(
        registration.event, registration.person, reason=email.params.get("reason", "")
    )
    return _render("cancelled", context)


@renderer("events.substituted")
def _substituted(email: OutboundEmail) -> Rendered | None:
    """To the delegate whose seat went to a colleague."""
    registration = (
        Registration.objects.select_related("event", "person")
        .filter(pk=email.params.get("registration"))
        .first()
    )
    former = Person.objects.filter(pk=email.params.get("person")).first()
    if registration is None or former is None or registration.person_id == former.pk:
        return None
    context = _context(registration.event, former, substitute=registration.person)
    return _render("substituted", context)


def _event_news(email: OutboundEmail) -> tuple[Registration, dict[str, Any]] | None:
    registration = _registration(email)
    if registration is None or registration.status not in (*SEATED, RegistrationStatus.WAITLISTED):
        return None
    if registration.event.sequence != email.params.get("sequence"):
        return None  # changed again since: the later message tells the whole news
    context = _context(
        registration.event,
        registration.person,
        registration=registration,
        registration_url=registration_url(registration),
    )
    return registration, context


@renderer("events.event_changed")
def _event_changed(email: OutboundEmail) -> Rendered | None:
    news = _event_news(email)
    if news is None or news[0].event.status == EventStatus.CANCELLED:
        return None
    registration, context = news
    tentative = registration.status == RegistrationStatus.WAITLISTED
    return _render(
        "event_changed", context, attachments=[_calendar(registration.event, tentative=tentative)]
    )


@renderer("events.event_cancelled")
def _event_cancelled(email: OutboundEmail) -> Rendered | None:
    news = _event_news(email)
    if news is None or news[0].event.status != EventStatus.CANCELLED:
        return None
    registration, context = news
    return _render("event_cancelled", context, attachments=[_calendar(registration.event)])


def _invitation(email: OutboundEmail) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("event__series", "event__host", "person", "organization")
        .filter(pk=email.params.get("invitation"))
        .first()
    )
    if invitation is None or invitation.person_id != email.params.get("person"):
        return None
    if invitation.event.status != EventStatus.PUBLISHED or invitation.event.is_past:
        return None
    return invitation


@renderer("events.invitation")
def _invited(email: OutboundEmail) -> Rendered | None:
    invitation = _invitation(email)
    if invitation is None:
        return None
    context = _context(
        invitation.event,
        invitation.person,
        invitation=invitation,
        invitation_url=invitation_url(invitation),
    )
    return _render("invitation", context)


@renderer("events.invitation_reminder")
def _reminded(email: OutboundEmail) -> Rendered | None:
    invitation = _invitation(email)
    if invitation is None or invitation.status != InvitationStatus.INVITED:
        return None
    context = _context(
        invitation.event,
        invitation.person,
        invitation=invitation,
        invitation_url=invitation_url(invitation),
        reminder=True,
    )
    return _render("invitation", context)


def queue_substituted(registration: Registration, former: Person) -> None:
    _queue("substituted", former, registration=registration.pk)


def queue_reminder(registration: Registration) -> int:
    """The reminder before the event, once per registration (its key says so); 1 if
    this call queued it."""
    key = f"events.event_reminder:{registration.pk}"
    if OutboundEmail.objects.filter(key=key).exists():
        return 0
    _queue("event_reminder", registration.person, key=key, registration=registration.pk)
    return 1


@renderer("events.event_reminder")
def _event_reminder(email: OutboundEmail) -> Rendered | None:
    registration = _registration(email)
    if registration is None or registration.status not in SEATED:
        return None
    event = registration.event
    if event.status != EventStatus.PUBLISHED or event.is_past:
        return None
    qr = Attachment("check-in.png", check_in_qr_png(registration), "image/png", "check-in-qr")
    context = _context(
        event,
        registration.person,
        registration=registration,
        registration_url=registration_url(registration),
    )
    return _render("event_reminder", context, attachments=[qr, _calendar(event)])
