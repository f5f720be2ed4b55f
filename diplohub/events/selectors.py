"""Who may see which events, and the figures a page shows about one (reads, no writes).

The same rules serve the pages, the calendars and the feeds:

- public events: everyone;
- members-only events: signed-in members, hosts and staff;
- invitation-only events: staff, and people invited to the event or registered for it
  (a mission's substitute is registered without an invitation of their own);
- drafts: staff only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from diplohub.accounts.models import Role
from diplohub.directory.models import Membership, Organization, Person, Post
from diplohub.directory.regions import countries_in_region
from diplohub.events import protocol
from diplohub.events.models import (
    SEATED,
    Event,
    EventQuerySet,
    EventStatus,
    Invitation,
    InvitationStatus,
    Registration,
    RegistrationStatus,
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


# Protocol outputs: the attendee list, the badges, the order of precedence -----------

# Badges and the order of precedence are for the people expected or present.
PRESENT = (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED)


@dataclass(frozen=True)
class AttendeeCounts:
    capacity: int
    confirmed: int
    attended: int
    no_show: int
    cancelled: int
    waitlisted: int

    @property
    def seated(self) -> int:
        return self.confirmed + self.attended + self.no_show

    @property
    def left(self) -> int:
        return max(self.capacity - self.seated, 0)


def attendee_counts(event: Event) -> AttendeeCounts:
    figures = Registration.objects.filter(event=event).aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in FIGURE_STATUSES}
    )
    return AttendeeCounts(capacity=event.capacity, **figures)


@dataclass(frozen=True)
class AttendeeRow:
    """A registration with the post its person holds at the seat's organisation;
    `position` on the waitlist (1 is next), `by_staff` when the hub team registered
    the person on their behalf."""

    registration: Registration
    post: Post | None
    position: int | None = None
    by_staff: bool = False


@dataclass(frozen=True)
class AttendeeList:
    seated: list[AttendeeRow]
    waiting: list[AttendeeRow]
    cancelled: list[AttendeeRow]

    @property
    def groups(self) -> list[tuple[str, list[AttendeeRow]]]:
        return [("seated", self.seated), ("waiting", self.waiting), ("cancelled", self.cancelled)]


def current_posts(person_ids: set[int]) -> dict[int, list[Post]]:
    """The posts each of these people holds today, by person id (one query)."""
    tenures = (
        Membership.objects.current()
        .filter(person_id__in=person_ids)
        .select_related("post__organization")
        .order_by("post__position", "post__pk", "pk")
    )
    posts: dict[int, list[Post]] = {}
    for tenure in tenures:
        posts.setdefault(tenure.person_id, []).append(tenure.post)
    return posts


def _registrations(event: Event, statuses: tuple[str, ...] | None = None) -> list[Registration]:
    registrations = Registration.objects.filter(event=event).select_related(
        "person", "organization", "substitute_for", "registered_by"
    )
    if statuses is not None:
        registrations = registrations.filter(status__in=statuses)
    return list(registrations.prefetch_related("registered_by__groups").order_by("pk"))


def _registered_by_staff(registration: Registration) -> bool:
    by = registration.registered_by
    return by is not None and by.pk != registration.person.user_id and by.is_hub_staff


def attendee_list(event: Event) -> AttendeeList:
    """Everyone registered, by group: the seated (confirmed, attended, no-show) and the
    cancelled by name, the waitlist in order. Four queries however many people."""
    registrations = _registrations(event)
    posts = current_posts({r.person_id for r in registrations})

    def row(registration: Registration, position: int | None = None) -> AttendeeRow:
        return AttendeeRow(
            registration=registration,
            post=protocol.post_at(posts.get(registration.person_id, ()), registration.organization),
            position=position,
            by_staff=_registered_by_staff(registration),
        )

    def by_name(registration: Registration) -> tuple[str, str, int]:
        return protocol.name_key(registration.person)

    seated = sorted((r for r in registrations if r.status in SEATED), key=by_name)
    waiting = sorted(
        (r for r in registrations if r.status == RegistrationStatus.WAITLISTED),
        key=lambda r: r.waitlist_number or 0,
    )
    cancelled = sorted(
        (r for r in registrations if r.status == RegistrationStatus.CANCELLED), key=by_name
    )
    return AttendeeList(
        seated=[row(r) for r in seated],
        # Every waiting registration is here, so ranks are the positions people are told.
        waiting=[row(r, position) for position, r in enumerate(waiting, start=1)],
        cancelled=[row(r) for r in cancelled],
    )


def badge_list(event: Event) -> list[AttendeeRow]:
    """The people expected or present, by name, with their posts: one badge each."""
    registrations = sorted(
        _registrations(event, PRESENT), key=lambda r: protocol.name_key(r.person)
    )
    posts = current_posts({r.person_id for r in registrations})
    return [
        AttendeeRow(
            registration=r,
            post=protocol.post_at(posts.get(r.person_id, ()), r.organization),
        )
        for r in registrations
    ]


def precedence_list(event: Event) -> list[protocol.Attendee]:
    """The people expected or present, numbered in order of precedence."""
    registrations = _registrations(event, PRESENT)
    return protocol.order_of_precedence(
        registrations, current_posts({r.person_id for r in registrations})
    )


@dataclass(frozen=True)
class Candidate:
    """A person found in the directory, their current posts and their registration
    for the event, if any."""

    person: Person
    posts: list[Post]
    registration: Registration | None

    @property
    def is_registered(self) -> bool:
        return (
            self.registration is not None
            and self.registration.status != RegistrationStatus.CANCELLED
        )


def people_to_register(event: Event, text: str, *, limit: int = 20) -> list[Candidate]:
    """People in the directory whose names (or e-mail) match every word of `text`."""
    if len(text.strip()) < 2:
        return []
    people = list(Person.objects.search(text).order_by("family_name", "given_name", "pk")[:limit])
    ids = {person.pk for person in people}
    posts = current_posts(ids)
    registrations = {
        r.person_id: r for r in Registration.objects.filter(event=event, person_id__in=ids)
    }
    return [
        Candidate(
            person=person,
            posts=posts.get(person.pk, []),
            registration=registrations.get(person.pk),
        )
        for person in people
    ]


# --- Audiences for invitations -------------------------------------------------------


@dataclass(frozen=True)
class Invitee:
    """One person an invitation would reach, with the post that put them in it."""

    person: Person
    post: Post | None
    organization: Organization | None
    has_address: bool
    invited: bool


def audience(
    *,
    event: Event,
    kinds: Iterable[str] = (),
    regions: Iterable[str] = (),
    countries: Iterable[str] = (),
    topics: Iterable[Any] = (),
    roles: Iterable[str] = (),
    organizations: Iterable[Organization] = (),
    people: Iterable[Person] = (),
) -> list[Invitee]:
    """The people a segment reaches: everyone holding a post today at an organisation
    of the chosen kinds AND regions AND countries AND topics (any of each), plus
    everyone at the named organisations, narrowed to the chosen roles; plus the
    named people. No criteria, nobody (never the whole directory by accident)."""
    kinds, regions, countries = list(kinds), list(regions), list(countries)
    topics, roles = list(topics), list(roles)
    organizations, people = list(organizations), list(people)
    segment = Q()
    if regions:
        codes = {code for region in regions for code in countries_in_region(region)}
        segment &= Q(post__organization__country__in=sorted(codes))
    if kinds:
        segment &= Q(post__organization__kind__in=kinds)
    if countries:
        segment &= Q(post__organization__country__in=countries)
    if topics:
        segment &= Q(
            post__organization__in=Organization.objects.filter(topics__in=topics).values("pk")
        )
    reach = Q(pk__in=[])
    if kinds or regions or countries or topics or (roles and not organizations):
        reach |= segment
    if organizations:
        reach |= Q(post__organization__in=organizations)
    if roles:
        reach &= Q(post__role__in=roles)
    if people:
        reach |= Q(person__in=people)
    tenures = (
        Membership.objects.current()
        .filter(reach)
        .select_related("person__user", "post__organization")
        .order_by("post__organization__sort_name", "post__position", "person__family_name", "pk")
    )
    invited = set(Invitation.objects.filter(event=event).values_list("person_id", flat=True))
    found: dict[int, Invitee] = {}
    for tenure in tenures:
        person = tenure.person
        if person.pk not in found:
            found[person.pk] = _invitee(person, tenure.post, invited)
    # Named people with no post today still receive it.
    for person in Person.objects.filter(pk__in=[p.pk for p in people]).select_related("user"):
        if person.pk not in found:
            found[person.pk] = _invitee(person, None, invited)
    return list(found.values())


def _invitee(person: Person, post: Post | None, invited: set[int]) -> Invitee:
    address = person.email or (person.user.email if person.user_id else "")
    return Invitee(
        person=person,
        post=post,
        organization=post.organization if post is not None else None,
        has_address=bool(address),
        invited=person.pk in invited,
    )


@dataclass(frozen=True)
class InvitationCounts:
    invited: int
    registered: int
    declined: int
    no_answer: int


def invitation_counts(event: Event) -> InvitationCounts:
    counts = Invitation.objects.filter(event=event).aggregate(
        invited=Count("pk"),
        registered=Count("pk", filter=Q(status=InvitationStatus.REGISTERED)),
        declined=Count("pk", filter=Q(status=InvitationStatus.DECLINED)),
        no_answer=Count("pk", filter=Q(status=InvitationStatus.INVITED)),
    )
    return InvitationCounts(**counts)
