"""The back office calls the same services: Sofia (staff) registers, moves and checks in."""

from __future__ import annotations

import pytest

from diplohub.events.models import Registration, RegistrationStatus
from diplohub.events.services import registration_create
from diplohub.events.tests.test_services import make_event

ADMIN = "/en/admin/events/"


@pytest.fixture
def staff_client(client, cast):  # type: ignore[no-untyped-def]
    client.force_login(cast.staff)
    return client


def test_staff_see_every_events_admin_page(staff_client, cast):
    event = make_event(host=cast.centre)
    registration_create(event=event, person=cast.consul.person)
    for page in ["event/", "event/add/", "registration/", "invitation/", "series/", "feedback/"]:
        response = staff_client.get(ADMIN + page)
        assert response.status_code == 200, page
    assert staff_client.get(f"{ADMIN}event/{event.pk}/change/").status_code == 200
    listing = staff_client.get(f"{ADMIN}registration/?event__id__exact={event.pk}")
    assert "Sato-Example" in listing.content.decode()


def test_staff_register_someone_on_their_behalf_through_the_service(staff_client, cast):
    event = make_event(capacity=1)
    registration_create(event=event, person=cast.consul.person)
    response = staff_client.post(
        ADMIN + "registration/add/",
        {"event": event.pk, "person": cast.attache.person.pk, "organization": ""},
    )
    assert response.status_code == 302
    ana = Registration.objects.get(event=event, person=cast.attache.person)
    assert ana.status == RegistrationStatus.WAITLISTED
    assert ana.organization == cast.mexico
    assert ana.registered_by == cast.staff


def test_a_refusal_is_a_form_error(staff_client, cast):
    event = make_event(status="cancelled")
    response = staff_client.post(
        ADMIN + "registration/add/", {"event": event.pk, "person": cast.consul.person.pk}
    )
    assert response.status_code == 200
    assert "This event has been cancelled." in response.content.decode()
    assert not Registration.objects.exists()


def test_admin_actions_call_the_services(staff_client, cast):
    event = make_event(capacity=1, host=cast.centre)
    kenji = registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)

    def act(action: str, *registrations: Registration) -> None:
        response = staff_client.post(
            ADMIN + "registration/",
            {"action": action, "_selected_action": [r.pk for r in registrations]},
        )
        assert response.status_code == 302

    act("move_to_confirmed", ana)  # the staff override, over capacity
    ana.refresh_from_db()
    assert ana.status == RegistrationStatus.CONFIRMED
    assert ana.history.latest().history_user == cast.staff
    act("check_in", kenji)
    kenji.refresh_from_db()
    assert kenji.status == RegistrationStatus.ATTENDED
    assert kenji.checked_in_by == cast.staff
    act("mark_no_show", ana)
    ana.refresh_from_db()
    assert ana.status == RegistrationStatus.NO_SHOW


def test_members_cannot_reach_the_events_admin(client, cast):
    client.force_login(cast.consul)
    response = client.get(ADMIN + "registration/")
    assert response.status_code == 302
