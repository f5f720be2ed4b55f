"""The programme pages, told as stories about the personas in conftest.py."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.utils import timezone, translation

from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.templatetags.programme import long_date
from diplohub.events.tests.stories import MADRID, build_programme, ensure_catalogues, make_event


@pytest.fixture
def programme(cast):
    return build_programme(cast)


def slugs(response, key="upcoming"):
    return [event.slug for event in response.context[key]]


def past_slugs(response):
    return [event.slug for _year, events in response.context["past_by_year"] for event in events]


def json_ld(response):
    found = re.search(
        r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S
    )
    assert found, "no JSON-LD on the page"
    return json.loads(found.group(1))


# The programme page -----------------------------------------------------------------


def test_a_visitor_sees_the_public_programme_only(client, programme):
    response = client.get("/en/programme/")
    assert response.status_code == 200
    assert slugs(response) == ["visit-supercomputer", "cancelled-forum"]
    assert past_slugs(response) == ["last-years-visit"]
    html = response.content.decode()
    assert "Secret draft visit" not in html
    assert "Briefing on the science budget" not in html
    assert "Encounter with the rectors" not in html
    assert "Diplomatic Circle — 3rd edition" in html


def test_the_programme_links_its_feeds(client, programme):
    html = client.get("/en/programme/").content.decode()
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/en/programme/feed.atom"' in html
    assert '<link rel="alternate" type="text/calendar"' in html
    assert 'href="/en/programme/calendar.ics"' in html


def test_a_member_also_sees_members_only_events(client, programme, cast):
    client.force_login(cast.attache)
    response = client.get("/en/programme/")
    assert slugs(response) == ["visit-supercomputer", "members-briefing", "cancelled-forum"]


def test_an_invited_consul_sees_the_invitation_only_encounter(client, programme, cast):
    client.force_login(cast.consul)
    response = client.get("/en/programme/")
    assert "private-encounter" in slugs(response)


def test_invitation_only_events_are_hidden_from_outsiders(client, programme, cast):
    for user in (None, cast.attache, cast.outsider):
        client.logout()
        if user:
            client.force_login(user)
        assert "private-encounter" not in slugs(client.get("/en/programme/"))
        assert client.get("/en/programme/private-encounter/").status_code == 404


def test_a_signed_in_outsider_does_not_see_members_only_events(client, programme, cast):
    client.force_login(cast.outsider)
    assert "members-briefing" not in slugs(client.get("/en/programme/"))
    assert client.get("/en/programme/members-briefing/").status_code == 404


def test_staff_see_everything_published(client, programme, cast):
    client.force_login(cast.staff)
    response = client.get("/en/programme/")
    assert set(slugs(response)) == {
        "visit-supercomputer",
        "members-briefing",
        "private-encounter",
        "cancelled-forum",
    }


def test_the_programme_reads_in_catalan(client, programme):
    html = client.get("/ca/programme/").content.decode()
    assert "Visita al centre de supercomputació" in html
    assert "Cercle Diplomàtic — 3a edició" in html
    assert '<html lang="ca">' in html


def test_event_times_read_naturally_in_spanish_and_catalan(client, programme):
    start = programme.visit.start.astimezone(MADRID)
    es = client.get("/es/programme/visit-supercomputer/").content.decode()
    ca = client.get("/ca/programme/visit-supercomputer/").content.decode()
    assert f"{start.day} de " in es and f" de {start.year}, 10:00" in es
    assert "Quedan 30 plazas." in es
    assert "Círculo Diplomático — 3.ª edición" in es
    assert f" de {start.year}, 10:00" in ca
    assert "Queden 30 places." in ca


def test_the_programme_answers_only_get(client, programme):
    assert client.post("/en/programme/").status_code == 405


# The event page -----------------------------------------------------------------------


def test_a_visitor_reads_an_event(client, programme, cast):
    response = client.get("/en/programme/visit-supercomputer/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Visit to the supercomputing centre</h1>" in html
    assert "Institutional visit" in html
    assert "Diplomatic Circle — 3rd edition" in html
    assert 'href="/en/directory/example-supercomputing-centre/"' in html  # host
    assert 'href="/en/directory/consulate-general-of-japan/"' in html  # co-organiser
    assert "Plaça Eusebi Güell 1-3, 08034" in html
    assert "https://www.openstreetmap.org/?mlat=41.389000&amp;mlon=2.116000" in html
    assert "English, Spanish" in html
    assert "Dr. Hugo Host-Example" in html  # a speaker by public name
    assert "Welcome and overview" in html
    assert "<strong>Welcome</strong>" in html  # Markdown
    assert "<script>alert" not in html  # sanitised
    assert "<em>identity document</em>" in html
    assert "30 seats left." in html
    assert "At most 2 seats per organisation." in html
    assert "Sign in to register" in html
    assert "@mission.example" not in html  # no personal e-mail on a public page


def test_times_are_shown_in_the_hubs_time_zone_and_the_zone_is_named(client, programme):
    event = programme.visit
    html = client.get("/en/programme/visit-supercomputer/").content.decode()
    local = event.start.astimezone(MADRID)
    assert local.hour == 10
    assert f"{local:%-d} {local:%B} {local:%Y}, 10:00" in html
    assert ">13:00</time>" in html
    assert "Europe/Madrid" in html
    assert re.search(r"\((CET|CEST), Europe/Madrid\)", html)


def test_the_event_page_carries_schema_org_json_ld(client, programme):
    response = client.get("/en/programme/visit-supercomputer/")
    data = json_ld(response)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Event"
    assert data["name"] == "Visit to the supercomputing centre"
    assert data["url"] == "http://testserver/en/programme/visit-supercomputer/"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT10:00:00\+0[12]:00", data["startDate"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT13:00:00\+0[12]:00", data["endDate"])
    location = data["location"]
    assert location["@type"] == "Place"
    assert location["address"]["@type"] == "PostalAddress"
    assert location["address"]["streetAddress"] == "Plaça Eusebi Güell 1-3, 08034"
    assert location["geo"] == {"@type": "GeoCoordinates", "latitude": 41.389, "longitude": 2.116}
    names = [org["name"] for org in data["organizer"]]
    assert names == ["Example Supercomputing Centre", "Consulate General of Japan"]


def test_the_event_page_links_its_calendar_and_the_feed(client, programme):
    html = client.get("/en/programme/visit-supercomputer/").content.decode()
    assert (
        '<link rel="alternate" type="text/calendar" title="This event in your calendar '
        '(iCalendar)" href="/en/programme/visit-supercomputer/calendar.ics">'
    ) in html
    assert 'type="application/atom+xml"' in html


def test_a_cancelled_event_says_so(client, programme):
    response = client.get("/en/programme/cancelled-forum/")
    html = response.content.decode()
    assert "This event has been cancelled." in html
    assert 'action="/en/programme/cancelled-forum/register/"' not in html
    assert json_ld(response)["eventStatus"] == "https://schema.org/EventCancelled"


def test_a_past_event_says_so(client, programme, cast):
    client.force_login(cast.consul)
    html = client.get("/en/programme/last-years-visit/").content.decode()
    assert "This event has taken place." in html
    assert "Registration is closed." in html
    assert "/register/" not in html


def test_a_draft_is_404_for_everyone_but_staff(client, programme, cast):
    assert client.get("/en/programme/draft-visit/").status_code == 404
    client.force_login(cast.consul)
    assert client.get("/en/programme/draft-visit/").status_code == 404
    client.force_login(cast.staff)
    response = client.get("/en/programme/draft-visit/")
    assert response.status_code == 200
    assert "Draft: only the hub team can see this event." in response.content.decode()


def test_an_unknown_event_is_404(client, programme):
    assert client.get("/en/programme/no-such-event/").status_code == 404


def test_the_event_page_answers_only_get(client, programme):
    assert client.post("/en/programme/visit-supercomputer/").status_code == 405


def test_an_anonymous_visitor_gets_a_cached_page_that_follows_changes(client, programme):
    assert "30 seats left." in client.get("/en/programme/visit-supercomputer/").content.decode()
    event = programme.visit
    event.title_en = "Visit to the national supercomputer"
    event.save()
    html = client.get("/en/programme/visit-supercomputer/").content.decode()
    assert "Visit to the national supercomputer" in html


# Registering ----------------------------------------------------------------------------


def test_a_consul_registers_and_sees_the_confirmation(client, programme, cast):
    client.force_login(cast.consul)
    html = client.get("/en/programme/visit-supercomputer/").content.decode()
    assert 'action="/en/programme/visit-supercomputer/register/"' in html
    response = client.post("/en/programme/visit-supercomputer/register/", follow=True)
    assert response.redirect_chain == [("/en/programme/visit-supercomputer/", 302)]
    html = response.content.decode()
    assert "You are registered. We look forward to seeing you." in html
    assert "You are registered for this event." in html
    assert 'href="/en/programme/visit-supercomputer/calendar.ics"' in html
    registration = Registration.objects.get(event=programme.visit)
    assert registration.person == cast.consul.person
    assert registration.organization == cast.japan
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.registered_by == cast.consul


def test_registering_twice_gives_the_same_seat(client, programme, cast):
    client.force_login(cast.consul)
    client.post("/en/programme/visit-supercomputer/register/")
    client.post("/en/programme/visit-supercomputer/register/")
    assert Registration.objects.filter(event=programme.visit).count() == 1


def test_a_full_event_puts_the_attache_on_the_waitlist(client, programme, cast):
    event = make_event("small-visit", capacity=1)
    client.force_login(cast.consul)
    client.post("/en/programme/small-visit/register/")
    client.force_login(cast.attache)
    html = client.get("/en/programme/small-visit/").content.decode()
    assert "All seats are taken; 0 people are on the waitlist." in html
    assert "Join the waitlist" in html
    response = client.post("/en/programme/small-visit/register/", follow=True)
    html = response.content.decode()
    assert "The event is full: you are number 1 on the waitlist." in html
    assert "You are on the waitlist, number 1." in html
    assert Registration.objects.get(event=event, person=cast.attache.person).status == (
        RegistrationStatus.WAITLISTED
    )


def test_registering_for_a_cancelled_event_is_refused_with_a_message(client, programme, cast):
    client.force_login(cast.consul)
    response = client.post("/en/programme/cancelled-forum/register/", follow=True)
    assert "This event has been cancelled." in response.content.decode()
    assert not Registration.objects.filter(event=programme.cancelled).exists()


def test_an_outsider_cannot_register_for_what_they_cannot_see(client, programme, cast):
    client.force_login(cast.attache)
    assert client.post("/en/programme/private-encounter/register/").status_code == 404
    assert not Registration.objects.filter(event=programme.encounter).exists()


def test_the_invited_consul_registers_for_the_encounter(client, programme, cast):
    client.force_login(cast.consul)
    client.post("/en/programme/private-encounter/register/")
    registration = Registration.objects.get(event=programme.encounter)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert programme.encounter.invitations.get().status == "registered"


def test_a_user_without_a_person_is_told_why(client, programme, cast):
    client.force_login(cast.outsider)
    response = client.post("/en/programme/visit-supercomputer/register/", follow=True)
    assert "not linked to a person in the directory" in response.content.decode()
    assert not Registration.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client, programme):
    response = client.post("/en/programme/visit-supercomputer/register/")
    assert response.status_code == 302
    assert "/accounts/sign-in/" in response["Location"]
    assert not Registration.objects.exists()


def test_register_answers_only_post(client, programme, cast):
    client.force_login(cast.consul)
    assert client.get("/en/programme/visit-supercomputer/register/").status_code == 405


# My events --------------------------------------------------------------------------------


def test_a_member_sees_their_registrations_and_their_feed(client, programme, cast):
    small = make_event("small-visit", title_en="Small visit", capacity=1)
    client.force_login(cast.attache)
    client.post("/en/programme/small-visit/register/")
    client.force_login(cast.consul)
    client.post("/en/programme/visit-supercomputer/register/")
    client.post("/en/programme/small-visit/register/")
    response = client.get("/en/programme/mine/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Visit to the supercomputing centre" in html
    assert "Confirmed" in html
    assert "Small visit" in html and "Waitlist, number 1" in html
    assert 'href="/en/programme/small-visit/calendar.ics"' in html
    feed = cast.consul.person.calendar_feed
    assert f"/en/programme/feeds/{feed.token}.ics" in html
    assert (
        '<link rel="alternate" type="text/calendar" title="My events (iCalendar)" '
        f'href="/en/programme/feeds/{feed.token}.ics">'
    ) in html
    assert small.pk  # the attaché's seat is not on Kenji's page
    assert "Ana" not in html


def test_my_events_keeps_the_same_feed_address(client, programme, cast):
    client.force_login(cast.consul)
    client.get("/en/programme/mine/")
    token = cast.consul.person.calendar_feed.token
    client.get("/en/programme/mine/")
    cast.consul.person.refresh_from_db()
    assert cast.consul.person.calendar_feed.token == token


def test_my_events_needs_signing_in(client, programme):
    response = client.get("/en/programme/mine/")
    assert response.status_code == 302
    assert "/accounts/sign-in/" in response["Location"]


def test_my_events_for_a_user_without_a_person(client, programme, cast):
    client.force_login(cast.outsider)
    response = client.get("/en/programme/mine/")
    assert response.status_code == 200
    assert "not linked to a person in the directory" in response.content.decode()


def test_my_events_answers_only_get(client, programme, cast):
    client.force_login(cast.consul)
    assert client.post("/en/programme/mine/").status_code == 405


# Cancelling and confirming an offered seat ------------------------------------------------


def test_a_consul_cancels_and_the_seat_goes_to_the_waitlist(client, programme, cast):
    small = make_event("small-visit", capacity=1)
    client.force_login(cast.consul)
    client.post("/en/programme/small-visit/register/")
    client.force_login(cast.attache)
    client.post("/en/programme/small-visit/register/")
    client.force_login(cast.consul)
    html = client.get("/en/programme/small-visit/").content.decode()
    assert 'action="/en/programme/small-visit/cancel/"' in html
    response = client.post("/en/programme/small-visit/cancel/", follow=True)
    assert "Your registration has been cancelled." in response.content.decode()
    statuses = dict(Registration.objects.filter(event=small).values_list("person", "status"))
    assert statuses == {
        cast.consul.person.pk: RegistrationStatus.CANCELLED,
        cast.attache.person.pk: RegistrationStatus.CONFIRMED,
    }

    # Ana was promoted: she confirms the seat offered to her.
    client.force_login(cast.attache)
    html = client.get("/en/programme/small-visit/").content.decode()
    assert "A seat has been offered to you from the waitlist." in html
    response = client.post("/en/programme/small-visit/confirm/", follow=True)
    assert "Thank you: your seat is confirmed." in response.content.decode()
    assert Registration.objects.get(event=small, person=cast.attache.person).confirm_by is None


def test_cancelling_after_the_deadline_is_refused_with_a_message(client, programme, cast):
    event = make_event("strict-visit", cancellation_deadline=timezone.now())
    client.force_login(cast.consul)
    client.post("/en/programme/strict-visit/register/")
    response = client.post("/en/programme/strict-visit/cancel/", follow=True)
    assert "The cancellation deadline has passed" in response.content.decode()
    assert Registration.objects.get(event=event).status == RegistrationStatus.CONFIRMED


def test_nobody_cancels_a_seat_that_is_not_theirs(client, programme, cast):
    client.force_login(cast.consul)
    client.post("/en/programme/visit-supercomputer/register/")
    client.force_login(cast.attache)  # has no registration for it
    assert client.post("/en/programme/visit-supercomputer/cancel/").status_code == 404
    client.force_login(cast.outsider)  # has no person at all
    assert client.post("/en/programme/visit-supercomputer/cancel/").status_code == 404
    assert Registration.objects.get().status == RegistrationStatus.CONFIRMED


def test_cancel_and_confirm_answer_only_post(client, programme, cast):
    client.force_login(cast.consul)
    client.post("/en/programme/visit-supercomputer/register/")
    assert client.get("/en/programme/visit-supercomputer/cancel/").status_code == 405
    assert client.get("/en/programme/visit-supercomputer/confirm/").status_code == 405


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Thursday 15 April 2027, 10:00"),
        ("es", "jueves 15 de abril de 2027, 10:00"),
        ("ca", "dijous 15 d'abril de 2027, 10:00"),
    ],
)
def test_event_dates_are_written_as_each_language_writes_them(language, expected):
    ensure_catalogues()
    when = datetime.datetime(2027, 4, 15, 10, 0, tzinfo=MADRID)
    with translation.override(language):
        assert long_date(when).lower() == expected.lower()


def test_an_event_cannot_take_the_address_of_my_events(db):
    from django.core.exceptions import ValidationError

    from diplohub.events.models import validate_event_slug

    with pytest.raises(ValidationError, match="address of another page"):
        validate_event_slug("mine")
    validate_event_slug("mine-and-yours")
