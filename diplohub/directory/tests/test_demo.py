"""The demo data set: complete, consistent, fictitious, and the same every time it is built."""

import csv
import inspect
import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from diplohub.directory import demo
from diplohub.directory.models import (
    ConsularClass,
    Kind,
    Membership,
    Organization,
    Person,
    Post,
    PostRole,
    precedence_key,
)

DATA = demo.DATA_DIR
MANIFEST = json.loads((DATA / "demo.json").read_text(encoding="utf-8"))
CERCA = "01bkbaq61"


def rows(name):
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """Build the demo once for the module; each test runs in a transaction rolled back after."""
    with django_db_blocker.unblock():
        demo.reset_demo()
        summary = demo.build_demo()
    yield summary
    with django_db_blocker.unblock():
        demo.reset_demo()


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("built")]


def dump():
    """The demo's content, keyed by natural keys (never primary keys or timestamps)."""
    orgs = [
        (
            o.slug,
            o.kind,
            o.sector,
            o.name_en,
            o.name_es,
            o.name_ca,
            o.sort_name,
            o.description_en,
            o.description_es,
            o.description_ca,
            o.acronym,
            o.country.code or "",
            o.city,
            o.address,
            o.website,
            o.ror_id,
            o.wikidata_id,
            str(o.latitude),
            str(o.longitude),
            o.parent.slug if o.parent else "",
            o.consular_class,
            str(o.exequatur_date),
            o.jurisdiction,
            tuple(sorted(t.slug for t in o.topics.all())),
        )
        for o in Organization.objects.select_related("parent").prefetch_related("topics")
    ]
    people = sorted(
        (
            p.email,
            p.honorific_prefix,
            p.given_name,
            p.family_name,
            p.form_of_address,
            p.phone,
            tuple(p.languages),
        )
        for p in Person.objects.all()
    )
    posts = sorted(
        (p.organization.slug, p.position, p.role, p.label_en, p.label_es, p.label_ca)
        for p in Post.objects.select_related("organization")
    )
    tenures = sorted(
        (
            m.post.organization.slug,
            m.post.position,
            m.person.email,
            str(m.start_date),
            str(m.end_date),
        )
        for m in Membership.objects.select_related("post__organization", "person")
    )
    precedence = list(Organization.objects.consular().in_precedence_order().values_list("slug"))
    return orgs, people, posts, tenures, precedence


def test_it_builds_the_whole_consular_corps(built):
    consular = Organization.objects.consular()
    assert consular.count() == 95
    assert sum(o.is_career_post for o in consular) == 41
    assert consular.filter(kind=Kind.HONORARY_CONSULATE).count() == 54
    assert built.startswith("95 consular posts, ")
    assert re.fullmatch(
        r"95 consular posts, \d+ international bodies, \d+ ecosystem organisations, "
        r"8 topics, \d+ people",
        built,
    )


def test_it_uses_every_consulate_of_the_reference_list():
    reference = {row["sending_state_iso2"] for row in rows(MANIFEST["sources"]["consulates"])}
    loaded = set(Organization.objects.consular().values_list("country", flat=True))
    assert reference <= loaded
    assert len(loaded) == 95  # one post per sending state


def test_every_consular_class_is_present_and_ranked():
    honorary = Organization.objects.filter(kind=Kind.HONORARY_CONSULATE)
    assert set(honorary.values_list("consular_class", flat=True)) == set(ConsularClass.values)
    ordered = list(Organization.objects.consular().in_precedence_order())
    assert ordered == sorted(ordered, key=lambda o: o.precedence_key())
    assert ordered[0].kind == Kind.CONSULATE_GENERAL
    assert ordered[-1].consular_class == ConsularClass.CONSULAR_AGENCY
    assert all(o.exequatur_date for o in ordered)


def test_consular_posts_are_named_in_every_language():
    for org in Organization.objects.consular():
        assert org.name_es and org.name_ca, org.slug
        assert org.name_es != org.name_en and org.name_ca != org.name_en, org.slug
    japan = Organization.objects.get(country="JP")
    assert (japan.name_en, japan.name_es, japan.name_ca) == (
        "Consulate General of Japan",
        "Consulado General del Japón",
        "Consolat General del Japó",
    )
    usa = Organization.objects.get(country="US")
    assert usa.name_ca == "Consolat General dels Estats Units d'Amèrica"
    germany = Organization.objects.get(country="DE")
    assert germany.name_ca == "Consolat General d'Alemanya"
    nepal = Organization.objects.get(country="NP")
    assert nepal.name_en == "Honorary Vice-Consulate of Nepal"
    assert nepal.name_es == "Viceconsulado Honorario de Nepal"


def test_every_consular_post_has_a_current_head_titled_in_every_language():
    heads = Post.objects.filter(
        role=PostRole.HEAD_OF_MISSION, organization__kind__in=demo.CONSULAR_KINDS
    )
    assert heads.count() == 95
    for post in heads:
        assert post.label_es and post.label_ca and post.label_es != post.label_en
        assert post.memberships.current().count() == 1, post.label_en
    japan = heads.get(organization__country="JP")
    assert japan.label_en == "Consul General of Japan in Barcelona"
    assert japan.label_ca == "Cònsol General del Japó a Barcelona"
    science = Post.objects.filter(role__in=[PostRole.ATTACHE, PostRole.COUNSELLOR])
    assert science.count() == 15
    assert all(p.organization.is_career_post for p in science)


def test_it_loads_every_international_body_of_the_reference_list():
    overlay = rows("demo_international_organisations.csv")
    reference = {row["name"] for row in rows(MANIFEST["sources"]["international"])}
    assert reference == {row["io_name"] for row in overlay if row["io_name"]}
    for row in overlay:
        org = Organization.objects.get(name_en=row["name_en"] or row["io_name"])
        assert org.kind == row["kind"]
    bodies = Organization.objects.filter(
        kind__in=[Kind.INTERNATIONAL_ORGANISATION, Kind.CITY_NETWORK]
    )
    assert bodies.count() >= 15
    acronyms = set(bodies.values_list("acronym", flat=True))
    assert {"UfM", "UCLG", "EMBL", "F4E", "UNU-GCM"} <= acronyms
    assert bodies.filter(kind=Kind.CITY_NETWORK).count() >= 3


def test_the_ecosystem_comes_from_ror():
    ecosystem = Organization.objects.ecosystem()
    assert ecosystem.count() >= 30
    kinds = set(ecosystem.values_list("kind", flat=True))
    assert {
        Kind.UNIVERSITY,
        Kind.RESEARCH_CENTRE,
        Kind.SCIENTIFIC_FACILITY,
        Kind.COMPANY,
        Kind.PUBLIC_INSTITUTION,
        Kind.FOUNDATION,
        Kind.BUSINESS_SCHOOL,
    } <= kinds
    bsc = Organization.objects.get(ror_id="05sd8tv96")
    assert bsc.kind == Kind.SCIENTIFIC_FACILITY
    assert bsc.wikidata_id == "Q1580126"
    assert bsc.latitude is not None and bsc.website.startswith("https://")
    assert "hpc-ai" in set(bsc.topics.values_list("slug", flat=True))
    isglobal = Organization.objects.get(acronym="ISGlobal")
    assert isglobal.name_ca == "Institut de Salut Global de Barcelona"
    for org in ecosystem.filter(ror_id__isnull=False):
        assert re.fullmatch(r"0[a-z0-9]{6}[0-9]{2}", org.ror_id)


def test_descriptions_are_written_in_every_language():
    described = Organization.objects.exclude(description_en="")
    assert described.count() >= 60
    for org in described:
        assert org.description_es and org.description_ca, org.slug
        assert org.description_es != org.description_en != org.description_ca, org.slug


def test_cerca_is_the_parent_of_its_centres():
    cerca = Organization.objects.get(ror_id=CERCA)
    centres = cerca.children.all()
    assert centres.count() >= 10
    assert {"03g5ew477", "03hjgt059", "03wyzt892"} <= set(centres.values_list("ror_id", flat=True))
    # Every parent link is one that ROR records.
    ror = {row["ror_id"].rsplit("/", 1)[-1]: row for row in rows(MANIFEST["sources"]["ror"])}
    for child in Organization.objects.filter(parent__isnull=False, ror_id__isnull=False):
        if child.parent.ror_id:
            assert f"parent:https://ror.org/{child.parent.ror_id}" in ror[child.ror_id][
                "relationships"
            ].split("|")


def test_every_ror_row_shipped_is_used():
    shipped = {row["ror_id"].rsplit("/", 1)[-1] for row in rows(MANIFEST["sources"]["ror"])}
    used = set(Organization.objects.exclude(ror_id=None).values_list("ror_id", flat=True))
    assert shipped == used


def test_people_are_fictitious_and_look_it():
    people = list(Person.objects.all())
    assert len(people) >= 140
    markers = tuple(f"{m}-" for m in MANIFEST["people"]["markers"])
    for person in people:
        assert person.family_name.startswith(markers), person.name
        assert person.email.endswith(("@example.org", "@example.com")), person.email
        assert re.fullmatch(r"\+34 600 000 \d{3}", person.phone), person.phone
    assert len({p.email for p in people}) == len(people)
    assert len({p.name for p in people}) == len(people)
    assert Person.objects.filter(honorific_prefix="H.E.").exists()
    assert Person.objects.filter(form_of_address__startswith="Excm").exists()


def test_rotations_keep_the_history_with_the_post():
    rotated = [p for p in Post.objects.all() if p.memberships.count() == 2]
    assert len(rotated) == 10
    for post in rotated:
        earlier, current = sorted(post.memberships.all(), key=lambda m: m.start_date)
        assert earlier.end_date == current.start_date
        assert current.end_date is None
        assert list(post.memberships.current()) == [current]


def test_it_is_deterministic():
    first = dump()
    demo.reset_demo()
    demo.build_demo()
    assert dump() == first


def test_precedence_follows_the_rule_in_python_too():
    orgs = list(Organization.objects.consular())
    by_python = sorted(
        orgs,
        key=lambda o: precedence_key(
            kind=o.kind,
            consular_class=o.consular_class,
            exequatur_date=o.exequatur_date,
            name=o.name,
        ),
    )
    assert [o.pk for o in by_python] == list(
        Organization.objects.consular().in_precedence_order().values_list("pk", flat=True)
    )


def test_the_command_leaves_a_loaded_directory_alone_unless_told():
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue()
    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", stdout=StringIO())
    out = StringIO()
    call_command("demo", "--reset", stdout=out)
    assert "Demo data loaded: 95 consular posts" in out.getvalue()
    assert "Consular posts: 95" in out.getvalue()
    assert Organization.objects.consular().count() == 95


def test_the_code_names_no_city():
    source = inspect.getsource(demo)
    assert MANIFEST["city"] not in source
