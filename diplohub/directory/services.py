"""Directory workflows, shared by pages, API, admin and importers."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from diplohub.directory.models import Membership, Organization, Person, Post


def unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:100] or "organisation"
    slug, n = base, 1
    taken = Organization.objects.all()
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_update_content(
    *, organization: Organization, data: dict[str, Any], by: Any
) -> Organization:
    """Save what a host or staff member may edit on an organisation's public page."""
    for code, _name in settings.LANGUAGES:
        key = f"description_{code}"
        if key in data:
            setattr(organization, key, data[key])
    if "website" in data:
        organization.website = data["website"]
    organization._history_user = by  # type: ignore[attr-defined]
    organization.full_clean()
    organization.save()
    if "topics" in data:
        organization.topics.set(data["topics"])
    return organization


@transaction.atomic
def post_assign(
    *, post: Post, person: Person, start_date: datetime.date | None = None
) -> Membership:
    """Put a person in a post from start_date, ending the previous holder's tenure.

    The post keeps its history: the outgoing tenure is closed, not deleted, and the
    relationships attached to the post (and its organisation) carry over to the newcomer.
    """
    start_date = start_date or timezone.localdate()
    current = Membership.objects.select_for_update().filter(post=post).current(start_date)
    for tenure in current:
        if tenure.person_id == person.pk:
            return tenure
        if tenure.start_date and tenure.start_date > start_date:
            raise ValidationError(
                f"{tenure.person} holds this post from {tenure.start_date}, after {start_date}."
            )
        tenure.end_date = start_date
        tenure.save(update_fields=["end_date"])
    return Membership.objects.create(post=post, person=person, start_date=start_date)
