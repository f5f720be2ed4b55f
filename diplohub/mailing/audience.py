"""Who a campaign reaches: a segment of the people a newsletter may be sent to.

`may_receive_campaigns` is the one place that says who may get a newsletter at all
(the sign-up side's rule: confirmed, wanting it, consent standing in the ledger); a
segment only narrows it. Within a criterion any choice matches; all the criteria
filled in must match at once; an empty segment is everyone who may receive it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _
from django_countries import countries

from diplohub.directory.models import Kind, Membership, Topic
from diplohub.mailing.models import Subscriber, SubscriberQuerySet

SUBSCRIBERS = "subscribers"
MEMBERS = "members"
GROUPS = (SUBSCRIBERS, MEMBERS)


class AudienceError(ValueError):
    """A segment with a value that does not exist; `field` names the criterion."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Audience:
    topics: tuple[str, ...] = ()  # topic slugs, from the subscriber's interests
    countries: tuple[str, ...] = ()  # ISO 3166 codes: the subscriber's or their post's
    kinds: tuple[str, ...] = ()  # kinds of the organisations of a member's current posts
    languages: tuple[str, ...] = ()  # the subscriber's language
    # Newsletter subscribers who signed up on the site, directory members who agreed
    # to the newsletter (subscribers linked to their directory entry); none: both.
    groups: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Audience:
        """The segment stored on a campaign (unknown keys are ignored)."""
        data = data or {}
        return cls(**{f.name: tuple(str(v) for v in data.get(f.name) or ()) for f in fields(cls)})

    def as_json(self) -> dict[str, list[str]]:
        return {f.name: list(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)}

    @property
    def is_everyone(self) -> bool:
        return not self.as_json()

    def check(self) -> Audience:
        """The segment itself, or AudienceError naming the first unknown value."""
        known = {
            "topics": set(Topic.objects.values_list("slug", flat=True)),
            "countries": set(dict(countries)),
            "kinds": set(Kind.values),
            "languages": {code for code, _name in settings.LANGUAGES},
            "groups": set(GROUPS),
        }
        messages = {
            "topics": _("No such topic: %(values)s."),
            "countries": _("No such country code: %(values)s."),
            "kinds": _("No such kind of organisation: %(values)s."),
            "languages": _("The hub does not write in: %(values)s."),
            "groups": _("No such group of recipients: %(values)s."),
        }
        for name, allowed in known.items():
            unknown = sorted(set(getattr(self, name)) - allowed)
            if unknown:
                raise AudienceError(name, messages[name] % {"values": ", ".join(unknown)})
        return self


def describe(audience: Audience) -> list[tuple[str, list[str]]]:
    """The segment in words, criterion by criterion, for staff pages; [] is everyone."""
    topics = dict(Topic.objects.filter(slug__in=audience.topics).values_list("slug", "name"))
    names: dict[str, dict[str, Any]] = {
        "groups": {
            SUBSCRIBERS: _("Newsletter subscribers who signed up on the site"),
            MEMBERS: _("Directory members who agreed to the newsletter"),
        },
        "languages": dict(settings.LANGUAGES),
        "topics": topics,
        "kinds": dict(Kind.choices),
        "countries": dict(countries),
    }
    labels = {
        "groups": _("Who"),
        "languages": _("Their language"),
        "topics": _("Topics of interest"),
        "kinds": _("Kind of organisation of their post"),
        "countries": _("Countries"),
    }
    return [
        (labels[name], [str(names[name].get(value, value)) for value in getattr(audience, name)])
        for name in labels
        if getattr(audience, name)
    ]


def may_receive_campaigns() -> SubscriberQuerySet:
    """Everyone a newsletter may be sent to, before any segment: the subscribers'
    own rule (confirmed, wanting the newsletter, a standing grant in the ledger)."""
    return Subscriber.objects.reachable()


def _holding_posts(organisations: Q) -> Iterable[int]:
    """People holding a post today at an organisation matching `organisations`."""
    return (
        Membership.objects.current().filter(organisations).values("person_id")  # type: ignore[return-value]
    )


def recipients(audience: Audience) -> SubscriberQuerySet:
    """The subscribers a campaign with this segment reaches, each once."""
    found = may_receive_campaigns()
    if audience.languages:
        found = found.filter(language__in=audience.languages)
    if audience.topics:
        found = found.filter(
            pk__in=Subscriber.topics.through.objects.filter(topic__slug__in=audience.topics).values(
                "subscriber_id"
            )
        )
    if audience.countries:
        found = found.filter(
            Q(country__in=audience.countries)
            | Q(person__in=_holding_posts(Q(post__organization__country__in=audience.countries)))
        )
    if audience.kinds:
        found = found.filter(
            person__in=_holding_posts(Q(post__organization__kind__in=audience.kinds))
        )
    groups = set(audience.groups)
    if groups == {MEMBERS}:
        found = found.filter(person__isnull=False)
    elif groups == {SUBSCRIBERS}:
        found = found.filter(person__isnull=True)
    return found
