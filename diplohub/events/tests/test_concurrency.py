"""Hundreds of registrations at once: seats, quotas and the waitlist hold.

These tests really run in parallel: each thread has its own database connection, on
PostgreSQL (rows locked with SELECT … FOR UPDATE) and on SQLite (a file database whose
writers queue on BEGIN IMMEDIATE).
"""

from __future__ import annotations

import datetime
import queue
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.text import slugify

from diplohub.directory.models import Kind, Membership, Organization, Person, Post, PostRole
from diplohub.events.models import Event, EventStatus, Registration, RegistrationStatus
from diplohub.events.services import (
    RegistrationError,
    registration_cancel,
    registration_create,
    registration_promote_waiting,
)

CAPACITY = 100
QUOTA = 2
PEOPLE = 300
ORGANIZATIONS = 120
THREADS = 24


def build_people(count: int, organizations: int, *, prefix: str = "") -> list[Person]:
    """`count` people spread over `organizations` missions, each holding a post; a
    prefix ("New") makes a second, separate batch."""
    orgs = Organization.objects.bulk_create(
        Organization(
            kind=Kind.CONSULATE,
            sector="diplomatic",
            name=f"{prefix} Mission {i:03}".strip(),
            sort_name=f"{prefix} mission {i:03}".strip().lower(),
            slug=slugify(f"{prefix} mission {i:03}"),
        )
        for i in range(organizations)
    )
    people = Person.objects.bulk_create(
        Person(given_name=f"{prefix} Delegate {i:03}".strip(), family_name="Example")
        for i in range(count)
    )
    posts = Post.objects.bulk_create(
        Post(organization=orgs[i % organizations], label="Delegate", role=PostRole.OFFICER)
        for i in range(count)
    )
    Membership.objects.bulk_create(
        Membership(person=person, post=post) for person, post in zip(people, posts, strict=True)
    )
    return people


def make_event(capacity: int = CAPACITY, quota: int | None = QUOTA) -> Event:
    start = timezone.now() + datetime.timedelta(days=7)
    return Event.objects.create(
        kind="encounter",
        title="Storm",
        slug="storm",
        start=start,
        end=start + datetime.timedelta(hours=2),
        status=EventStatus.PUBLISHED,
        capacity=capacity,
        quota_per_organization=quota,
    )


def in_parallel(
    work: Callable[[Any], Any], items: Iterable[Any], threads: int = THREADS
) -> tuple[list[Any], list[BaseException]]:
    """Run work(item) for every item on `threads` threads, each with its own connection.

    Returns the results and the exceptions raised; a barrier makes the threads start
    together, so the calls really overlap.
    """
    todo: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for item in items:
        todo.put(item)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait()
        try:
            while True:
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = work(item)
                except BaseException as error:
                    with lock:
                        errors.append(error)
                else:
                    with lock:
                        results.append(result)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results, errors


def assert_invariants(event: Event) -> dict[str, int]:
    """Seats, quotas and the waitlist as the rules say, whatever happened before."""
    event.refresh_from_db()
    registrations = list(Registration.objects.filter(event=event))
    seated = [r for r in registrations if r.status in ("confirmed", "attended", "no_show")]
    waiting = sorted(
        (r for r in registrations if r.status == RegistrationStatus.WAITLISTED),
        key=lambda r: r.waitlist_number or 0,
    )
    people = Counter(r.person_id for r in registrations)
    assert [p for p, n in people.items() if n > 1] == [], "someone registered twice"
    assert len(seated) <= event.capacity, "overbooked"
    per_org = Counter(r.organization_id for r in seated if r.organization_id is not None)
    if event.quota_per_organization is not None:
        over = {org: n for org, n in per_org.items() if n > event.quota_per_organization}
        assert over == {}, f"organisations over quota: {over}"
    numbers = [r.waitlist_number for r in waiting]
    assert None not in numbers
    assert len(set(numbers)) == len(numbers), "two people hold the same waitlist ticket"
    assert all(r.waitlist_number is None for r in registrations if r.status != "waitlisted"), (
        "a ticket left on someone not waiting"
    )
    # Positions are ranks among the waiting: 1..n without gaps, in ticket order.
    for position, registration in enumerate(waiting, start=1):
        rank = (
            Registration.objects.waiting()
            .filter(event=event, waitlist_number__lte=registration.waitlist_number)
            .count()
        )
        assert rank == position
    # Nobody waits for a seat they could have: if seats are free, everyone still waiting
    # belongs to an organisation at its quota.
    if len(seated) < event.capacity:
        quota = event.quota_per_organization
        eligible = [
            r
            for r in waiting
            if quota is None or r.organization_id is None or per_org[r.organization_id] < quota
        ]
        assert eligible == [], "a free seat while an eligible person waits"
    return {"seated": len(seated), "waiting": len(waiting), "total": len(registrations)}


def only_refusals(errors: list[BaseException]) -> None:
    unexpected = [e for e in errors if not isinstance(e, RegistrationError)]
    assert unexpected == [], unexpected[:3]


@pytest.mark.django_db(transaction=True)
def test_a_registration_storm_keeps_seats_quotas_and_the_waitlist():
    people = build_people(PEOPLE, ORGANIZATIONS)
    event = make_event()
    # Everyone registers, a third of them twice (a double click), all at once.
    submissions = people + people[::3]
    random.Random(3).shuffle(submissions)

    results, errors = in_parallel(
        lambda person: registration_create(event=event, person=person), submissions
    )

    assert errors == []
    assert len({r.pk for r in results}) == PEOPLE
    counts = assert_invariants(event)
    assert counts == {"seated": CAPACITY, "waiting": PEOPLE - CAPACITY, "total": PEOPLE}


@pytest.mark.django_db(transaction=True)
def test_the_quota_holds_when_missions_outnumber_the_seats_they_may_take():
    # 40 missions of 5 people, 2 seats each: at most 80 of the 100 seats can be taken.
    people = build_people(200, 40)
    event = make_event()

    _results, errors = in_parallel(
        lambda person: registration_create(event=event, person=person), people
    )

    assert errors == []
    counts = assert_invariants(event)
    assert counts == {"seated": 80, "waiting": 120, "total": 200}


@pytest.mark.django_db(transaction=True)
def test_parallel_cancellations_and_promotions_keep_the_invariants():
    people = build_people(PEOPLE, ORGANIZATIONS)
    event = make_event()
    in_parallel(lambda person: registration_create(event=event, person=person), people)
    registrations = list(Registration.objects.filter(event=event))
    rng = random.Random(7)
    seated = [r for r in registrations if r.status == RegistrationStatus.CONFIRMED]
    waiting = [r for r in registrations if r.status == RegistrationStatus.WAITLISTED]
    newcomers = build_people(40, 40, prefix="New")

    # Cancel 60 seats and 40 places in the queue, promote by hand, let newcomers in and
    # people cancel twice — all mixed together, all at once.
    cancels = rng.sample(seated, 60) + rng.sample(waiting, 40)
    jobs: list[tuple[str, Any]] = [("cancel", r) for r in cancels]
    jobs += [("cancel", r) for r in cancels[:20]]
    jobs += [("promote", None)] * 20
    jobs += [("register", p) for p in newcomers]
    rng.shuffle(jobs)

    def work(job: tuple[str, Any]) -> Any:
        action, target = job
        if action == "cancel":
            return registration_cancel(registration=target)
        if action == "promote":
            return registration_promote_waiting(event=event)
        return registration_create(event=event, person=target)

    _results, errors = in_parallel(work, jobs)

    only_refusals(errors)
    assert errors == []
    counts = assert_invariants(event)
    assert counts == {"seated": CAPACITY, "waiting": PEOPLE + 40 - 100 - CAPACITY, "total": 340}
    assert Registration.objects.filter(event=event, status="cancelled").count() == 100
    # The 60 freed seats went to people from the waitlist (offered, with a time to
    # confirm), or to newcomers who found a seat free.
    confirmed = Registration.objects.filter(event=event, status="confirmed")
    kept = {r.pk for r in seated} - {r.pk for r in cancels}
    others = confirmed.exclude(pk__in=kept)
    assert others.count() == 60
    assert not others.filter(confirm_by=None).exclude(person__in=newcomers).exists()
