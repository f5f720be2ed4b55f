"""Whatever happens, in whatever order, the seat rules hold (hypothesis).

Random sequences of register, cancel, substitute-free staff moves, promotions and
expired offers on a small event (3 seats, 2 per mission, 3 missions, 8 people) are
checked after every step with the same invariants as the concurrency tests.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diplohub.events.models import Event, EventStatus, Registration, RegistrationStatus
from diplohub.events.services import (
    RegistrationError,
    registration_cancel,
    registration_create,
    registration_move,
    registration_promote_waiting,
    registrations_release_expired_offers,
)
from diplohub.events.tests.test_concurrency import assert_invariants, build_people

PEOPLE = 8
slugs = itertools.count()

steps = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.integers(0, PEOPLE - 1)),
        st.tuples(st.just("cancel"), st.integers(0, PEOPLE - 1)),
        st.tuples(
            st.just("move"),
            st.integers(0, PEOPLE - 1),
            st.sampled_from(
                [
                    RegistrationStatus.CONFIRMED,
                    RegistrationStatus.WAITLISTED,
                    RegistrationStatus.NO_SHOW,
                    RegistrationStatus.CANCELLED,
                ]
            ),
        ),
        st.tuples(st.just("promote")),
        st.tuples(st.just("expire")),
    ),
    max_size=25,
)


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    return build_people(PEOPLE, 3)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_any_sequence_keeps_the_invariants(people, cast, steps):
    start = timezone.now() + datetime.timedelta(days=3)
    event = Event.objects.create(
        kind="visit",
        title="Small",
        slug=f"small-{next(slugs)}",
        start=start,
        end=start + datetime.timedelta(hours=1),
        status=EventStatus.PUBLISHED,
        capacity=3,
        quota_per_organization=2,
        promotion_hours=1,
    )
    overridden = False
    for step in steps:
        action, *rest = step
        person = people[rest[0]] if rest else None
        registration = (
            Registration.objects.filter(event=event, person=person).first() if person else None
        )
        try:
            if action == "register":
                registration_create(event=event, person=person)
            elif action == "cancel" and registration is not None:
                registration_cancel(registration=registration)
            elif action == "move" and registration is not None:
                registration_move(registration=registration, status=rest[1], by=cast.staff)
                overridden = True
            elif action == "promote":
                registration_promote_waiting(event=event)
            elif action == "expire":
                later = timezone.now() + datetime.timedelta(hours=2)
                registrations_release_expired_offers(event=event, now=later)
        except RegistrationError:
            pass
        if overridden:
            # Staff may seat people over capacity or quota on purpose: then only the
            # waitlist's own rules are checked.
            _assert_waitlist(event)
        else:
            assert_invariants(event)


def _assert_waitlist(event: Event) -> None:
    registrations = Registration.objects.filter(event=event)
    numbers = list(registrations.waiting().values_list("waitlist_number", flat=True))
    assert None not in numbers
    assert len(set(numbers)) == len(numbers)
    assert not registrations.exclude(status="waitlisted").exclude(waitlist_number=None).exists()
