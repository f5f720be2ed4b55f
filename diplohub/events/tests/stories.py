"""The programme the page, calendar and feed tests tell their stories about.

Around the cast in conftest.py: a published public visit to Hugo's research centre in
the "Diplomatic Circle" series (its 3rd edition) co-organised with Japan's consulate,
a members-only briefing, an invitation-only encounter Kenji is invited to, a cancelled
thematic event, a past visit and a draft.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from diplohub.directory.models import Person
from diplohub.events.models import AgendaItem, Event, EventStatus, Invitation, Series, Visibility

MADRID = ZoneInfo("Europe/Madrid")


@dataclass
class Programme:
    visit: Event
    briefing: Event
    encounter: Event
    cancelled: Event
    past: Event
    draft: Event


def local(days: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A time `days` from today at hour:minute, Madrid time (the demo hub's zone)."""
    day = timezone.now().astimezone(MADRID).date() + datetime.timedelta(days=days)
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=MADRID)


def make_event(slug: str, *, days: int = 20, hours: int = 3, **fields) -> Event:  # type: ignore[no-untyped-def]
    start = fields.pop("start", None) or local(days, 10)
    values = {
        "kind": "visit",
        "title_en": slug.replace("-", " ").capitalize(),
        "slug": slug,
        "start": start,
        "end": start + datetime.timedelta(hours=hours),
        "status": EventStatus.PUBLISHED,
        "visibility": Visibility.PUBLIC,
        "capacity": 30,
        "quota_per_organization": 2,
    }
    values.update(fields)
    return Event.objects.create(**values)


def ensure_catalogues() -> None:
    """Compile the Spanish and Catalan catalogues if they are missing or stale, as
    `make test` does, so these tests also run on their own after a .po change."""
    from django.conf import settings
    from django.test import override_settings

    from diplohub.web.tests.test_translations import LANGUAGES, _compile_if_stale, _po_path

    if any([_compile_if_stale(_po_path(language)) for language in LANGUAGES]):
        with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
            pass  # makes Django drop the catalogues it has loaded


def build_programme(cast) -> Programme:  # type: ignore[no-untyped-def]
    ensure_catalogues()
    circle = Series.objects.create(
        slug="diplomatic-circle",
        name_en="Diplomatic Circle",
        name_es="Círculo Diplomático",
        name_ca="Cercle Diplomàtic",
    )
    visit = make_event(
        "visit-supercomputer",
        title_en="Visit to the supercomputing centre",
        title_es="Visita al centro de supercomputación",
        title_ca="Visita al centre de supercomputació",
        summary_en="A tour of the machine room and a briefing on AI for science.",
        description_en="**Welcome** by the director.\n\n<script>alert('x')</script>",
        practical_notes_en="Bring an *identity document*: there is a security check.",
        series=circle,
        edition=3,
        host=cast.centre,
        venue="Example Supercomputing Centre, Chapel building",
        address="Plaça Eusebi Güell 1-3, 08034",
        latitude=Decimal("41.389000"),
        longitude=Decimal("2.116000"),
        languages=["en", "es"],
        start=local(20, 10),
    )
    visit.co_organisers.add(cast.japan)
    hugo = Person.objects.create(
        given_name="Hugo", family_name="Host-Example", honorific_prefix="Dr.", user=cast.host
    )
    welcome = AgendaItem.objects.create(
        event=visit,
        starts_at=datetime.time(10, 0),
        ends_at=datetime.time(10, 30),
        title_en="Welcome and overview",
    )
    welcome.speakers.add(hugo)
    AgendaItem.objects.create(
        event=visit, starts_at=datetime.time(10, 30), title_en="Tour of the machine room"
    )
    briefing = make_event(
        "members-briefing",
        kind="briefing",
        title_en="Briefing on the science budget",
        visibility=Visibility.MEMBERS,
        days=25,
    )
    encounter = make_event(
        "private-encounter",
        kind="encounter",
        title_en="Encounter with the rectors",
        visibility=Visibility.INVITATION,
        days=30,
    )
    Invitation.objects.create(event=encounter, person=cast.consul.person, organization=cast.japan)
    cancelled = make_event(
        "cancelled-forum",
        kind="thematic",
        title_en="Forum on health data",
        status=EventStatus.CANCELLED,
        days=40,
        sequence=2,
    )
    past = make_event("last-years-visit", title_en="Visit to the synchrotron", days=-60)
    draft = make_event("draft-visit", title_en="Secret draft visit", status=EventStatus.DRAFT)
    return Programme(visit, briefing, encounter, cancelled, past, draft)
