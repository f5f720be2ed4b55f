"""The demo hub, built deterministically from the data files in diplohub/directory/data/.

Nothing about the demo city lives in this module: demo.json names the city and the
reference files, the CSV files list its consular corps, international bodies and
innovation ecosystem, and data/README.md says where each row comes from. What is
here is generic: templates for the names of consular posts in each language, and the
rules that turn rows into organisations, posts and clearly fictitious people.

build_demo() works in steps, in one transaction:

1. topics;
2. consular posts (demo_consular_posts.csv, completed by the reference list of
   consulates), named from templates and django-countries' country names;
3. international bodies and ecosystem organisations (demo_*.csv, completed by the
   ROR records and the reference list of international organisations), then their
   parent links and topics;
4. posts and their fictitious holders: a head for every consular post, science
   attachés and counsellors, and the posts listed in demo_posts.csv;
5. rotations: for posts marked so, an earlier holder whose tenure
   services.post_assign() ends when the current holder starts;
6. the Circle programme on top of it (diplohub/events/demo.py);
7. the privacy policy, the terms and a few subscribers (diplohub/mailing/demo.py).

The same files give the same rows: no randomness, no dates relative to today, except
the programme's event dates, which follow the build week (events/demo.py says why).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django_countries import countries

from diplohub.directory.models import (
    CONSULAR_KINDS,
    DIPLOMATIC_KINDS,
    SECTOR_OF_KIND,
    Kind,
    Membership,
    Organization,
    Person,
    Post,
    PostRole,
    Topic,
    sort_key,
)
from diplohub.directory.services import post_assign
from diplohub.events.demo import DemoEventsError, build_demo_events, reset_demo_events
from diplohub.mailing.demo import build_demo_mailing, reset_demo_mailing

DATA_DIR = Path(__file__).resolve().parent / "data"

TOPICS = [
    ("health", "Health", "Salud", "Salut"),
    ("life-sciences", "Life sciences", "Ciencias de la vida", "Ciències de la vida"),
    ("hpc-ai", "HPC & AI", "Supercomputación e IA", "Supercomputació i IA"),
    (
        "climate",
        "Climate & earth sciences",
        "Clima y ciencias de la tierra",
        "Clima i ciències de la terra",
    ),
    ("energy", "Energy", "Energía", "Energia"),
    ("mobility", "Mobility", "Movilidad", "Mobilitat"),
    ("space", "Space", "Espacio", "Espai"),
    ("urban-innovation", "Urban innovation", "Innovación urbana", "Innovació urbana"),
]

# The classes of consular post (Vienna Convention on Consular Relations, art. 9), as
# (name of the office, title of its head), career and honorary, in each language.
# Post titles use the generic form; the holder's own form of address is on the person.
CONSULAR_TITLES: dict[tuple[bool, str], dict[str, tuple[str, str]]] = {
    (False, "consulate_general"): {
        "en": ("Consulate General", "Consul General"),
        "es": ("Consulado General", "Cónsul General"),
        "ca": ("Consolat General", "Cònsol General"),
    },
    (False, "consulate"): {
        "en": ("Consulate", "Consul"),
        "es": ("Consulado", "Cónsul"),
        "ca": ("Consolat", "Cònsol"),
    },
    (False, "vice_consulate"): {
        "en": ("Vice-Consulate", "Vice-Consul"),
        "es": ("Viceconsulado", "Vicecónsul"),
        "ca": ("Viceconsolat", "Vicecònsol"),
    },
    (False, "consular_agency"): {
        "en": ("Consular Agency", "Consular Agent"),
        "es": ("Agencia Consular", "Agente Consular"),
        "ca": ("Agència Consular", "Agent Consular"),
    },
    (True, "consulate_general"): {
        "en": ("Honorary Consulate General", "Honorary Consul General"),
        "es": ("Consulado General Honorario", "Cónsul General Honorario"),
        "ca": ("Consolat General Honorari", "Cònsol General Honorari"),
    },
    (True, "consulate"): {
        "en": ("Honorary Consulate", "Honorary Consul"),
        "es": ("Consulado Honorario", "Cónsul Honorario"),
        "ca": ("Consolat Honorari", "Cònsol Honorari"),
    },
    (True, "vice_consulate"): {
        "en": ("Honorary Vice-Consulate", "Honorary Vice-Consul"),
        "es": ("Viceconsulado Honorario", "Vicecónsul Honorario"),
        "ca": ("Viceconsolat Honorari", "Vicecònsol Honorari"),
    },
    (True, "consular_agency"): {
        "en": ("Honorary Consular Agency", "Honorary Consular Agent"),
        "es": ("Agencia Consular Honoraria", "Agente Consular Honorario"),
        "ca": ("Agència Consular Honorària", "Agent Consular Honorari"),
    },
}
IN_CITY = {"en": "in {city}", "es": "en {city}", "ca": "a {city}"}
# The languages the templates and data files are written in; a hub that runs with
# fewer (DIPLOHUB_LANGUAGES) stores only its own.
CONTENT_LANGUAGES = ("en", "es", "ca")

SCIENCE_POSTS: dict[str, tuple[str, dict[str, str]]] = {
    "attache": (
        PostRole.ATTACHE,
        {
            "en": "Science and Technology Attaché",
            "es": "Agregado de Ciencia y Tecnología",
            "ca": "Agregat de Ciència i Tecnologia",
        },
    ),
    "counsellor": (
        PostRole.COUNSELLOR,
        {
            "en": "Counsellor for Science and Innovation",
            "es": "Consejero de Ciencia e Innovación",
            "ca": "Conseller de Ciència i Innovació",
        },
    ),
}

D = datetime.date
# Fixed windows for the dates the demo invents (tenures, exequaturs): never "today".
CAREER_HEAD_SINCE = (D(2019, 9, 1), D(2024, 6, 30))
HONORARY_HEAD_SINCE = (D(2008, 1, 1), D(2024, 6, 30))
OTHER_POST_SINCE = (D(2016, 1, 1), D(2024, 6, 30))
ROTATION_YEARS = (3, 5)  # how long an earlier holder stayed
EXEQUATUR_DELAY_DAYS = (20, 120)
COORDINATE = Decimal("0.000001")


class DemoDataError(ValueError):
    """A data file disagrees with itself or with the models."""


def demo_is_loaded() -> bool:
    return Organization.objects.exists()


@transaction.atomic
def reset_demo() -> None:
    """Empty the directory, history included, so build_demo() starts from scratch."""
    reset_demo_events()  # events hold on to organisations and people
    reset_demo_mailing()
    for model in (Membership, Post, Person, Organization, Topic):
        model.objects.all().delete()
    for model in (Membership, Post, Person, Organization):
        model.history.model.objects.all().delete()  # type: ignore[attr-defined]


@transaction.atomic
def build_demo(*, stdout: Any = None, data_dir: Path = DATA_DIR) -> str:
    """Build the demo directory from data_dir into an empty directory; return a summary."""
    if demo_is_loaded():
        raise DemoDataError("The directory already has organisations: reset it first.")
    builder = _Builder(data_dir, stdout)
    builder.topics()
    builder.consular_posts()
    builder.organisations("demo_international_organisations.csv")
    builder.organisations("demo_ecosystem.csv")
    builder.save_organisations()
    builder.people_and_posts()
    try:
        build_demo_events(stdout=stdout)  # says what it built on stdout
    except DemoEventsError as error:
        raise DemoDataError(str(error)) from error
    build_demo_mailing(stdout=stdout)
    return builder.summary()


# Reading the data ---------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def _stable_int(*parts: str) -> int:
    """A number that depends only on its arguments (unlike hash(), which is salted)."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _stable_date(window: tuple[datetime.date, datetime.date], *parts: str) -> datetime.date:
    start, end = window
    return start + datetime.timedelta(days=_stable_int(*parts) % ((end - start).days + 1))


def _coordinate(text: str) -> Decimal | None:
    return Decimal(text).quantize(COORDINATE) if text else None


def _bare_ror_id(text: str) -> str:
    return text.rstrip("/").rsplit("/", 1)[-1]


def _ror_labels(text: str) -> dict[str, str]:
    """'Universitat de València@ca|University of Valencia@en' -> the first name per language."""
    labels: dict[str, str] = {}
    for item in filter(None, text.split("|")):
        name, _, lang = item.rpartition("@")
        if lang and name:
            labels.setdefault(lang, name)
    return labels


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9-]", "", "".join(c for c in folded if c.isascii()).lower())


# Names of consular posts ------------------------------------------------------------


def _country_name(code: str, lang: str, override: str = "") -> str:
    """django-countries' name, tidied: no trailing qualifier, no stray spaces, capitalised."""
    if override:
        return override
    with translation.override(lang):
        name = str(countries.name(code)).strip()
    name = re.sub(r"\s*\(.*\)$", "", name)  # "Xina (República Popular de)" -> "Xina"
    return name[:1].upper() + name[1:]


def _catalan_elides(word: str) -> bool:
    """'de' becomes "d'" before a vowel or h, but not before a semivowel (de Iemen)."""
    first = word[:1].lower()
    second = word[1:2].lower()
    if first in "iu" and second in "aeiouàèéíòóú":
        return False
    return first in "aeiouàáèéíïòóúüh"


def _of_country(lang: str, article: str, name: str) -> str:
    """The "of <country>" phrase, with the article the language wants and its contraction."""
    if lang == "es":
        return f"del {name}" if article == "el" else f"de {article} {name}".replace("  ", " ")
    if lang == "ca":
        if article in ("el", "els"):
            return f"d{article} {name}"
        if article == "l'":
            return f"de l'{name}"
        if article:
            return f"de {article} {name}"
        return f"d'{name}" if _catalan_elides(name) else f"de {name}"
    return f"of the {name}" if article else f"of {name}"


# Building ---------------------------------------------------------------------------


@dataclass
class _Entry:
    """An organisation being built, with what only the demo needs to know about it."""

    key: str
    org: Organization
    parent: str = ""
    topics: list[str] = field(default_factory=list)
    consular: dict[str, str] = field(default_factory=dict)


@dataclass
class _Tenure:
    """A post, its current holder from `since`, and the earlier holder if it rotated."""

    post: Post
    holder: Person
    since: datetime.date
    before: Person | None
    before_since: datetime.date


class _Builder:
    def __init__(self, data_dir: Path, stdout: Any) -> None:
        self.dir = data_dir
        self.stdout = stdout
        self.manifest = json.loads((data_dir / "demo.json").read_text(encoding="utf-8"))
        self.languages = [code for code, _name in settings.LANGUAGES]
        self.default_language = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        sources = self.manifest["sources"]
        self.ror = {
            _bare_ror_id(row["ror_id"]): row for row in _read_csv(data_dir / sources["ror"])
        }
        self.entries: dict[str, _Entry] = {}
        self.slugs: set[str] = set()
        self.topic_ids: dict[str, int] = {}
        self.people: list[Person] = []

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    # 1. Topics

    def topics(self) -> None:
        topics = [
            Topic(slug=slug, position=position, **self._translations("name", en=en, es=es, ca=ca))
            for position, (slug, en, es, ca) in enumerate(TOPICS)
        ]
        Topic.objects.bulk_create(topics)
        self.topic_ids = dict(Topic.objects.values_list("slug", "pk"))
        self.say(f"Topics: {len(topics)}")

    # 2. Consular posts

    def consular_posts(self) -> None:
        sources = self.manifest["sources"]
        reference = {
            row["sending_state_iso2"]: row for row in _read_csv(self.dir / sources["consulates"])
        }
        names: dict[tuple[str, str], dict[str, str]] = {
            (row["country"], row["lang"]): row for row in _read_csv(self.dir / "country_names.csv")
        }
        for row in _read_csv(self.dir / "demo_consular_posts.csv"):
            code = row["country"]
            ref = reference.get(code, {})
            if ref and ref["mission_type"] != row["kind"]:
                raise DemoDataError(
                    f"demo_consular_posts.csv: {code} is a {row['kind']}, "
                    f"but the reference list says {ref['mission_type']}."
                )
            honorary = row["kind"] == Kind.HONORARY_CONSULATE
            titles = CONSULAR_TITLES[(honorary, row["consular_class"])]
            city = ref.get("city") or self.manifest["city"]
            office: dict[str, str] = {}
            head: dict[str, str] = {}
            for lang in CONTENT_LANGUAGES:
                spelling = names.get((code, lang), {})
                country = _country_name(code, lang, spelling.get("name", ""))
                of = _of_country(lang, spelling.get("article", ""), country)
                office[lang] = f"{titles[lang][0]} {of}"
                head[lang] = f"{titles[lang][1]} {of} {IN_CITY[lang].format(city=city)}"
            address = row["address"] or ref.get("address", "")
            jurisdiction = ref.get("jurisdiction") or row["jurisdiction"]
            head_since = _stable_date(
                HONORARY_HEAD_SINCE if honorary else CAREER_HEAD_SINCE, "head", code
            )
            delay = EXEQUATUR_DELAY_DAYS[0] + _stable_int("exequatur", code) % (
                EXEQUATUR_DELAY_DAYS[1] - EXEQUATUR_DELAY_DAYS[0]
            )
            org = self._organisation(
                kind=row["kind"],
                names=office,
                country=code,
                city=city,
                address="" if address == "-" else address,
                website=ref.get("website", ""),
                wikidata_id=ref.get("wikidata_qid", ""),
                latitude=ref.get("latitude", ""),
                longitude=ref.get("longitude", ""),
                consular_class=row["consular_class"],
                exequatur_date=head_since + datetime.timedelta(days=delay),
                jurisdiction=", ".join(filter(None, jurisdiction.split("|"))),
            )
            consular = {
                "head_since": head_since.isoformat(),
                "science_post": row["science_post"],
                "rotation": row["rotation"],
                **{f"head_{lang}": text for lang, text in head.items()},
            }
            self._add(_Entry(key=f"consulate:{code}", org=org, consular=consular))
        career = sum(1 for e in self.entries.values() if e.org.is_career_post)
        self.say(
            f"Consular posts: {len(self.entries)} ({career} career, "
            f"{len(self.entries) - career} honorary)"
        )

    # 3. International bodies and ecosystem organisations

    def organisations(self, filename: str) -> None:
        sources = self.manifest["sources"]
        io_rows = {row["name"]: row for row in _read_csv(self.dir / sources["international"])}
        count = 0
        for row in _read_csv(self.dir / filename):
            io = {}
            if row.get("io_name"):
                if row["io_name"] not in io_rows:
                    raise DemoDataError(
                        f"{filename}: {row['io_name']!r} is not in {sources['international']}."
                    )
                io = io_rows[row["io_name"]]
            ror_id = row.get("ror_id") or _bare_ror_id(io.get("ror_id", ""))
            ror = self.ror[ror_id] if ror_id else {}
            if ror_id and not ror:
                raise DemoDataError(f"{filename}: ROR record {ror_id} is not in {sources['ror']}.")
            labels = _ror_labels(ror.get("labels", ""))
            primary = ror.get("name") or io.get("name", "")
            english = row["name_en"] or labels.get("en") or primary
            names = {
                lang: row.get(f"name_{lang}") or labels.get(lang) or primary or english
                for lang in self.languages
            }
            names["en"] = english
            acronym = row["acronym"] or io.get("acronym") or ror.get("acronyms", "").split("|")[0]
            if any(sort_key(acronym) == sort_key(name) for name in names.values()):
                acronym = ""
            kind = row["kind"]
            # An international body has no country of its own; the ecosystem is local.
            country = ""
            if kind not in DIPLOMATIC_KINDS:
                country = ror.get("country_code") or self.manifest["country"]
            org = self._organisation(
                kind=kind,
                names=names,
                descriptions={lang: row.get(f"description_{lang}", "") for lang in self.languages},
                acronym=acronym,
                country=country,
                city=ror.get("city") or io.get("city") or self.manifest["city"],
                website=row["website"] or ror.get("website") or io.get("website", ""),
                ror_id=ror_id,
                wikidata_id=ror.get("wikidata", ""),
                latitude=ror.get("lat", ""),
                longitude=ror.get("lng", ""),
            )
            topics = [t for t in row["topics"].split("|") if t]
            unknown = set(topics) - set(self.topic_ids)
            if unknown:
                raise DemoDataError(f"{filename}: {row['key']} has unknown topics {unknown}.")
            self._add(_Entry(key=row["key"], org=org, parent=row["parent"], topics=topics))
            count += 1
        self.say(f"Organisations from {filename}: {count}")

    def _organisation(
        self,
        *,
        kind: str,
        names: dict[str, str],
        descriptions: dict[str, str] | None = None,
        latitude: str = "",
        longitude: str = "",
        ror_id: str = "",
        wikidata_id: str = "",
        **fields: Any,
    ) -> Organization:
        if kind not in Kind.values:
            raise DemoDataError(f"{names['en']}: unknown kind {kind!r}.")
        slug = base = slugify(names["en"])[:100] or "organisation"
        n = 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.slugs.add(slug)
        translated = {f"name_{lang}": names[lang] for lang in self.languages}
        for lang in self.languages:
            translated[f"description_{lang}"] = (descriptions or {}).get(lang, "")
        return Organization(
            kind=kind,
            sector=SECTOR_OF_KIND[Kind(kind)],
            sort_name=sort_key(names[self.default_language]),
            slug=slug,
            latitude=_coordinate(latitude),
            longitude=_coordinate(longitude),
            ror_id=ror_id or None,
            wikidata_id=wikidata_id or None,
            **translated,
            **fields,
        )

    def _add(self, entry: _Entry) -> None:
        if entry.key in self.entries:
            raise DemoDataError(f"Two organisations have the key {entry.key!r}.")
        self.entries[entry.key] = entry

    def save_organisations(self) -> None:
        entries = list(self.entries.values())
        for entry in entries:
            try:
                entry.org.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                raise DemoDataError(f"{entry.key}: {error.message_dict}") from error
        Organization.objects.bulk_create([e.org for e in entries])
        linked = []
        for entry in entries:
            if entry.parent:
                if entry.parent not in self.entries:
                    raise DemoDataError(f"{entry.key}: no organisation has key {entry.parent!r}.")
                entry.org.parent = self.entries[entry.parent].org
                linked.append(entry.org)
        Organization.objects.bulk_update(linked, ["parent"])
        through = Organization.topics.through
        through.objects.bulk_create(
            through(organization_id=e.org.pk, topic_id=self.topic_ids[slug])
            for e in entries
            for slug in e.topics
        )
        _record_history(Organization, [e.org for e in entries])
        self.say(f"Parent links: {len(linked)}")

    # 4 and 5. Posts, people and rotations

    def people_and_posts(self) -> None:
        planned: list[_Tenure] = []
        forms = self.manifest["forms_of_address"]
        for entry in self.entries.values():
            if not entry.consular:
                continue
            org, info = entry.org, entry.consular
            head_form = forms["career_head" if org.is_career_post else "honorary_head"]
            honorific = "Dr" if _stable_int("honorific", entry.key) % 5 == 0 else ""
            planned.append(
                self._tenure(
                    key=f"{entry.key}:head",
                    post=self._post(org, PostRole.HEAD_OF_MISSION, 0, info, prefix="head_"),
                    since=datetime.date.fromisoformat(info["head_since"]),
                    honorific=honorific,
                    form=head_form,
                    rotate=info["rotation"] == "head",
                )
            )
            if info["science_post"]:
                role, labels = SCIENCE_POSTS[info["science_post"]]
                key = f"{entry.key}:science"
                doctor = _stable_int("honorific", key) % 2 == 0
                planned.append(
                    self._tenure(
                        key=key,
                        post=self._post(org, role, 1, labels),
                        since=_stable_date(OTHER_POST_SINCE, key),
                        honorific="Dr" if doctor else "",
                        form=forms["doctor" if doctor else "officer"],
                        rotate=info["rotation"] == "science",
                    )
                )
        for position, row in enumerate(_read_csv(self.dir / "demo_posts.csv"), start=2):
            if row["org"] not in self.entries:
                raise DemoDataError(f"demo_posts.csv: no organisation has key {row['org']!r}.")
            key = f"{row['org']}:{row['label_en']}"
            planned.append(
                self._tenure(
                    key=key,
                    post=self._post(
                        self.entries[row["org"]].org, row["role"], position, row, prefix="label_"
                    ),
                    since=_stable_date(OTHER_POST_SINCE, key),
                    honorific=row["honorific"],
                    form=row["form_of_address"],
                    rotate=bool(row["rotation"]),
                )
            )

        posts = [t.post for t in planned]
        Post.objects.bulk_create(posts)
        Person.objects.bulk_create(self.people)
        first = [
            Membership(post=t.post, person=t.before, start_date=t.before_since)
            if t.before
            else Membership(post=t.post, person=t.holder, start_date=t.since)
            for t in planned
        ]
        Membership.objects.bulk_create(first)
        _record_history(Post, posts)
        _record_history(Person, self.people)
        _record_history(Membership, first)
        # The earlier holder's tenure ends where the current one starts: the post,
        # and its history, stay with the organisation.
        rotations = [t for t in planned if t.before]
        for t in rotations:
            post_assign(post=t.post, person=t.holder, start_date=t.since)
        self.say(f"Posts: {len(posts)}, people: {len(self.people)}, rotations: {len(rotations)}")

    def _tenure(
        self,
        *,
        key: str,
        post: Post,
        since: datetime.date,
        honorific: str,
        form: str,
        rotate: bool,
    ) -> _Tenure:
        org = post.organization
        before = self._person(org, honorific, form) if rotate else None
        years = ROTATION_YEARS[0] + _stable_int("rotation", key) % (
            ROTATION_YEARS[1] - ROTATION_YEARS[0] + 1
        )
        before_since = since - datetime.timedelta(days=365 * years + _stable_int(key) % 90)
        return _Tenure(post, self._person(org, honorific, form), since, before, before_since)

    def _post(
        self, org: Organization, role: str, position: int, texts: dict[str, str], prefix: str = ""
    ) -> Post:
        labels = {f"label_{lang}": texts[f"{prefix}{lang}"] for lang in self.languages}
        return Post(organization=org, role=role, position=position, **labels)

    def _person(self, org: Organization, honorific: str, form: str) -> Person:
        """The next fictitious person: a real given name, a family name that says 'demo'."""
        people = self.manifest["people"]
        n = len(self.people)
        female = n % 2 == 0  # alternating keeps the demo balanced
        pool = people["given_names_f" if female else "given_names_m"]
        given = pool[(n // 2) % len(pool)]
        marker = people["markers"][n % len(people["markers"])]
        family = f"{marker}-{people['family_names'][(n * 7) % len(people['family_names'])]}"
        domains = self.manifest["email_domains"]
        domain = domains.get(org.kind, domains["default"])
        forms = form.split("|")  # "masculine|feminine", or one form for both
        diplomatic = org.kind in DIPLOMATIC_KINDS
        person = Person(
            honorific_prefix=honorific,
            given_name=given,
            family_name=family,
            form_of_address=forms[-1] if female else forms[0],
            languages=self.manifest["languages"]["diplomatic" if diplomatic else "ecosystem"],
            email=f"{_ascii(given)}.{_ascii(family)}@{domain}",
            phone=self.manifest["phone"].format(n=n + 1),
        )
        self.people.append(person)
        return person

    def _translations(self, name: str, **texts: str) -> dict[str, str]:
        return {f"{name}_{lang}": texts[lang] for lang in self.languages}

    def summary(self) -> str:
        orgs = [e.org for e in self.entries.values()]
        consular = sum(1 for o in orgs if o.kind in CONSULAR_KINDS)
        international = sum(
            1 for o in orgs if o.kind in (Kind.INTERNATIONAL_ORGANISATION, Kind.CITY_NETWORK)
        )
        return (
            f"{consular} consular posts, {international} international bodies, "
            f"{len(orgs) - consular - international} ecosystem organisations, "
            f"{len(self.topic_ids)} topics, {len(self.people)} people"
        )


def _record_history(model: type[models.Model], objects: list[Any]) -> None:
    """The 'created' history rows that bulk_create() skips, translated fields included.

    simple_history's own bulk helper copies only the fields it saw before
    modeltranslation added the per-language columns, so it would lose them.
    """
    history = model.history.model  # type: ignore[attr-defined]
    own = {"history_id", "history_date", "history_change_reason", "history_type"}
    names = [
        f.attname
        for f in history._meta.concrete_fields
        if f.attname not in own and f.attname != "history_user_id"
    ]
    now = timezone.now()
    history.objects.bulk_create(
        history(
            history_date=now,
            history_type="+",
            history_change_reason="demo data",
            **{name: getattr(obj, name) for name in names},
        )
        for obj in objects
    )
