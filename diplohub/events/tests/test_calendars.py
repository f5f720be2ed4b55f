"""The programme in calendar programs: every .ics is parsed back with icalendar."""

from __future__ import annotations

import datetime

import pytest
from icalendar import Calendar

from diplohub.events.models import CalendarFeed, Registration, RegistrationStatus
from diplohub.events.services import registration_create
from diplohub.events.tests.stories import MADRID, build_programme, make_event


@pytest.fixture
def programme(cast):
    return build_programme(cast)


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events_of(calendar: Calendar) -> dict[str, object]:
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def test_an_event_downloads_as_a_complete_ics(client, programme):
    response = client.get("/en/programme/visit-supercomputer/calendar.ics")
    assert response["Content-Disposition"] == 'attachment; filename="visit-supercomputer.ics"'
    calendar = parse(response)
    assert calendar["VERSION"] == "2.0"
    assert str(calendar["PRODID"]).startswith("-//DiploHub//")
    assert str(calendar["X-WR-CALNAME"]) == (
        "SciTech Diplomatic Circle: Visit to the supercomputing centre"
    )
    assert str(calendar["NAME"]) == str(calendar["X-WR-CALNAME"])

    [vevent] = calendar.walk("VEVENT")
    event = programme.visit
    assert str(vevent["UID"]) == f"{event.uid}@127.0.0.1"
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["SUMMARY"]) == "Visit to the supercomputing centre"
    assert str(vevent["URL"]) == "http://testserver/en/programme/visit-supercomputer/"
    assert str(vevent["LOCATION"]) == (
        "Example Supercomputing Centre, Chapel building, Plaça Eusebi Güell 1-3, 08034"
    )
    assert vevent["GEO"].latitude == pytest.approx(41.389)
    assert [str(c) for c in vevent["CATEGORIES"].cats] == ["Institutional visit"]
    assert isinstance(vevent.decoded("DTSTAMP"), datetime.datetime)
    assert "A tour of the machine room" in str(vevent["DESCRIPTION"])


def test_times_carry_the_hubs_tzid_and_its_vtimezone(client, programme):
    calendar = parse(client.get("/en/programme/visit-supercomputer/calendar.ics"))
    [vevent] = calendar.walk("VEVENT")
    assert vevent["DTSTART"].params["TZID"] == "Europe/Madrid"
    assert vevent["DTEND"].params["TZID"] == "Europe/Madrid"
    start = vevent.decoded("DTSTART")
    assert (start.hour, start.minute) == (10, 0)
    assert start == programme.visit.start
    assert vevent.decoded("DTEND") == programme.visit.end
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Madrid"
    # Both halves of the year are defined, so 10:00 stays 10:00 across the clock change.
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert (
        b"TZID=Europe/Madrid:"
        in client.get("/en/programme/visit-supercomputer/calendar.ics").content
    )


def test_a_cancelled_event_is_marked_cancelled_with_its_sequence(client, programme):
    calendar = parse(client.get("/en/programme/cancelled-forum/calendar.ics"))
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == 2
    assert str(vevent["UID"]) == f"{programme.cancelled.uid}@127.0.0.1"


def test_a_change_bumps_the_sequence_and_keeps_the_uid(client, programme):
    first = parse(client.get("/en/programme/visit-supercomputer/calendar.ics"))
    event = programme.visit
    event.start = event.start + datetime.timedelta(hours=1)
    event.end = event.end + datetime.timedelta(hours=1)
    event.sequence += 1
    event.save()
    second = parse(client.get("/en/programme/visit-supercomputer/calendar.ics"))
    [a], [b] = first.walk("VEVENT"), second.walk("VEVENT")
    assert a["UID"] == b["UID"]
    assert (a["SEQUENCE"], b["SEQUENCE"]) == (0, 1)
    assert b.decoded("DTSTART").astimezone(MADRID).hour == 11


def test_the_ics_is_in_the_pages_language(client, programme):
    calendar = parse(client.get("/ca/programme/visit-supercomputer/calendar.ics"))
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Visita al centre de supercomputació"
    assert str(vevent["URL"]) == "http://testserver/ca/programme/visit-supercomputer/"


def test_an_events_ics_follows_the_pages_visibility(client, programme, cast):
    assert client.get("/en/programme/members-briefing/calendar.ics").status_code == 404
    assert client.get("/en/programme/draft-visit/calendar.ics").status_code == 404
    assert client.get("/en/programme/private-encounter/calendar.ics").status_code == 404
    client.force_login(cast.attache)
    assert client.get("/en/programme/members-briefing/calendar.ics").status_code == 200
    assert client.get("/en/programme/private-encounter/calendar.ics").status_code == 404


def test_the_public_feed_lists_upcoming_public_events(client, programme):
    calendar = parse(client.get("/en/programme/calendar.ics"))
    assert str(calendar["X-WR-CALNAME"]) == "SciTech Diplomatic Circle"
    assert str(calendar["NAME"]) == "SciTech Diplomatic Circle"
    events = events_of(calendar)
    assert set(events) == {"Visit to the supercomputing centre", "Forum on health data"}
    assert str(events["Forum on health data"]["STATUS"]) == "CANCELLED"
    assert len(calendar.walk("VTIMEZONE")) == 1


def test_calendars_answer_only_get(client, programme):
    assert client.post("/en/programme/calendar.ics").status_code == 405
    assert client.post("/en/programme/visit-supercomputer/calendar.ics").status_code == 405


# The personal feed ---------------------------------------------------------------------


def test_a_consuls_personal_feed_has_their_events_tentative_while_waiting(client, programme, cast):
    kenji = cast.consul.person
    ana = cast.attache.person
    small = make_event("small-visit", title_en="Small visit", capacity=1, days=12)
    registration_create(event=small, person=ana)
    registration_create(event=small, person=kenji)  # the waitlist
    registration_create(event=programme.visit, person=kenji)
    registration_create(event=programme.encounter, person=kenji)
    client.force_login(cast.consul)
    client.get("/en/programme/mine/")  # the feed is made on the first visit
    token = CalendarFeed.objects.get(person=kenji).token
    client.logout()  # calendar programs do not sign in: the token is enough

    calendar = parse(client.get(f"/en/programme/feeds/{token}.ics"))
    assert str(calendar["X-WR-CALNAME"]) == "SciTech Diplomatic Circle: my events"
    events = events_of(calendar)
    assert set(events) == {
        "Small visit",
        "Visit to the supercomputing centre",
        "Encounter with the rectors",
    }
    assert str(events["Small visit"]["STATUS"]) == "TENTATIVE"
    assert str(events["Visit to the supercomputing centre"]["STATUS"]) == "CONFIRMED"
    assert str(events["Encounter with the rectors"]["DTSTART"].params["TZID"]) == "Europe/Madrid"


def test_a_cancelled_registration_leaves_the_personal_feed(client, programme, cast):
    kenji = cast.consul.person
    registration = registration_create(event=programme.visit, person=kenji)
    Registration.objects.filter(pk=registration.pk).update(status=RegistrationStatus.CANCELLED)
    feed = CalendarFeed.objects.create(person=kenji)
    calendar = parse(client.get(f"/en/programme/feeds/{feed.token}.ics"))
    assert calendar.walk("VEVENT") == []


def test_a_forged_feed_token_is_404(client, programme, cast):
    CalendarFeed.objects.create(person=cast.consul.person)
    assert client.get("/en/programme/feeds/not-a-real-token.ics").status_code == 404


def test_the_personal_feed_is_not_cached_publicly(client, programme, cast):
    feed = CalendarFeed.objects.create(person=cast.consul.person)
    response = client.get(f"/en/programme/feeds/{feed.token}.ics")
    assert "private" in response["Cache-Control"]
