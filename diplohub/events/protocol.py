"""The order of precedence of an event's attendees: the speaking and seating order.

1. The consular corps first, post after post in the directory's order of precedence
   (directory.models.precedence_key: career posts before honorary ones, then by class,
   then by date of exequatur, then by name);
2. then the other diplomatic bodies (embassy offices, international organisations,
   city networks), in the same order, as the diplomatic list shows them after the corps;
3. within one mission, its head first, then its other posts in the mission's own order
   (Post.position), then by rank of role; a delegate holding no post there comes last;
4. then everyone else, from the host and the ecosystem or from no organisation, by name.

Nothing here touches the database: the selector reads the registrations and the
people's current posts, and these functions only sort what they are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diplohub.directory.models import (
    CONSULAR_KINDS,
    DIPLOMATIC_KINDS,
    Organization,
    Person,
    Post,
    PostRole,
    precedence_key,
    sort_key,
)
from diplohub.events.models import Registration

CONSULAR_CORPS, OTHER_DIPLOMATIC, EVERYONE_ELSE = 0, 1, 2
ROLE_RANK = {role.value: rank for rank, role in enumerate(PostRole)}


@dataclass(frozen=True)
class Attendee:
    """One line of the order: its number (1..n), the registration, the post held at
    the organisation whose seat it is (None when there is none)."""

    number: int
    registration: Registration
    post: Post | None

    @property
    def person(self) -> Person:
        return self.registration.person

    @property
    def organization(self) -> Organization | None:
        return self.registration.organization


def tier(organization: Organization | None) -> int:
    if organization is None:
        return EVERYONE_ELSE
    if organization.kind in CONSULAR_KINDS:
        return CONSULAR_CORPS
    if organization.kind in DIPLOMATIC_KINDS:
        return OTHER_DIPLOMATIC
    return EVERYONE_ELSE


def post_key(post: Post | None) -> tuple[int, int, int, int]:
    """Head of mission first, then by the mission's order of posts, then by role."""
    if post is None:
        return (2, 0, 0, 0)
    head = 0 if post.role == PostRole.HEAD_OF_MISSION else 1
    return (head, post.position, ROLE_RANK.get(post.role, len(ROLE_RANK)), post.pk or 0)


def name_key(person: Person) -> tuple[str, str, int]:
    return (sort_key(person.family_name), sort_key(person.given_name), person.pk or 0)


def attendee_key(
    *, person: Person, organization: Organization | None, post: Post | None
) -> tuple[Any, ...]:
    """Where a person sits, on the seat of `organization` and holding `post` there."""
    rank = tier(organization)
    if organization is None or rank == EVERYONE_ELSE:
        return (rank, (), 0, (), name_key(person))
    # The default-language name (sort_name), as the diplomatic list sorts: the same
    # order whatever the language of the page.
    mission = precedence_key(
        kind=organization.kind,
        consular_class=organization.consular_class,
        exequatur_date=organization.exequatur_date,
        name=organization.sort_name or organization.name,
    )
    return (rank, mission, organization.pk or 0, post_key(post), name_key(person))


def post_at(posts: Iterable[Post], organization: Organization | None) -> Post | None:
    """The person's senior post at the organisation, of the posts they hold now."""
    if organization is None:
        return None
    there = [post for post in posts if post.organization_id == organization.pk]
    return min(there, key=post_key, default=None)


def order_of_precedence(
    registrations: Iterable[Registration], posts: Mapping[int, Sequence[Post]]
) -> list[Attendee]:
    """The registrations in order of precedence, numbered from 1.

    `posts` maps a person's id to the posts they hold today (at any organisation); the
    post that counts is the one at the organisation whose seat the registration is."""
    placed = []
    for registration in registrations:
        post = post_at(posts.get(registration.person_id, ()), registration.organization)
        key = attendee_key(
            person=registration.person, organization=registration.organization, post=post
        )
        placed.append((key, registration, post))
    placed.sort(key=lambda item: item[0])
    return [
        Attendee(number=number, registration=registration, post=post)
        for number, (_key, registration, post) in enumerate(placed, start=1)
    ]
