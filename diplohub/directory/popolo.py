"""The public directory as Popolo JSON (https://www.popoloproject.com/).

Only public data: organisations, posts, and people by their public name while they
hold a post. E-mails and phones never leave the hub this way, and nothing points at
an organisation that is not public (a parent, a post, a membership). Every object
validates against the Popolo schemas (tests/test_popolo.py); countries are areas
identified by their ISO 3166-1 code.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch

from diplohub.directory.models import Membership, Organization, Post


def _org_id(org_pk: int) -> str:
    return f"organization/{org_pk}"


def export_directory() -> dict[str, Any]:
    orgs = (
        Organization.objects.public()
        .prefetch_related(
            Prefetch("posts", queryset=Post.objects.order_by("position", "pk")),
        )
        .order_by("pk")
    )
    public_pks = set(Organization.objects.public().values_list("pk", flat=True))
    organizations: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    countries: dict[str, str] = {}
    for org in orgs:
        organizations.append(_organization(org, public_pks))
        if org.country:
            countries[org.country.code] = str(org.country.name)
        for post in org.posts.all():
            posts.append(
                {
                    "id": f"post/{post.pk}",
                    "label": post.label,
                    "role": post.get_role_display(),
                    "organization_id": _org_id(org.pk),
                }
            )
    memberships_qs = (
        Membership.objects.current()
        .filter(post__organization__in=public_pks)
        .select_related("person", "post")
        .order_by("pk")
    )
    people: dict[int, dict[str, Any]] = {}
    memberships: list[dict[str, Any]] = []
    for tenure in memberships_qs:
        person = tenure.person
        people.setdefault(
            person.pk,
            {
                "id": f"person/{person.pk}",
                "name": person.name,
                "given_name": person.given_name,
                "family_name": person.family_name,
                **(
                    {"honorific_prefix": person.honorific_prefix} if person.honorific_prefix else {}
                ),
            },
        )
        membership: dict[str, Any] = {
            "id": f"membership/{tenure.pk}",
            "person_id": f"person/{person.pk}",
            "organization_id": _org_id(tenure.post.organization_id),
            "post_id": f"post/{tenure.post_id}",
            "role": tenure.post.label,
        }
        if tenure.start_date:
            membership["start_date"] = tenure.start_date.isoformat()
        memberships.append(membership)
    areas = [
        {
            "id": f"country/{code}",
            "name": name,
            "classification": "country",
            "identifier": code,
        }
        for code, name in sorted(countries.items())
    ]
    return {
        "organizations": organizations,
        "posts": posts,
        "persons": list(people.values()),
        "memberships": memberships,
        "areas": areas,
    }


def _organization(org: Organization, public_pks: set[int]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": _org_id(org.pk),
        "name": org.name,
        "classification": org.kind,
        "other_names": [
            {"name": getattr(org, f"name_{code}"), "note": f"name in {code}"}
            for code, _n in settings.LANGUAGES
            if getattr(org, f"name_{code}", None) and getattr(org, f"name_{code}") != org.name
        ],
        "identifiers": [],
        "links": [],
    }
    if org.acronym:
        data["other_names"].append({"name": org.acronym, "note": "acronym"})
    if org.ror_id:
        data["identifiers"].append({"scheme": "ror", "identifier": org.ror_id})
    if org.wikidata_id:
        data["identifiers"].append({"scheme": "wikidata", "identifier": org.wikidata_id})
    if org.website:
        data["links"].append({"url": org.website, "note": "website"})
    if org.parent_id in public_pks:
        data["parent_id"] = _org_id(org.parent_id)
    if org.country:
        data["area_id"] = f"country/{org.country.code}"
    return data
