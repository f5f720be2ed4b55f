"""The programme API, told as stories: Otto reads public events without a token; Kenji
and Ana (members) register, cancel and hand seats to colleagues with theirs; Sofia
(staff) reads the attendance."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from diplohub.accounts.models import ApiToken
from diplohub.events.models import Invitation, Registration, Visibility
from diplohub.events.services import registration_create
from diplohub.events.tests.test_services import colleague, make_event

API = "/api/v1"


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    raw = ApiToken.new_raw()
    token = ApiToken(user=user, name="test")
    token.set_raw(raw)
    token.save()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def programme(cast):  # type: ignore[no-untyped-def]
    return {
        "public": make_event(slug="public", quota_per_organization=1),
        "members": make_event(slug="members", visibility=Visibility.MEMBERS),
        "invitation": make_event(slug="invitation", visibility=Visibility.INVITATION),
        "draft": make_event(slug="draft", status="draft"),
    }


def slugs(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return sorted(item["slug"] for item in response.json()["items"])


def test_anonymous_visitors_see_public_events(client, programme):
    assert slugs(client.get(f"{API}/events")) == ["public"]
    body = client.get(f"{API}/events/public").json()
    assert body["seats_left"] == 10
    assert body["registration_open"] is True
    assert body["url"].endswith("/public/")
    assert client.get(f"{API}/events/members").status_code == 404
    assert client.get(f"{API}/events/draft").status_code == 404


def test_members_see_members_only_events_and_their_invitations(client, cast, programme):
    kenji = bearer(cast.consul)
    assert slugs(client.get(f"{API}/events", headers=kenji)) == ["members", "public"]
    Invitation.objects.create(event=programme["invitation"], person=cast.consul.person)
    assert slugs(client.get(f"{API}/events", headers=kenji)) == ["invitation", "members", "public"]
    assert client.get(f"{API}/events/invitation", headers=bearer(cast.attache)).status_code == 404


def test_staff_see_every_published_event(client, cast, programme):
    listed = slugs(client.get(f"{API}/events", headers=bearer(cast.staff)))
    assert listed == ["invitation", "members", "public"]


def test_a_bad_token_is_refused_not_ignored(client, programme):
    response = client.get(f"{API}/events", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_the_consul_registers_and_a_second_submit_gives_the_same_registration(
    client, cast, programme
):
    kenji = bearer(cast.consul)
    first = client.post(f"{API}/events/public/registration", headers=kenji)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["status"] == "confirmed"
    assert body["organization"]["slug"] == cast.japan.slug
    again = client.post(f"{API}/events/public/registration", headers=kenji)
    assert again.json()["id"] == body["id"]
    mine = client.get(f"{API}/me/registrations", headers=kenji).json()
    assert [r["id"] for r in mine["items"]] == [body["id"]]


def test_a_colleague_over_the_quota_waits_with_a_position(client, cast, programme):
    yuki_user = cast.outsider  # Otto joins the Japanese mission for this story
    colleague(cast.japan, "Yuki", user=yuki_user)
    client.post(f"{API}/events/public/registration", headers=bearer(cast.consul))
    response = client.post(f"{API}/events/public/registration", headers=bearer(yuki_user))
    body = response.json()
    assert body["status"] == "waitlisted"
    assert body["waitlist_position"] == 1


def test_an_outsider_is_refused_at_an_invitation_only_event(client, cast, programme):
    response = client.post(f"{API}/events/invitation/registration", headers=bearer(cast.attache))
    assert response.status_code == 403
    assert response.json()["code"] == "not_invited"
    assert not Registration.objects.exists()


def test_a_closed_event_answers_409_with_a_code(client, cast):
    make_event(slug="closed", registration_closes=timezone.now() - datetime.timedelta(hours=1))
    response = client.post(f"{API}/events/closed/registration", headers=bearer(cast.consul))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Registration for this event has closed.",
        "code": "closed",
    }


def test_register_needs_a_token_and_a_known_event(client, cast, programme):
    assert client.post(f"{API}/events/public/registration").status_code == 401
    response = client.post(f"{API}/events/nowhere/registration", headers=bearer(cast.consul))
    assert response.status_code == 404


def test_an_account_without_a_person_is_told_so(client, cast, programme):
    response = client.post(f"{API}/events/public/registration", headers=bearer(cast.outsider))
    assert response.status_code == 403
    assert "not linked to a person" in response.json()["detail"]


def test_cancelling_frees_the_seat(client, cast, programme):
    kenji = bearer(cast.consul)
    client.post(f"{API}/events/public/registration", headers=kenji)
    response = client.delete(f"{API}/events/public/registration", headers=kenji)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert client.get(f"{API}/events/public").json()["seats_left"] == 10


def test_cancelling_without_a_registration_is_a_404(client, cast, programme):
    response = client.delete(f"{API}/events/public/registration", headers=bearer(cast.consul))
    assert response.status_code == 404


def test_cancelling_after_the_deadline_is_refused(client, cast):
    make_event(slug="strict", cancellation_deadline=timezone.now() - datetime.timedelta(hours=1))
    kenji = bearer(cast.consul)
    client.post(f"{API}/events/strict/registration", headers=kenji)
    response = client.delete(f"{API}/events/strict/registration", headers=kenji)
    assert response.status_code == 409
    assert response.json()["code"] == "deadline"


def test_the_consul_hands_the_seat_to_a_colleague(client, cast, programme):
    yuki = colleague(cast.japan, "Yuki")
    kenji = bearer(cast.consul)
    client.post(f"{API}/events/public/registration", headers=kenji)
    response = client.post(
        f"{API}/events/public/registration/substitute",
        data={"person_id": yuki.pk},
        content_type="application/json",
        headers=kenji,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["substitute_for"] == "Kenji Sato-Example"
    assert Registration.objects.get(pk=body["id"]).person == yuki


def test_a_substitute_from_another_mission_or_unknown_is_refused(client, cast, programme):
    kenji = bearer(cast.consul)
    client.post(f"{API}/events/public/registration", headers=kenji)
    url = f"{API}/events/public/registration/substitute"
    other = client.post(
        url, {"person_id": cast.attache.person.pk}, "application/json", headers=kenji
    )
    assert other.status_code == 403
    assert other.json()["code"] == "not_a_member"
    unknown = client.post(url, {"person_id": 999999}, "application/json", headers=kenji)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"].endswith("person_id")


def test_a_seat_offered_from_the_waitlist_is_confirmed(client, cast):
    event = make_event(slug="small", capacity=1, quota_per_organization=None)
    registration_create(event=event, person=cast.consul.person)
    ana = bearer(cast.attache)
    client.post(f"{API}/events/small/registration", headers=ana)
    client.delete(f"{API}/events/small/registration", headers=bearer(cast.consul))
    offered = client.get(f"{API}/me/registrations", headers=ana).json()["items"][0]
    assert offered["status"] == "confirmed" and offered["confirm_by"]
    confirmed = client.post(f"{API}/events/small/registration/confirm", headers=ana).json()
    assert confirmed["confirm_by"] is None


def test_staff_read_registrations_and_attendance(client, cast, programme):
    event = programme["public"]
    registration_create(event=event, person=cast.consul.person)
    registration_create(event=event, person=colleague(cast.japan, "Yuki"))
    registration_create(event=event, person=cast.attache.person)
    sofia = bearer(cast.staff)
    listing = client.get(f"{API}/events/public/registrations", headers=sofia).json()
    assert [
        (r["person"]["name"], r["status"], r["waitlist_position"]) for r in listing["items"]
    ] == [
        ("Kenji Sato-Example", "confirmed", None),
        ("Ana Attaché-Example", "confirmed", None),
        ("Yuki Example", "waitlisted", 1),
    ]
    figures = client.get(f"{API}/events/public/attendance", headers=sofia).json()
    assert figures["confirmed"] == 2 and figures["waitlisted"] == 1
    assert figures["seats_left"] == 8
    japan = next(row for row in figures["by_organization"] if row["slug"] == cast.japan.slug)
    assert (japan["seated"], japan["waiting"]) == (1, 1)


def test_members_cannot_read_the_attendance(client, cast, programme):
    response = client.get(f"{API}/events/public/registrations", headers=bearer(cast.consul))
    assert response.status_code == 403
