"""The door: Hugo checks people in at his centre's visit; the security list; the purge."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from diplohub.directory.models import Kind, Organization, Person
from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.tests.stories import ensure_catalogues, make_event

URL = "/en/programme/door-visit/check-in/"


@pytest.fixture
def visit(cast):
    """Today's visit to Hugo's centre: Kenji and Ana are expected, a waitlisted guest is not."""
    ensure_catalogues()
    event = make_event("door-visit", days=0, host=cast.centre)
    Registration.objects.create(
        event=event,
        person=cast.consul.person,
        organization=cast.japan,
        status="confirmed",
        id_check_note="Passport JP-123",
    )
    Registration.objects.create(
        event=event,
        person=cast.attache.person,
        organization=cast.mexico,
        status="confirmed",
        id_check_note='=HYPERLINK("x")',
    )
    waiting = Person.objects.create(given_name="Walter", family_name="Waiting")
    Registration.objects.create(event=event, person=waiting, status="waitlisted", waitlist_number=1)
    return event


def kenji(visit, cast):
    return Registration.objects.get(event=visit, person=cast.consul.person)


def test_the_host_sees_who_is_expected(client, cast, visit):
    client.force_login(cast.host)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kenji Sato-Example" in html and "Ana Attaché-Example" in html
    assert "Walter" not in html
    assert response.context["counts"] == {"arrived": 0, "expected": 2}
    assert 'hx-trigger="every 5s"' in html
    assert "<script>" not in html.replace('<script src="', "")


def test_the_search_finds_a_name(client, cast, visit):
    client.force_login(cast.host)
    response = client.get(URL, {"q": "sato"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<ul id="results"')
    assert "Kenji" in html and "Ana" not in html


def test_the_host_checks_kenji_in(client, cast, visit):
    client.force_login(cast.host)
    registration = kenji(visit, cast)
    url = f"{URL}{registration.pk}/"
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Checked in at" in html and "hugo" in html
    assert 'hx-swap-oob="true"' in html
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.ATTENDED
    assert registration.checked_in_by == cast.host
    first = registration.checked_in_at

    again = client.post(url, follow=True)
    assert "is checked in" in again.content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at == first
    counts = client.get(f"{URL}counts/").content.decode()
    assert '<strong data-count="arrived">1</strong>' in counts
    assert '<span data-count="expected">2</span>' in counts


def test_a_code_finds_and_checks_in_the_person(client, cast, visit):
    client.force_login(cast.staff)
    registration = kenji(visit, cast)
    response = client.post(f"{URL}code/", {"code": f"  {registration.token} "}, follow=True)
    assert "Kenji Sato-Example is checked in." in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.ATTENDED


def test_a_link_carrying_the_code_also_works(client, cast, visit):
    client.force_login(cast.staff)
    registration = kenji(visit, cast)
    client.post(f"{URL}code/", {"code": f"https://hub.example/r/{registration.token}/"})
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.ATTENDED


@pytest.mark.parametrize("code", ["", "nonsense", "x" * 5000])
def test_an_unknown_code_says_so(client, cast, visit, code):
    client.force_login(cast.host)
    response = client.post(f"{URL}code/", {"code": code}, follow=True)
    assert response.status_code == 200
    assert "No registration for this event has that check-in code." in response.content.decode()
    assert not Registration.objects.filter(status="attended").exists()


def test_a_code_for_another_event_is_not_accepted(client, cast, visit):
    other = make_event("other-visit", days=0, host=cast.centre)
    elsewhere = Registration.objects.create(
        event=other, person=cast.consul.person, organization=cast.japan, status="confirmed"
    )
    client.force_login(cast.host)
    client.post(f"{URL}code/", {"code": elsewhere.token})
    elsewhere.refresh_from_db()
    assert elsewhere.status == RegistrationStatus.CONFIRMED


def test_a_waitlisted_person_cannot_be_checked_in(client, cast, visit):
    waiting = Registration.objects.get(event=visit, status="waitlisted")
    client.force_login(cast.host)
    response = client.post(f"{URL}{waiting.pk}/", headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "has no seat" in response.content.decode()


@pytest.mark.parametrize("who", ["consul", "attache", "outsider"])
@pytest.mark.parametrize(
    "method,suffix", [("get", ""), ("get", "counts/"), ("post", "code/"), ("post", "pk/")]
)
def test_members_and_outsiders_get_403(client, cast, visit, who, method, suffix):
    client.force_login(getattr(cast, who))
    suffix = suffix.replace("pk", str(kenji(visit, cast).pk))
    response = getattr(client, method)(URL + suffix)
    assert response.status_code == 403
    assert not Registration.objects.filter(status="attended").exists()
    assert client.get("/en/programme/door-visit/security-list.csv").status_code == 403


def test_a_host_of_another_organisation_gets_403(client, cast, visit):
    from django.contrib.auth.models import Group

    from diplohub.accounts.models import Role, User

    other = User.objects.create_user(username="hanna", organization=cast.japan)
    other.groups.add(Group.objects.get_or_create(name=Role.HOST)[0])
    client.force_login(other)
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}{kenji(visit, cast).pk}/").status_code == 403


def test_visitors_are_sent_to_sign_in(client, visit):
    for url in (URL, "/en/programme/door-visit/security-list.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert "next=" in response["Location"]


def test_it_rejects_the_wrong_methods(client, cast, visit):
    client.force_login(cast.host)
    assert client.post(URL).status_code == 405
    assert client.get(f"{URL}{kenji(visit, cast).pk}/").status_code == 405
    assert client.get(f"{URL}code/").status_code == 405
    assert client.post("/en/programme/door-visit/security-list.csv").status_code == 405


# The security list ----------------------------------------------------------------


def test_the_security_list_orders_by_organisation_and_defuses_formulas(client, cast, visit):
    late = Organization.objects.create(
        kind=Kind.CONSULATE, name="Zeta Consulate", slug="zeta", country="IT"
    )
    zed = Person.objects.create(given_name="Zoe", family_name="Zed")
    Registration.objects.create(event=visit, person=zed, organization=late, status="attended")
    client.force_login(cast.host)
    response = client.get("/en/programme/door-visit/security-list.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Organisation", "Country", "ID-check note"]
    assert rows[1:] == [
        ["Kenji Sato-Example", "Consulate General of Japan", "Japan", "Passport JP-123"],
        ["Ana Attaché-Example", "Consulate General of Mexico", "Mexico", '\'=HYPERLINK("x")'],
        ["Zoe Zed", "Zeta Consulate", "Italy", ""],
    ]


# The purge --------------------------------------------------------------------------


def test_the_purge_blanks_notes_of_events_over_for_more_than_a_day(cast):
    ended = make_event("ended-visit", days=-3)
    yesterday = make_event("yesterdays-visit", start=None, days=0, hours=1)
    old = Registration.objects.create(
        event=ended, person=cast.consul.person, status="attended", id_check_note="Passport"
    )
    recent = Registration.objects.create(
        event=yesterday, person=cast.consul.person, status="confirmed", id_check_note="ID card"
    )
    out = io.StringIO()
    call_command("purge_security_notes", stdout=out)
    assert "Purged the ID-check notes of 1 registration(s)." in out.getvalue()
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.id_check_note == ""
    assert recent.id_check_note == "ID card"
    assert not old.history.exclude(id_check_note="").exists()

    out = io.StringIO()
    call_command("purge_security_notes", stdout=out)
    assert "of 0 registration(s)" in out.getvalue()


def test_the_purge_takes_a_number_of_days(cast):
    ended = make_event("ended-visit", days=-3)
    Registration.objects.create(
        event=ended, person=cast.consul.person, status="attended", id_check_note="Passport"
    )
    out = io.StringIO()
    call_command("purge_security_notes", "--days", "7", stdout=out)
    assert "of 0 registration(s)" in out.getvalue()
    call_command("purge_security_notes", "--days=2", stdout=out)
    assert Registration.objects.get().id_check_note == ""
    with pytest.raises(CommandError):
        call_command("purge_security_notes", "--days=-1")


def test_the_event_page_links_the_door_for_the_host_only(client, cast, visit):
    client.force_login(cast.host)
    assert URL in client.get("/en/programme/door-visit/").content.decode()
    client.force_login(cast.consul)
    assert URL not in client.get("/en/programme/door-visit/").content.decode()
