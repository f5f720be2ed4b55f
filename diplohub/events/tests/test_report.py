"""The event report: who came, from where, the figures and the feedback."""

from __future__ import annotations

import pytest

from diplohub.accounts.models import Role, User
from diplohub.directory.models import Kind, Organization, Person
from diplohub.events import services
from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.tests.stories import ensure_catalogues, make_event

URL = "/en/programme/ended-visit/report/"


@pytest.fixture
def ended(cast):
    """A visit to Hugo's centre that ended two days ago: Kenji came and rated it, Ana
    did not turn up, a French attaché came, a German one cancelled."""
    ensure_catalogues()
    event = make_event("ended-visit", days=-2, host=cast.centre)
    france = Organization.objects.create(
        kind=Kind.CONSULATE, name="Consulate of France", slug="consulate-of-france", country="FR"
    )
    germany = Organization.objects.create(
        kind=Kind.CONSULATE_GENERAL,
        name="Consulate General of Germany",
        slug="consulate-general-of-germany",
        country="DE",
    )
    marie = Person.objects.create(given_name="Marie", family_name="Example", email="m@fr.example")
    hans = Person.objects.create(given_name="Hans", family_name="Example", email="h@de.example")
    kenji = Registration.objects.create(
        event=event, person=cast.consul.person, organization=cast.japan, status="attended"
    )
    Registration.objects.create(
        event=event, person=cast.attache.person, organization=cast.mexico, status="no_show"
    )
    Registration.objects.create(event=event, person=marie, organization=france, status="attended")
    Registration.objects.create(event=event, person=hans, organization=germany, status="cancelled")
    services.feedback_give(registration=kenji, rating=4, comments="Inspiring machine room.")
    return event


def test_staff_read_the_report(client, cast, ended):
    client.force_login(cast.staff)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    report = response.context["report"]
    assert [r.person.name for r in report.attendees] == [
        "Kenji Sato-Example",
        "Marie Example",
    ]
    assert [c.code for c in report.countries] == ["FR", "JP"]
    assert (report.overall.attended, report.overall.no_show, report.overall.cancelled) == (2, 1, 1)
    by_region = {row.label: row for row in report.by_region}
    assert by_region["Asia"].attended == 1
    assert by_region["Europe"].attended == 1
    assert by_region["Europe"].cancelled == 1
    assert by_region["Americas"].no_show == 1
    by_kind = {row.label: row for row in report.by_kind}
    assert by_kind["Consulate-general"].attended == 1
    assert by_kind["Consulate"].attended == 1
    assert report.rating_average == 4
    assert "Inspiring machine room." in html
    assert "Consulate General of Japan" in html and "France" in html
    assert "kenji@mission.example" not in html
    assert "kenji@example.test" not in html


def test_the_host_reads_the_report_of_their_event(client, cast, ended):
    client.force_login(cast.host)
    assert client.get(URL).status_code == 200


def test_a_host_of_another_organisation_gets_403(client, cast, ended):
    other = User.objects.create_user(username="hanna", organization=cast.japan)
    from django.contrib.auth.models import Group

    other.groups.add(Group.objects.get_or_create(name=Role.HOST)[0])
    client.force_login(other)
    assert client.get(URL).status_code == 403


def test_members_and_outsiders_get_403(client, cast, ended):
    for user in (cast.consul, cast.attache, cast.outsider):
        client.force_login(user)
        assert client.get(URL).status_code == 403


def test_visitors_are_sent_to_sign_in(client, ended):
    response = client.get(URL)
    assert response.status_code == 302
    assert URL in response["Location"]


def test_it_rejects_post(client, cast, ended):
    client.force_login(cast.staff)
    assert client.post(URL).status_code == 405


def test_it_reads_a_large_event_in_a_fixed_number_of_queries(
    client, cast, ended, django_assert_max_num_queries
):
    for n in range(40):
        organization = Organization.objects.create(
            kind=Kind.CONSULATE, name=f"Consulate {n}", slug=f"consulate-{n}", country="IT"
        )
        person = Person.objects.create(given_name="Guest", family_name=f"{n:02}")
        registration = Registration.objects.create(
            event=ended, person=person, organization=organization, status="attended"
        )
        services.feedback_give(registration=registration, rating=n % 5 + 1)
    client.force_login(cast.staff)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.context["report"].overall.attended == 42
    assert RegistrationStatus.ATTENDED == "attended"
