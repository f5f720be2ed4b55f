"""Who may see which events, and the figures a page shows about one (reads, no writes).

The same rules serve the pages, the calendars and the feeds:

- public events: everyone;
- members-only events: signed-in members, hosts and staff;
- invitation-only events: staff, and people invited to the event or registered for it
  (a mission's substitute is registered without an invitation of their own);
- drafts: staff only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from diplohub.accounts.models import Role
from diplohub.directory.models import Person
from diplohub.events.models import (
    Event,
    EventQuerySet,
    EventStatus,
    Registration,
    Visibility,
)


def person_of(user: Any) -> Person | None:
    if not user.is_authenticated:
        return None
    return Person.objects.filter(user=user).first()


def events_visible_to(user: Any, *, drafts: bool = False) -> EventQuerySet:
    """The events `user` may see; drafts too for staff when `drafts` is set."""
    events = Event.objects.all()
    if user.is_authenticated and user.is_hub_staff:
        return events if drafts else events.published()
    events = events.published()
    allowed = Q(visibility=Visibility.PUBLIC)
    if user.is_authenticated and (user.has_role(Role.MEMBER) or user.has_role(Role.HOST)):
        allowed |= Q(visibility=Visibility.MEMBERS)
    person = person_of(user)
    if person is not None:
        invited = Q(invitations__person=person) | Q(registrations__person=person)
        allowed |= Q(visibility=Visibility.INVITATION) & Q(
            pk__in=Event.objects.filter(invited).values("pk")
        )
    return events.filter(allowed)


@dataclass(frozen=True)
class Seats:
    capacity: int
    taken: int
    waiting: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def full(self) -> bool:
        return self.left == 0


def seats_of(event: Event) -> Seats:
    registrations = Registration.objects.filter(event=event)
    return Seats(
        capacity=event.capacity,
        taken=registrations.seated().count(),
        waiting=registrations.waiting().count(),
    )


def is_draft(event: Event) -> bool:
    return event.status == EventStatus.DRAFT


# The event report ------------------------------------------------------------------

FIGURE_STATUSES = ("confirmed", "attended", "no_show", "cancelled", "waitlisted")


@dataclass
class Figures:
    """Registrations of one group by status."""

    label: str
    confirmed: int = 0
    attended: int = 0
    no_show: int = 0
    cancelled: int = 0
    waitlisted: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


@dataclass
class Report:
    overall: Figures
    by_kind: list[Figures]
    by_region: list[Figures]
    attendees: list[Registration]
    missions: list[Any]
    countries: list[Any]
    feedback: list[Any]
    rating_average: float | None

    @property
    def overall_rows(self) -> list[Figures]:
        return [self.overall]


def event_report(event: Event) -> Report:
    """Who came, from where, the figures by status and group, and the feedback.

    Two queries whatever the size of the event: the registrations with their person,
    organisation and feedback, then nothing else (grouping is done here)."""
    from django.utils.translation import gettext as _

    from diplohub.directory.regions import region_of

    registrations = list(
        Registration.objects.filter(event=event)
        .select_related("person", "organization", "feedback")
        .order_by("organization__name", "person__family_name", "person__given_name", "pk")
    )
    overall = Figures(label=_("All registrations"))
    kinds: dict[str, Figures] = {}
    regions: dict[str, Figures] = {}
    for registration in registrations:
        status = registration.status
        overall.add(status)
        organization = registration.organization
        kind = organization.get_kind_display() if organization else _("No organisation")
        kinds.setdefault(str(kind), Figures(label=str(kind))).add(status)
        region = (
            region_of(organization.country.code) if organization and organization.country else None
        )
        region_label = str(region.label) if region else _("Unknown region")
        regions.setdefault(region_label, Figures(label=region_label)).add(status)
    attendees = [r for r in registrations if r.status == "attended"]
    missions = list(
        {r.organization_id: r.organization for r in attendees if r.organization}.values()
    )
    countries = sorted(
        {m.country.code: m.country for m in missions if m.country}.values(), key=lambda c: c.name
    )
    feedback = [r.feedback for r in registrations if has_feedback(r)]
    average = sum(f.rating for f in feedback) / len(feedback) if feedback else None
    return Report(
        overall=overall,
        by_kind=sorted(kinds.values(), key=lambda f: f.label),
        by_region=sorted(regions.values(), key=lambda f: f.label),
        attendees=attendees,
        missions=missions,
        countries=countries,
        feedback=sorted(feedback, key=lambda f: f.created_at),
        rating_average=average,
    )


def has_feedback(registration: Registration) -> bool:
    try:
        registration.feedback  # noqa: B018
    except Registration.feedback.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return False
    return True
