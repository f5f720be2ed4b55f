"""iCalendar (RFC 5545) files of the programme: one event, the public feed, a person's feed.

What calendar programs rely on, and what each VEVENT carries:

- UID `<event.uid>@<hub host>`: never changes, so an update replaces the old entry;
- SEQUENCE: Event.sequence, bumped by the services on every change people should see;
- DTSTART/DTEND in the hub's time zone with its TZID, and the VTIMEZONE that defines it
  (icalendar builds it from zoneinfo), so the event stays at 10:00 local time across
  daylight-saving changes;
- STATUS: CONFIRMED, CANCELLED for a cancelled event, TENTATIVE in a personal feed while
  the person is on the waitlist;
- URL, LOCATION (and GEO), CATEGORIES (the kind), DTSTAMP, LAST-MODIFIED;
- the calendar's name both as X-WR-CALNAME (the de-facto one) and NAME (RFC 7986).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from icalendar import Calendar, Timezone
from icalendar import Event as VEvent

from diplohub.events.models import Event, EventStatus

CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//DiploHub//Programme//EN"


def uid_of(event: Event) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "diplohub"
    return f"{event.uid}@{host}"


def _location(event: Event) -> str:
    return ", ".join(part for part in (event.venue, event.address) if part)


def absolute_url(request: HttpRequest | None, path: str) -> str:
    """The address of `path` as the visitor reached the hub, or at SITE_URL (in e-mail)."""
    return request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path


def vevent(event: Event, request: HttpRequest | None, *, tentative: bool = False) -> VEvent:
    zone = ZoneInfo(settings.TIME_ZONE)
    item = VEvent()
    item.add("uid", uid_of(event))
    item.add("sequence", event.sequence)
    item.add("dtstamp", timezone.now())
    item.add("last-modified", event.updated_at)
    item.add("dtstart", event.start.astimezone(zone))
    item.add("dtend", event.end.astimezone(zone))
    item.add("summary", event.title)
    url = absolute_url(request, event.get_absolute_url())
    item.add("url", url)
    item.add("description", "\n\n".join(part for part in (event.summary, url) if part))
    if _location(event):
        item.add("location", _location(event))
    if event.latitude is not None and event.longitude is not None:
        item.add("geo", (float(event.latitude), float(event.longitude)))
    item.add("categories", [str(event.get_kind_display())])
    if event.status == EventStatus.CANCELLED:
        item.add("status", "CANCELLED")
    elif tentative:
        item.add("status", "TENTATIVE")
    else:
        item.add("status", "CONFIRMED")
    item.add("transp", "OPAQUE")
    return item


def calendar_of(
    events: Iterable[Event],
    request: HttpRequest | None,
    *,
    name: str,
    tentative: frozenset[int] = frozenset(),
) -> Calendar:
    """A VCALENDAR of `events`; those whose pk is in `tentative` are marked TENTATIVE."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for event in events:
        calendar.add_component(vevent(event, request, tentative=event.pk in tentative))
    calendar.add_component(_vtimezone(settings.TIME_ZONE))
    return calendar


@functools.cache
def _vtimezone(tzid: str) -> Timezone:
    """The VTIMEZONE of a zone, from zoneinfo, built once per process (it is read-only
    afterwards; building it walks every transition and costs more than the rest)."""
    return Timezone.from_tzid(tzid)


def calendar_response(calendar: Calendar, *, filename: str = "") -> HttpResponse:
    response = HttpResponse(calendar.to_ical(), content_type=CONTENT_TYPE)
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
