"""Registration stories: Kenji (Consul General of Japan), Ana (attaché of Mexico), their
colleagues, Sofia (staff), Hugo (host) and Otto (an outsider)."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from diplohub.directory.models import Person, Post, PostRole
from diplohub.directory.services import post_assign
from diplohub.events.models import (
    Event,
    EventStatus,
    Invitation,
    InvitationStatus,
    Registration,
    RegistrationStatus,
    Visibility,
)
from diplohub.events.services import (
    RegistrationError,
    registration_cancel,
    registration_check_in,
    registration_confirm_offer,
    registration_create,
    registration_move,
    registration_promote_waiting,
    registration_substitute,
    registration_waitlist_position,
    registrations_release_expired_offers,
)

CONFIRMED = RegistrationStatus.CONFIRMED
WAITLISTED = RegistrationStatus.WAITLISTED
CANCELLED = RegistrationStatus.CANCELLED


def make_event(**fields) -> Event:  # type: ignore[no-untyped-def]
    start = timezone.now() + datetime.timedelta(days=10)
    values = {
        "kind": "visit",
        "title": "Visit to the supercomputing centre",
        "slug": fields.pop("slug", "visit-supercomputer"),
        "start": start,
        "end": start + datetime.timedelta(hours=3),
        "status": EventStatus.PUBLISHED,
        "capacity": 10,
        "quota_per_organization": 2,
    }
    values.update(fields)
    return Event.objects.create(**values)


def colleague(organization, given: str, *, user=None) -> Person:  # type: ignore[no-untyped-def]
    person = Person.objects.create(given_name=given, family_name="Example", user=user)
    post = Post.objects.create(organization=organization, label="Officer", role=PostRole.OFFICER)
    post_assign(post=post, person=person)
    return person


def refused(code: str, call, **kwargs) -> RegistrationError:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistrationError) as raised:
        call(**kwargs)
    assert raised.value.code == code, raised.value
    assert str(raised.value)
    return raised.value


@pytest.fixture
def event(db) -> Event:  # type: ignore[no-untyped-def]
    return make_event()


def test_it_confirms_the_consul_general(cast, event):
    kenji = cast.consul.person
    registration = registration_create(event=event, person=kenji, by=cast.consul)
    assert registration.status == CONFIRMED
    assert registration.organization == cast.japan
    assert registration.registered_by == cast.consul
    assert registration.history.count() == 1


def test_it_waitlists_an_attache_of_a_mission_at_its_quota(cast, event):
    ana = cast.attache.person
    first = colleague(cast.mexico, "Maria")
    second = colleague(cast.mexico, "Luis")
    assert registration_create(event=event, person=first).status == CONFIRMED
    assert registration_create(event=event, person=second).status == CONFIRMED
    registration = registration_create(event=event, person=ana, by=cast.attache)
    assert registration.status == WAITLISTED
    assert registration.organization == cast.mexico
    assert registration_waitlist_position(registration=registration) == 1
    # Another mission still gets a seat: the quota holds back Mexico only.
    assert registration_create(event=event, person=cast.consul.person).status == CONFIRMED


def test_it_waitlists_when_the_event_is_full(cast):
    event = make_event(capacity=1, quota_per_organization=None)
    registration_create(event=event, person=cast.consul.person)
    waiting = registration_create(event=event, person=cast.attache.person)
    assert waiting.status == WAITLISTED
    assert waiting.waitlist_number == 1


def test_it_gives_the_same_registration_on_a_double_submit(cast, event):
    once = registration_create(event=event, person=cast.consul.person, by=cast.consul)
    twice = registration_create(event=event, person=cast.consul.person, by=cast.consul)
    assert once.pk == twice.pk
    assert Registration.objects.filter(event=event).count() == 1


def test_it_reactivates_a_cancelled_registration_at_the_back_of_the_queue(cast):
    event = make_event(capacity=1, quota_per_organization=None)
    kenji = registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    registration_cancel(registration=ana, by=cast.attache)
    someone = registration_create(event=event, person=colleague(cast.japan, "Yuki"))
    again = registration_create(event=event, person=cast.attache.person)
    assert again.pk == ana.pk
    assert again.status == WAITLISTED
    assert again.waitlist_number > someone.waitlist_number  # type: ignore[operator]
    assert registration_waitlist_position(registration=again) == 2
    assert kenji.status == CONFIRMED


def test_it_lets_a_substitute_take_the_seat(cast, event):
    kenji = cast.consul.person
    yuki = colleague(cast.japan, "Yuki")
    registration = registration_create(event=event, person=kenji, by=cast.consul)
    swapped = registration_substitute(registration=registration, person=yuki, by=cast.consul)
    assert swapped.pk == registration.pk
    assert swapped.person == yuki
    assert swapped.substitute_for == kenji
    assert swapped.organization == cast.japan
    assert swapped.status == CONFIRMED
    people = [h.person_id for h in swapped.history.order_by("history_date")]
    assert people == [kenji.pk, yuki.pk]


def test_it_refuses_a_substitute_from_another_mission(cast, event):
    registration = registration_create(event=event, person=cast.consul.person)
    refused(
        "not_a_member",
        registration_substitute,
        registration=registration,
        person=cast.attache.person,
        by=cast.consul,
    )


def test_it_refuses_a_substitute_already_registered(cast, event):
    yuki = colleague(cast.japan, "Yuki")
    registration = registration_create(event=event, person=cast.consul.person)
    registration_create(event=event, person=yuki)
    refused(
        "already_registered",
        registration_substitute,
        registration=registration,
        person=yuki,
        by=cast.consul,
    )


def test_it_refuses_the_outsider_at_an_invitation_only_event(cast):
    event = make_event(visibility=Visibility.INVITATION)
    otto = Person.objects.create(given_name="Otto", family_name="Outsider", user=cast.outsider)
    refused("not_invited", registration_create, event=event, person=otto, by=cast.outsider)


def test_it_accepts_the_invited_and_their_mission_colleague(cast):
    event = make_event(visibility=Visibility.INVITATION)
    invitation = Invitation.objects.create(
        event=event, person=cast.consul.person, organization=cast.japan
    )
    kenji = registration_create(
        event=event, person=cast.consul.person, by=cast.consul, invitation=invitation
    )
    assert kenji.status == CONFIRMED
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REGISTERED
    yuki = registration_create(event=event, person=colleague(cast.japan, "Yuki"))
    assert yuki.organization == cast.japan
    refused("not_invited", registration_create, event=event, person=cast.attache.person)


def test_it_lets_staff_register_anyone_on_their_behalf(cast):
    event = make_event(visibility=Visibility.INVITATION)
    registration = registration_create(event=event, person=cast.attache.person, by=cast.staff)
    assert registration.status == CONFIRMED
    assert registration.registered_by == cast.staff


def test_it_refuses_a_member_registering_someone_else(cast, event):
    refused(
        "not_allowed",
        registration_create,
        event=event,
        person=cast.attache.person,
        by=cast.consul,
    )


def test_it_needs_a_member_for_a_members_only_event(cast):
    event = make_event(visibility=Visibility.MEMBERS)
    nobody = Person.objects.create(given_name="No", family_name="Account")
    refused("not_allowed", registration_create, event=event, person=nobody)
    assert registration_create(event=event, person=cast.consul.person).status == CONFIRMED


def test_it_refuses_outside_the_registration_window(cast):
    now = timezone.now()
    later = make_event(slug="later", registration_opens=now + datetime.timedelta(days=1))
    refused("closed", registration_create, event=later, person=cast.consul.person)
    closed = make_event(slug="closed", registration_closes=now - datetime.timedelta(hours=1))
    refused("closed", registration_create, event=closed, person=cast.consul.person)
    draft = make_event(slug="draft", status=EventStatus.DRAFT)
    refused("closed", registration_create, event=draft, person=cast.consul.person)
    cancelled = make_event(slug="cancelled", status=EventStatus.CANCELLED)
    refused("cancelled", registration_create, event=cancelled, person=cast.consul.person)


def test_it_refuses_a_past_event(cast):
    start = timezone.now() - datetime.timedelta(days=2)
    event = make_event(start=start, end=start + datetime.timedelta(hours=2))
    refused("past", registration_create, event=event, person=cast.consul.person)
    refused("past", registration_create, event=event, person=cast.consul.person, by=cast.staff)


def test_it_refuses_to_cancel_someone_elses_seat(cast, event):
    registration = registration_create(event=event, person=cast.consul.person)
    refused("not_yours", registration_cancel, registration=registration, by=cast.attache)
    registration.refresh_from_db()
    assert registration.status == CONFIRMED


def test_it_refuses_to_cancel_after_the_deadline_except_staff(cast):
    event = make_event(cancellation_deadline=timezone.now() - datetime.timedelta(hours=1))
    registration = registration_create(event=event, person=cast.consul.person, by=cast.staff)
    refused("deadline", registration_cancel, registration=registration, by=cast.consul)
    assert registration_cancel(registration=registration, by=cast.staff).status == CANCELLED


def test_cancelling_twice_changes_nothing(cast, event):
    registration = registration_create(event=event, person=cast.consul.person)
    registration_cancel(registration=registration, by=cast.consul)
    again = registration_cancel(registration=registration, by=cast.consul)
    assert again.status == CANCELLED
    assert again.history.count() == 2


def test_a_freed_seat_goes_to_the_waitlist_in_order_honouring_quotas(cast):
    event = make_event(capacity=3, quota_per_organization=2, promotion_hours=24)
    kenji = registration_create(event=event, person=cast.consul.person)
    yuki = registration_create(event=event, person=colleague(cast.japan, "Yuki"))
    ana = registration_create(event=event, person=cast.attache.person)
    # Waiting, in this order: a third from Japan (over quota), then two from Mexico.
    hiro = registration_create(event=event, person=colleague(cast.japan, "Hiro"))
    maria = registration_create(event=event, person=colleague(cast.mexico, "Maria"))
    luis = registration_create(event=event, person=colleague(cast.mexico, "Luis"))
    assert [r.status for r in (kenji, yuki, ana)] == [CONFIRMED] * 3
    assert [r.status for r in (hiro, maria, luis)] == [WAITLISTED] * 3

    registration_cancel(registration=ana, by=cast.attache)

    hiro.refresh_from_db()
    maria.refresh_from_db()
    luis.refresh_from_db()
    assert hiro.status == WAITLISTED  # Japan is at its quota; Hiro keeps his place
    assert registration_waitlist_position(registration=hiro) == 1
    assert maria.status == CONFIRMED
    assert maria.confirm_by is not None
    assert registration_waitlist_position(registration=luis) == 2

    registration_cancel(registration=kenji, by=cast.consul)
    hiro.refresh_from_db()
    assert hiro.status == CONFIRMED  # now under quota, first in line
    luis.refresh_from_db()
    assert luis.status == WAITLISTED
    assert registration_waitlist_position(registration=luis) == 1


def test_promote_waiting_fills_seats_added_by_staff(cast):
    event = make_event(capacity=1, quota_per_organization=None)
    registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    Event.objects.filter(pk=event.pk).update(capacity=2)
    assert [r.pk for r in registration_promote_waiting(event=event)] == [ana.pk]
    assert registration_promote_waiting(event=event) == []


def test_an_offer_not_confirmed_in_time_goes_to_the_next_person(cast):
    event = make_event(capacity=1, quota_per_organization=None, promotion_hours=48)
    kenji = registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    yuki = registration_create(event=event, person=colleague(cast.japan, "Yuki"))
    registration_cancel(registration=kenji, by=cast.consul)
    ana.refresh_from_db()
    assert ana.status == CONFIRMED and ana.confirm_by is not None

    assert registrations_release_expired_offers(event=event) == []  # not yet expired
    later = timezone.now() + datetime.timedelta(hours=49)
    released = registrations_release_expired_offers(now=later)
    assert [r.pk for r in released] == [ana.pk]
    ana.refresh_from_db()
    yuki.refresh_from_db()
    assert ana.status == CANCELLED
    assert yuki.status == CONFIRMED
    assert registrations_release_expired_offers(now=later) == []  # twice is once


def test_a_confirmed_offer_is_kept(cast):
    event = make_event(capacity=1, quota_per_organization=None)
    kenji = registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    registration_cancel(registration=kenji, by=cast.consul)
    refused("not_yours", registration_confirm_offer, registration=ana, by=cast.consul)
    ana = registration_confirm_offer(registration=ana, by=cast.attache)
    assert ana.confirm_by is None
    later = timezone.now() + datetime.timedelta(days=5)
    assert registrations_release_expired_offers(now=later) == []


def test_the_management_command_releases_expired_offers(cast):
    event = make_event(capacity=1, quota_per_organization=None, promotion_hours=1)
    kenji = registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    registration_cancel(registration=kenji, by=cast.consul)
    Registration.objects.filter(pk=ana.pk).update(
        confirm_by=timezone.now() - datetime.timedelta(minutes=1)
    )
    out = StringIO()
    call_command("release_expired_offers", stdout=out)
    assert "Released 1" in out.getvalue()


def test_staff_override_seats_over_capacity_with_history(cast):
    event = make_event(capacity=1, quota_per_organization=None)
    registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    moved = registration_move(registration=ana, status=CONFIRMED, by=cast.staff)
    assert moved.status == CONFIRMED and moved.waitlist_number is None
    assert Registration.objects.seated().filter(event=event).count() == 2
    latest = moved.history.latest()
    assert latest.history_user == cast.staff
    assert latest.history_change_reason == "moved to confirmed by staff"


def test_staff_move_to_the_waitlist_puts_at_the_back_and_frees_the_seat(cast):
    event = make_event(capacity=1, quota_per_organization=None)
    kenji = registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    moved = registration_move(registration=kenji, status=WAITLISTED, by=cast.staff)
    ana.refresh_from_db()
    assert ana.status == CONFIRMED
    assert moved.status == WAITLISTED
    assert registration_waitlist_position(registration=moved) == 1


def test_only_staff_move_people(cast, event):
    registration = registration_create(event=event, person=cast.consul.person)
    refused(
        "not_allowed",
        registration_move,
        registration=registration,
        status=RegistrationStatus.ATTENDED,
        by=cast.consul,
    )


def test_the_host_checks_people_in_once(cast):
    event = make_event(host=cast.centre)
    registration = registration_create(event=event, person=cast.consul.person)
    checked = registration_check_in(registration=registration, by=cast.host)
    assert checked.status == RegistrationStatus.ATTENDED
    assert checked.checked_in_by == cast.host
    when = checked.checked_in_at
    again = registration_check_in(registration=registration, by=cast.staff)
    assert again.checked_in_at == when and again.checked_in_by == cast.host


def test_check_in_refuses_outsiders_and_people_without_a_seat(cast):
    event = make_event(capacity=1, host=cast.centre)
    kenji = registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    refused("not_allowed", registration_check_in, registration=kenji, by=cast.outsider)
    refused("not_allowed", registration_check_in, registration=kenji, by=cast.consul)
    refused("not_seated", registration_check_in, registration=ana, by=cast.staff)


def test_staff_mark_a_no_show(cast, event):
    registration = registration_create(event=event, person=cast.consul.person)
    moved = registration_move(
        registration=registration, status=RegistrationStatus.NO_SHOW, by=cast.staff
    )
    assert moved.status == RegistrationStatus.NO_SHOW
    assert moved.checked_in_at is None


def test_staff_move_to_the_waitlist_is_not_undone_by_the_promotion(cast):
    event = make_event(capacity=2, quota_per_organization=None)
    kenji = registration_create(event=event, person=cast.consul.person)
    moved = registration_move(registration=kenji, status=WAITLISTED, by=cast.staff)
    assert moved.status == WAITLISTED
    kenji.refresh_from_db()
    assert kenji.status == WAITLISTED


def test_no_seat_is_offered_once_the_event_has_started(cast):
    event = make_event(capacity=1, quota_per_organization=None)
    kenji = registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    Event.objects.filter(pk=event.pk).update(start=timezone.now() - datetime.timedelta(minutes=5))
    registration_cancel(registration=kenji, by=cast.staff)
    ana.refresh_from_db()
    assert ana.status == WAITLISTED
