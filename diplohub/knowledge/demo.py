"""The demo knowledge hub, built from the data files in diplohub/knowledge/data/ on top
of the demo directory.

Nothing about the demo city lives here: vocabularies.json holds the managed
vocabularies, demo_covid.json the COVID-19 period example (the hub's response, the
city's developments, the global expert working group with its members, meetings and
publications, press coverage) and demo_initiatives.json the initiatives of other
cities. Every item goes through the services, as staff would make it, with fixed
publication dates, so the same files give the same catalogue.

build_demo_knowledge() works in steps, inside the caller's transaction:

1. the vocabularies;
2. the working group's member institutions missing from the directory (not shown
   in the city's public directory: they are partners abroad), and its fictitious
   members, who look fictitious ("Example-", "Sample-"…);
3. the hub's response and the other cities' initiatives, with references;
4. the scientific developments, part of the hub's response;
5. the working group, its members, its meetings (past events of the programme) and
   its publications;
6. the press coverage, linked to what it covers.
"""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from diplohub.directory.models import SECTOR_OF_KIND, Kind, Organization, Person, Topic, sort_key
from diplohub.events.models import Event, EventKind, EventStatus, Visibility
from diplohub.knowledge import services
from diplohub.knowledge.models import (
    Development,
    Initiative,
    InitiativeType,
    PressItem,
    Publication,
    PublicationState,
    ResponseType,
    Slug,
    WorkingGroup,
)
from diplohub.mailing.models import OutboundEmail
from diplohub.mailing.services import no_mail

DATA_DIR = Path(__file__).resolve().parent / "data"
# Publication dates of the other cities' initiatives: one a week from this day.
CATALOGUE_FROM = datetime.datetime(2023, 1, 9, 9, 0, tzinfo=datetime.UTC)
# The members' phones: a block the directory demo never reaches.
PHONE = "+34 600 000 {n:03d}"
FIRST_PHONE = 900


class DemoKnowledgeError(ValueError):
    """A data file disagrees with itself or with the demo directory."""


def _read(name: str, data_dir: Path = DATA_DIR) -> Any:
    return json.loads((data_dir / name).read_text(encoding="utf-8"))


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _translated(name: str, texts: dict[str, str]) -> dict[str, str]:
    return {f"{name}_{code}": texts.get(code, "") for code in _languages()}


def _date(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def _month(text: str) -> datetime.date:
    return datetime.date.fromisoformat(f"{text}-01")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9-]", "", "".join(c for c in folded if c.isascii()).lower())


def demo_knowledge_is_loaded() -> bool:
    return InitiativeType.objects.exists() or Initiative.objects.exists()


def reset_demo_knowledge(*, data_dir: Path = DATA_DIR) -> None:
    """Delete the catalogue (through the services, so the search index forgets it too),
    the vocabularies, and the demo's own organisations, people and meetings."""
    for model in (PressItem, Publication, WorkingGroup, Development, Initiative):
        for item in model.objects.all():
            services.item_delete(item=item)
    Slug.objects.all().delete()
    InitiativeType.objects.all().delete()
    ResponseType.objects.all().delete()
    covid = _read("demo_covid.json", data_dir)
    Event.objects.filter(slug__in=[m["slug"] for m in covid["working_group"]["meetings"]]).delete()
    families = [p["family_name"] for p in covid["people"]]
    Person.objects.filter(family_name__in=families).delete()
    Organization.objects.filter(slug__in=[o["slug"] for o in covid["organisations"]]).delete()
    OutboundEmail.objects.filter(kind__startswith="knowledge.").delete()


@no_mail()
def build_demo_knowledge(*, stdout: Any = None, data_dir: Path = DATA_DIR) -> str:
    """Build the demo catalogue into the demo directory; return a summary."""
    if not Organization.objects.exists():
        raise DemoKnowledgeError("The directory is empty: build the demo directory first.")
    if demo_knowledge_is_loaded():
        raise DemoKnowledgeError("The catalogue is not empty: reset it first.")
    builder = _Builder(data_dir, stdout)
    builder.vocabularies()
    builder.partners()
    builder.response()
    builder.initiatives()
    builder.developments()
    builder.working_group()
    builder.press()
    services.similar_recompute_all()  # the pages show them at once, with or without a worker
    return builder.summary()


class _Builder:
    def __init__(self, data_dir: Path, stdout: Any) -> None:
        self.dir = data_dir
        self.stdout = stdout
        self.covid = _read("demo_covid.json", data_dir)
        self.topics = {topic.slug: topic for topic in Topic.objects.all()}
        self.types: dict[str, InitiativeType] = {}
        self.responses: dict[str, ResponseType] = {}
        self.orgs: dict[str, Organization] = {}
        self.people: dict[str, Person] = {}
        self.initiative_by_key: dict[str, Initiative] = {}
        self.development_by_key: dict[str, Development] = {}
        self.group: WorkingGroup | None = None
        self.meetings: list[Event] = []
        self.publications: list[Publication] = []
        self.press_items: list[PressItem] = []

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    # Look-ups that name the data file's mistake.

    def topic_list(self, slugs: list[str], where: str) -> list[Topic]:
        unknown = set(slugs) - set(self.topics)
        if unknown:
            raise DemoKnowledgeError(f"{where}: unknown topics {sorted(unknown)}.")
        return [self.topics[slug] for slug in slugs]

    def org(self, key: str, where: str) -> Organization:
        if key in self.orgs:
            return self.orgs[key]
        org = Organization.objects.filter(slug=key).first()
        if org is None:
            raise DemoKnowledgeError(f"{where}: no organisation {key!r} in the demo directory.")
        self.orgs[key] = org
        return org

    # 1. Vocabularies

    def vocabularies(self) -> None:
        data = _read("vocabularies.json", self.dir)
        for position, row in enumerate(data["initiative_types"]):
            self.types[row["slug"]] = InitiativeType.objects.create(
                slug=row["slug"], position=position, **_translated("name", row["name"])
            )
        for position, row in enumerate(data["response_types"]):
            self.responses[row["slug"]] = ResponseType.objects.create(
                slug=row["slug"], position=position, **_translated("name", row["name"])
            )
        self.say(f"Vocabularies: {len(self.types)} types, {len(self.responses)} responses")

    # 2. Partner institutions and the working group's people

    def partners(self) -> None:
        description = self.covid["organisation_description"]
        for row in self.covid["organisations"]:
            org = Organization.objects.filter(slug=row["slug"]).first()
            if org is None:
                org = Organization(
                    slug=row["slug"],
                    kind=row["kind"],
                    acronym=row["acronym"],
                    country=row["country"],
                    city=row["city"],
                    website=row["website"],
                    is_public=False,
                    **_translated("name", row["name"]),
                    **_translated("description", description),
                )
                if org.kind not in Kind.values:
                    raise DemoKnowledgeError(f"{row['key']}: unknown kind {org.kind!r}.")
                org.sector = SECTOR_OF_KIND[Kind(org.kind)]
                org.sort_name = sort_key(org.name)
                org.full_clean(validate_unique=False, validate_constraints=False)
                org.save()
            self.orgs[row["key"]] = org
        for n, row in enumerate(self.covid["people"]):
            given, family = row["given_name"], row["family_name"]
            self.people[row["key"]] = Person.objects.create(
                honorific_prefix=row["honorific"],
                given_name=given,
                family_name=family,
                languages=["en"],
                email=f"{_ascii(given)}.{_ascii(family)}@example.org",
                phone=PHONE.format(n=FIRST_PHONE + n),
            )
        self.say(
            f"Working-group institutions added: {len(self.covid['organisations'])}, "
            f"members: {len(self.people)}"
        )

    # 3. Initiatives

    def _initiative(self, row: dict[str, Any], **fields: Any) -> Initiative:
        where = row["key"]
        if row["type"] not in self.types:
            raise DemoKnowledgeError(f"{where}: unknown type of initiative {row['type']!r}.")
        unknown = set(row["responses"]) - set(self.responses)
        if unknown:
            raise DemoKnowledgeError(f"{where}: unknown types of response {sorted(unknown)}.")
        initiative = Initiative(
            government=row["government"],
            city=row["city"],
            country=row["country"],
            initiative_type=self.types[row["type"]],
            languages=row["languages"],
            status=row["status"],
            **_translated("title", row["title"]),
            **_translated("summary", row["summary"]),
            **_translated("body", row.get("body", {})),
            **fields,
        )
        references = [
            services.ReferenceIn(
                outlet=ref["outlet"],
                title=ref["title"],
                url=ref["url"],
                date=_date(ref["date"]),
                language=ref["language"],
            )
            for ref in row.get("references", [])
        ]
        services.initiative_save(
            initiative=initiative,
            topics=self.topic_list(row["topics"], where),
            response_types=[self.responses[slug] for slug in row["responses"]],
            related_organizations=[self.org(key, where) for key in row.get("related", [])],
            references=references,
        )
        services.initiative_publish(initiative=initiative)
        self.initiative_by_key[where] = initiative
        return initiative

    def response(self) -> None:
        row = self.covid["response"]
        self._initiative(
            row,
            start_date=_date(row["start_date"]),
            contact_organization=self.org(row["contact_organization"], row["key"]),
            contact_email=row["contact_email"],
            links=row["links"],
            published_at=datetime.datetime.fromisoformat(row["published_at"]),
        )

    def initiatives_of_other_cities(self) -> list[dict[str, Any]]:
        return list(_read("demo_initiatives.json", self.dir)["initiatives"])

    def initiatives(self) -> None:
        rows = self.initiatives_of_other_cities()
        for week, row in enumerate(rows):
            host = _ascii(row["city"].split(",")[0].replace(" ", "-"))
            self._initiative(
                row,
                start_date=_month(row["start"]),
                contact_email=f"international@{host}.example",
                links=[
                    {"kind": "web", "url": f"https://{host}.example/{row['key']}"},
                    {"kind": "mastodon", "url": f"https://social.example/@{host}"},
                ],
                published_at=CATALOGUE_FROM + datetime.timedelta(weeks=week),
            )
        self.say(
            f"Initiatives: {len(self.initiative_by_key)} "
            f"(1 of the hub, {len(rows)} of other cities)"
        )

    # 4. Developments

    def developments(self) -> None:
        response = self.initiative_by_key[self.covid["response"]["key"]]
        published = datetime.datetime.fromisoformat(self.covid["response"]["published_at"])
        for n, row in enumerate(self.covid["developments"]):
            where = row["key"]
            development = Development(
                kind=row["kind"],
                lead_organization=self.org(row["lead"], where) if row["lead"] else None,
                funding_programme=row["funding"],
                **_translated("phase", row["phase"]),
                start_date=_date(row["start_date"]),
                published_at=published + datetime.timedelta(days=n),
                **_translated("title", row["title"]),
                **_translated("summary", row["summary"]),
            )
            services.development_save(
                development=development,
                topics=self.topic_list(row["topics"], where),
                partners=[self.org(key, where) for key in row["partners"]],
                initiatives=[response],
            )
            services.development_publish(development=development)
            self.development_by_key[where] = development
        self.say(f"Scientific developments: {len(self.development_by_key)}")

    # 5. The working group

    def working_group(self) -> None:
        data = self.covid["working_group"]
        zone = ZoneInfo(settings.TIME_ZONE)
        for row in data["meetings"]:
            day = datetime.date.fromisoformat(row["date"])
            start = datetime.datetime.combine(day, datetime.time.fromisoformat(row["start"]), zone)
            end = datetime.datetime.combine(day, datetime.time.fromisoformat(row["end"]), zone)
            self.meetings.append(
                Event.objects.create(
                    slug=row["slug"],
                    kind=EventKind.WORKING_GROUP,
                    venue="Online",
                    start=start,
                    end=end,
                    languages=["en"],
                    visibility=Visibility.PUBLIC,
                    status=EventStatus.PUBLISHED,
                    capacity=40,
                    **_translated("title", row["title"]),
                    **_translated("summary", row["summary"]),
                )
            )
        people = self.covid["people"]
        chair = self.people[people[0]["key"]]
        group = WorkingGroup(
            chair=chair,
            started=_date(data["started"]),
            published_at=datetime.datetime.fromisoformat(data["published_at"]),
            **_translated("title", data["title"]),
            **_translated("summary", data["summary"]),
            **_translated("body", data["body"]),
        )
        members = [
            services.MemberIn(
                person=self.people[row["key"]],
                organization=self.org(row["org"], row["key"]),
                role=row["role"]["en"],
            )
            for row in people
        ]
        services.working_group_save(
            working_group=group,
            topics=self.topic_list(data["topics"], "working group"),
            members=members,
            meetings=self.meetings,
        )
        services.working_group_publish(working_group=group)
        self.group = group
        for row in self.covid["publications"]:
            where = row["key"]
            issued = _date(row["date"])
            if issued is None:
                raise DemoKnowledgeError(f"{where}: a publication needs a date.")
            publication = Publication(
                kind=row["kind"],
                working_group=group,
                authors_text=row["authors_text"],
                date=issued,
                language=row["language"],
                published_at=datetime.datetime.combine(issued, datetime.time(9), datetime.UTC),
                **_translated("title", row["title"]),
                **_translated("summary", row["summary"]),
                **_translated("body", row["body"]),
            )
            services.publication_save(
                publication=publication,
                topics=self.topic_list(row["topics"], where),
                authors=[self.people[key] for key in row["authors"]],
            )
            services.publication_publish(publication=publication)
            self.publications.append(publication)
        self.say(
            f"Working group: {len(members)} members, {len(self.meetings)} meetings, "
            f"{len(self.publications)} publications"
        )

    # 6. Press

    def press(self) -> None:
        for row in self.covid["press"]:
            day = _date(row["date"])
            if day is None:
                raise DemoKnowledgeError(f"Press item {row['url']}: a date is required.")
            item = PressItem(
                title=row["title"],
                outlet=row["outlet"],
                date=day,
                language=row["language"],
                url=row["url"],
                published_at=datetime.datetime.combine(day, datetime.time(12), datetime.UTC),
                **_translated("summary", row["summary"]),
            )
            services.press_item_save(
                press_item=item,
                initiatives=[self.initiative_by_key[key] for key in row["initiatives"]],
                developments=[self.development_by_key[key] for key in row["developments"]],
                working_groups=[self.group] if row["working_groups"] and self.group else [],
            )
            services.press_item_publish(press_item=item)
            self.press_items.append(item)
        self.say(f"Press items: {len(self.press_items)}")

    def summary(self) -> str:
        published = PublicationState.PUBLISHED
        initiatives = Initiative.objects.filter(state=published)
        return (
            f"{initiatives.count()} initiatives from "
            f"{initiatives.values('country').distinct().count()} countries, "
            f"{len(self.development_by_key)} scientific developments, 1 working group with "
            f"{len(self.people)} members and {len(self.publications)} publications, "
            f"{len(self.press_items)} press items"
        )
