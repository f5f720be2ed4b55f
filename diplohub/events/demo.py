"""The demo programme, built from data/demo_events.json after the demo directory.

Nothing about the demo city lives here: the data file names the series, the events,
their hosts, venues and agendas, in every content language.

The one part of the demo that is not the same on every build is the dates. A demo
hub needs upcoming events to register for, and "past" is derived from the clock, so
fixed dates would slowly turn the whole programme into history. The data file gives
each event a week relative to the week the demo is built and a weekday, with local
times in the hub's time zone; the programme therefore always looks the same, seen
from the day it was built. Everything else (texts, hosts, agendas, who registered,
in which order) comes from the files alone.

build_demo_events() works in steps, inside the caller's transaction:

1. series;
2. events (dates from the build week), their co-organisers and agendas, speakers
   being the current holders of named posts in the directory;
3. invitations for invitation-only events, to the first heads of consular posts in
   order of precedence;
4. registrations through services.registration_create() for upcoming events (so seats,
   quotas and the waitlist follow the real rules), and attended seats for past ones.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from diplohub.directory.models import Membership, Organization, Person
from diplohub.events import services
from diplohub.events.models import (
    AgendaItem,
    CalendarFeed,
    Event,
    Invitation,
    Registration,
    RegistrationStatus,
    Series,
)
from diplohub.mailing.models import OutboundEmail
from diplohub.mailing.services import no_mail

DATA_FILE = Path(__file__).resolve().parent / "data" / "demo_events.json"


class DemoEventsError(ValueError):
    """The events data file disagrees with itself or with the demo directory."""


def reset_demo_events() -> None:
    """Delete the programme (events, registrations, their history, personal feeds)."""
    for model in (Registration, Invitation, AgendaItem, Event, Series, CalendarFeed):
        model.objects.all().delete()
    for model in (Registration, Event):
        model.history.model.objects.all().delete()  # type: ignore[attr-defined]
    OutboundEmail.objects.filter(kind__startswith="events.").delete()


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _translated(name: str, texts: dict[str, str]) -> dict[str, str]:
    return {f"{name}_{lang}": texts.get(lang, "") for lang in _languages()}


def _time(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def _organization(slug: str) -> Organization:
    try:
        return Organization.objects.get(slug=slug)
    except Organization.DoesNotExist:
        raise DemoEventsError(f"No organisation {slug!r} in the demo directory.") from None


def _speaker(ref: dict[str, str]) -> Person:
    tenure = (
        Membership.objects.current()
        .filter(post__organization__slug=ref["org"], post__role=ref["role"])
        .select_related("person")
        .order_by("post__position", "post__pk")
        .first()
    )
    if tenure is None:
        raise DemoEventsError(f"No current {ref['role']} at {ref['org']!r} to speak.")
    return tenure.person


def _delegates() -> list[Person]:
    """Consular people in the order they register: posts in order of precedence, the
    head of each post first, then its science attaché or counsellor."""
    people: list[Person] = []
    posts = Organization.objects.consular().in_precedence_order()
    current = Membership.objects.current().select_related("person", "post")
    by_org: dict[int, list[Membership]] = {}
    for tenure in current.filter(post__organization__in=posts):
        by_org.setdefault(tenure.post.organization_id, []).append(tenure)
    for org in posts:
        tenures = sorted(by_org.get(org.pk, []), key=lambda t: (t.post.position, t.post.pk))
        people.extend(t.person for t in tenures)
    return people


@no_mail()
def build_demo_events(*, stdout: Any = None, data_file: Path = DATA_FILE) -> str:
    """Build the demo programme into the demo directory; return a summary."""
    data = json.loads(data_file.read_text(encoding="utf-8"))
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())

    # 1. Series
    series = {}
    for row in data["series"]:
        series[row["slug"]] = Series.objects.create(
            slug=row["slug"], **_translated("name", row["name"])
        )

    # 2. Events, co-organisers, agendas
    events: list[tuple[Event, dict[str, Any]]] = []
    for row in data["events"]:
        day = monday + datetime.timedelta(weeks=row["week"], days=row["weekday"])
        start = datetime.datetime.combine(day, _time(row["start"]), tzinfo=zone)
        end = datetime.datetime.combine(day, _time(row["end"]), tzinfo=zone)
        event = Event.objects.create(
            slug=row["slug"],
            kind=row["kind"],
            series=series[row["series"]] if row.get("series") else None,
            edition=row.get("edition"),
            host=_organization(row["host"]),
            venue=row["venue"],
            address=row["address"],
            latitude=Decimal(row["latitude"]),
            longitude=Decimal(row["longitude"]),
            start=start,
            end=end,
            languages=row["languages"],
            visibility=row["visibility"],
            status=row["status"],
            sequence=row.get("sequence", 0),
            capacity=row["capacity"],
            quota_per_organization=row["quota"],
            registration_closes=start - datetime.timedelta(days=1),
            cancellation_deadline=start - datetime.timedelta(days=2),
            **_translated("title", row["title"]),
            **_translated("summary", row["summary"]),
            **_translated("description", row["description"]),
            **_translated("practical_notes", row["practical_notes"]),
        )
        event.co_organisers.set([_organization(slug) for slug in row["co_organisers"]])
        for position, item in enumerate(row["agenda"]):
            agenda_item = AgendaItem.objects.create(
                event=event,
                starts_at=_time(item["start"]),
                ends_at=_time(item["end"]) if item.get("end") else None,
                position=position,
                **_translated("title", item["title"]),
            )
            agenda_item.speakers.set([_speaker(ref) for ref in item["speakers"]])
        events.append((event, row))

    # 3 and 4. Invitations and registrations
    delegates = _delegates()
    invitations = registrations = 0
    now = timezone.now()
    for event, row in events:
        if row.get("invitations"):
            invited = _heads_only(delegates)[: row["invitations"]]
            for person in invited:
                org = services.current_organizations(person)
                Invitation.objects.create(
                    event=event, person=person, organization=org[0] if org else None
                )
            invitations += len(invited)
            people = invited[: row.get("registrations", 0)]
        else:
            people = delegates[: row.get("registrations", row.get("attended", 0))]
        for person in people:
            if event.end < now:
                org = services.current_organizations(person)
                Registration.objects.create(
                    event=event,
                    person=person,
                    organization=org[0] if org else None,
                    status=RegistrationStatus.ATTENDED,
                    checked_in_at=event.start,
                )
            else:
                services.registration_create(event=event, person=person)
            registrations += 1
    summary = (
        f"{len(events)} events in {len(series)} series, {invitations} invitations, "
        f"{registrations} registrations"
    )
    if stdout is not None:
        stdout.write(f"Programme: {summary}")
    return summary


def _heads_only(people: list[Person]) -> list[Person]:
    """The first person of each post's organisation: the heads of mission."""
    seen: set[int] = set()
    heads = []
    for person in people:
        orgs = services.current_organizations(person)
        key = orgs[0].pk if orgs else -person.pk
        if key not in seen:
            seen.add(key)
            heads.append(person)
    return heads
