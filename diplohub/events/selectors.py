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
