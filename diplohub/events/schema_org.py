"""schema.org Event JSON-LD for the event page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from diplohub.events.models import Event


def _local_iso(value: Any) -> str:
    """An ISO 8601 time with the hub's offset, e.g. 2027-01-14T10:00:00+01:00."""
    return timezone.localtime(value).isoformat()


def _organization(org: Any, request: HttpRequest) -> dict[str, Any]:
    url = request.build_absolute_uri(org.get_absolute_url())
    return {"@type": "Organization", "@id": url, "name": org.name, "url": org.website or url}


def event_json_ld(event: Event, request: HttpRequest) -> dict[str, Any]:
    url = request.build_absolute_uri(event.get_absolute_url())
    address: dict[str, Any] = {"@type": "PostalAddress"}
    if event.address:
        address["streetAddress"] = event.address
    if settings.HUB_CITY:
        address["addressLocality"] = settings.HUB_CITY
    if settings.HUB_COUNTRY:
        address["addressCountry"] = settings.HUB_COUNTRY
    place: dict[str, Any] = {
        "@type": "Place",
        "name": event.venue or (event.host.name if event.host else ""),
        "address": address,
    }
    if event.latitude is not None and event.longitude is not None:
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(event.latitude),
            "longitude": float(event.longitude),
        }
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": url,
        "url": url,
        "name": event.title,
        "startDate": _local_iso(event.start),
        "endDate": _local_iso(event.end),
        "eventStatus": "https://schema.org/EventCancelled"
        if event.is_cancelled
        else "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": place,
        "maximumAttendeeCapacity": event.capacity,
    }
    if event.summary:
        data["description"] = event.summary
    if event.languages:
        data["inLanguage"] = list(event.languages)
    organizers = [event.host, *event.co_organisers.all()] if event.host else []
    if organizers:
        data["organizer"] = [_organization(org, request) for org in organizers]
    if event.series_id and event.series:
        data["superEvent"] = {"@type": "EventSeries", "name": event.series.name}
    return data
