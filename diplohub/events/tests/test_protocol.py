"""The order of precedence (protocol.py): a table of cases, no database.

Each case lists attendees in the order they should be seated; the test feeds them to
order_of_precedence() in reverse order of registration and expects them back sorted.
"""

from __future__ import annotations

import datetime

import pytest

from diplohub.directory.models import Kind, Organization, Person, Post, PostRole
from diplohub.events import protocol
from diplohub.events.models import Registration

_ids = iter(range(1, 10_000))


def org(name: str, kind: str = Kind.CONSULATE_GENERAL, **fields) -> Organization:  # type: ignore[no-untyped-def]
    consular_class = {
        Kind.CONSULATE_GENERAL: "consulate_general",
        Kind.CONSULATE: "consulate",
        Kind.HONORARY_CONSULATE: "consulate",
    }.get(kind, "")
    values = {"consular_class": consular_class, **fields}
    return Organization(pk=next(_ids), kind=kind, name=name, **values)


def person(name: str, **fields) -> Person:  # type: ignore[no-untyped-def]
    given, family = name.split(" ", 1)
    return Person(pk=next(_ids), given_name=given, family_name=family, **fields)


def post(at: Organization, role: str = PostRole.HEAD_OF_MISSION, position: int = 0) -> Post:
    return Post(
        pk=next(_ids), organization=at, label=f"{role} at {at.name}", role=role, position=position
    )


def day(year: int) -> datetime.date:
    return datetime.date(year, 1, 1)


JAPAN = org("Consulate General of Japan", exequatur_date=day(2015))
MEXICO = org("Consulate General of Mexico", exequatur_date=day(2010))
ITALY = org("Consulate of Italy", Kind.CONSULATE, exequatur_date=day(1999))
AUSTRIA = org("Àustria, Consulate General", exequatur_date=None)
BELGIUM = org("Belgium, Consulate General", exequatur_date=None)
MALTA = org("Honorary Consulate of Malta", Kind.HONORARY_CONSULATE, exequatur_date=day(1980))
EU = org("European Commission office", Kind.EMBASSY_OFFICE)
UNU = org("United Nations University", Kind.INTERNATIONAL_ORGANISATION)
CENTRE = org("Supercomputing Centre", Kind.RESEARCH_CENTRE)
UNIVERSITY = org("A University", Kind.UNIVERSITY)


def seat(who: Person, at: Organization | None, *posts: Post) -> tuple[Registration, list[Post]]:
    return Registration(pk=next(_ids), person=who, organization=at), list(posts)


CASES = {
    "an earlier exequatur first in its class": [
        seat(person("Marta Mexico"), MEXICO, post(MEXICO)),
        seat(person("Kenji Japan"), JAPAN, post(JAPAN)),
    ],
    "a consulate-general before a consulate, whatever the dates": [
        seat(person("Kenji Japan"), JAPAN, post(JAPAN)),
        seat(person("Ivo Italy"), ITALY, post(ITALY)),
    ],
    "career posts before honorary ones": [
        seat(person("Ivo Italy"), ITALY, post(ITALY)),
        seat(person("Mario Malta"), MALTA, post(MALTA)),
    ],
    "posts without an exequatur last in their class, then by name, accents folded": [
        seat(person("Kenji Japan"), JAPAN, post(JAPAN)),
        seat(person("Anna Austria"), AUSTRIA, post(AUSTRIA)),
        seat(person("Bart Belgium"), BELGIUM, post(BELGIUM)),
    ],
    "the consular corps before the other diplomatic bodies": [
        seat(person("Mario Malta"), MALTA, post(MALTA)),
        seat(person("Eva Europe"), EU, post(EU, PostRole.DIRECTOR)),
        seat(person("Uma Nations"), UNU, post(UNU, PostRole.DIRECTOR)),
    ],
    "the diplomatic community before the host and the ecosystem": [
        seat(person("Zoe Zeta"), UNU, post(UNU, PostRole.OFFICER)),
        seat(person("Adam Aalto"), CENTRE, post(CENTRE, PostRole.DIRECTOR)),
    ],
    "the host, the ecosystem and people without an organisation by family name": [
        seat(person("Zoe Adams"), UNIVERSITY),
        seat(person("Hugo Host-Example"), CENTRE, post(CENTRE, PostRole.DIRECTOR)),
        seat(person("Olga Ortiz"), None),
        seat(person("Adam Zed"), UNIVERSITY),
    ],
    "the head of mission first, even when another post is ordered before it": [
        seat(person("Kenji Japan"), JAPAN, post(JAPAN, position=5)),
        seat(person("Aiko Japan"), JAPAN, post(JAPAN, PostRole.DEPUTY, position=0)),
    ],
    "then the mission's own order of posts, then the rank of the role": [
        seat(person("Kenji Japan"), JAPAN, post(JAPAN)),
        seat(person("Yui Japan"), JAPAN, post(JAPAN, PostRole.ATTACHE, position=1)),
        seat(person("Ren Japan"), JAPAN, post(JAPAN, PostRole.COUNSELLOR, position=2)),
        seat(person("Sota Japan"), JAPAN, post(JAPAN, PostRole.OFFICER, position=2)),
    ],
    "a delegate without a post at the mission after its posts, before the next mission": [
        seat(person("Marta Mexico"), MEXICO, post(MEXICO)),
        seat(person("Ana Attaché"), MEXICO, post(MEXICO, PostRole.ATTACHE, 1)),
        seat(person("Aaron Guest"), MEXICO),
        seat(person("Kenji Japan"), JAPAN, post(JAPAN)),
    ],
    "the post that counts is the one at the seat's organisation": [
        seat(person("Kenji Japan"), JAPAN, post(JAPAN)),
        seat(person("Dual Hat"), JAPAN, post(MEXICO), post(JAPAN, PostRole.ATTACHE, 1)),
    ],
    "of two posts at the mission, the senior one": [
        seat(person("Two Posts"), JAPAN, post(JAPAN, PostRole.OFFICER, 3), post(JAPAN)),
        seat(person("Kenji Japan"), JAPAN, post(JAPAN, PostRole.DEPUTY, 1)),
    ],
}


@pytest.mark.parametrize("expected", CASES.values(), ids=CASES.keys())
def test_it_sorts_by_order_of_precedence(expected):
    registrations = [registration for registration, _posts in reversed(expected)]
    posts = {registration.person_id: posts for registration, posts in expected}
    order = protocol.order_of_precedence(registrations, posts)
    assert [a.person.name for a in order] == [r.person.name for r, _posts in expected]
    assert [a.number for a in order] == list(range(1, len(expected) + 1))


def test_it_gives_each_line_the_post_at_the_seats_organisation():
    registration, posts = seat(
        person("Dual Hat"), JAPAN, post(MEXICO), post(JAPAN, PostRole.ATTACHE, 1)
    )
    (line,) = protocol.order_of_precedence([registration], {registration.person_id: posts})
    assert line.post is posts[1]
    assert line.organization is JAPAN


def test_it_numbers_an_empty_list():
    assert protocol.order_of_precedence([], {}) == []


@pytest.mark.parametrize(
    "organization,tier",
    [
        (JAPAN, protocol.CONSULAR_CORPS),
        (MALTA, protocol.CONSULAR_CORPS),
        (EU, protocol.OTHER_DIPLOMATIC),
        (UNU, protocol.OTHER_DIPLOMATIC),
        (org("Cities network", Kind.CITY_NETWORK), protocol.OTHER_DIPLOMATIC),
        (CENTRE, protocol.EVERYONE_ELSE),
        (org("A company", Kind.COMPANY), protocol.EVERYONE_ELSE),
        (None, protocol.EVERYONE_ELSE),
    ],
)
def test_the_tiers(organization, tier):
    assert protocol.tier(organization) == tier


def test_the_key_ignores_the_language_of_the_organisations_name():
    """The default-language sort name decides, as on the diplomatic list."""
    first = org("Zzz", exequatur_date=None)
    first.sort_name = "aaa"
    second = org("Aaa", exequatur_date=None)
    second.sort_name = "zzz"
    someone = person("Some One")
    keys = [
        protocol.attendee_key(person=someone, organization=o, post=None) for o in (first, second)
    ]
    assert keys[0] < keys[1]
