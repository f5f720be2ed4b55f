"""registration_create's locked read: the seat counts, the person's registration and
their invitation in one query; a waitlist place comes back with its rank.

Kenji (Consul General of Japan) and Ana (attaché of Mexico) register; their colleagues
fill the seats."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diplohub.events.models import Invitation, InvitationStatus, RegistrationStatus, Visibility
from diplohub.events.services import (
    registration_cancel,
    registration_create,
    registration_waitlist_position,
)
from diplohub.events.tests.test_services import colleague, make_event, refused


def test_it_marks_the_invitation_of_a_member_who_registers_without_the_link(cast):
    event = make_event(visibility=Visibility.MEMBERS)
    invitation = Invitation.objects.create(event=event, person=cast.consul.person)

    registration_create(event=event, person=cast.consul.person, by=cast.consul)

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REGISTERED
    assert invitation.answered_at is not None


def test_a_refused_registration_leaves_the_invitation_unanswered(cast):
    event = make_event(registration_closes=timezone.now() - datetime.timedelta(hours=1))
    invitation = Invitation.objects.create(event=event, person=cast.consul.person)

    refused("closed", registration_create, event=event, person=cast.consul.person)

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.INVITED
    assert invitation.answered_at is None


def test_it_leaves_the_invitations_alone_for_someone_not_invited(cast):
    event = make_event()
    Invitation.objects.create(event=event, person=cast.attache.person)

    with CaptureQueriesContext(connection) as queries:
        registration_create(event=event, person=cast.consul.person, by=cast.consul)

    writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "events_invitation"')]
    assert writes == []
    assert Invitation.objects.get().status == InvitationStatus.INVITED


def test_a_new_place_on_the_waitlist_comes_with_its_rank(cast):
    event = make_event(capacity=1, quota_per_organization=None)
    registration_create(event=event, person=cast.consul.person)
    ana = registration_create(event=event, person=cast.attache.person)
    yuki = registration_create(event=event, person=colleague(cast.japan, "Yuki"))

    assert (ana.position, yuki.position) == (1, 2)  # type: ignore[attr-defined]
    assert registration_waitlist_position(registration=yuki) == 2

    # Ana leaves the queue and comes back: behind Yuki, who moved up.
    registration_cancel(registration=ana, by=cast.attache)
    again = registration_create(event=event, person=cast.attache.person)
    assert again.status == RegistrationStatus.WAITLISTED
    assert again.position == 2  # type: ignore[attr-defined]
    assert registration_waitlist_position(registration=again) == 2


def test_a_seat_comes_without_a_rank(cast):
    event = make_event()
    kenji = registration_create(event=event, person=cast.consul.person)
    assert kenji.status == RegistrationStatus.CONFIRMED
    assert not hasattr(kenji, "position")
