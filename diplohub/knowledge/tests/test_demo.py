"""The demo knowledge hub: complete, consistent, fictitious, the same every time."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from diplohub.directory import demo as directory_demo
from diplohub.directory.models import Organization, Person
from diplohub.knowledge import demo, slugs
from diplohub.knowledge.models import (
    Development,
    Initiative,
    PressItem,
    Publication,
    PublicationState,
    SimilarInitiative,
    WorkingGroup,
)

COVID = json.loads((demo.DATA_DIR / "demo_covid.json").read_text(encoding="utf-8"))
OTHERS = json.loads((demo.DATA_DIR / "demo_initiatives.json").read_text(encoding="utf-8"))
MANIFEST = json.loads((directory_demo.DATA_DIR / "demo.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        demo.reset_demo_knowledge()
        directory_demo.reset_demo()
        directory_demo.build_demo()
        summary = demo.build_demo_knowledge()
    yield summary
    with django_db_blocker.unblock():
        demo.reset_demo_knowledge()
        directory_demo.reset_demo()


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("built")]


def dump():  # type: ignore[no-untyped-def]
    """The catalogue by natural keys (never primary keys or timestamps of the build)."""
    items = []
    for model in (Initiative, Development, WorkingGroup, Publication, PressItem):
        for item in model.objects.order_by("published_at", "title"):
            row = [model.__name__, item.title, item.state, str(item.published_at)]
            row += [getattr(item, f"summary_{code}", "") for code in ("en", "es", "ca")]
            row += sorted(t.slug for t in item.topics.all())
            row += [slugs.slug_of(item, code) for code, _n in settings.LANGUAGES]
            items.append(tuple(str(x) for x in row))
    return items


def test_the_counts(built):
    published = Initiative.objects.filter(state=PublicationState.PUBLISHED)
    assert published.count() == 1 + len(OTHERS["initiatives"]) >= 41
    assert published.exclude(city="Barcelona").count() >= 40
    assert published.values("country").distinct().count() >= 25
    assert Development.objects.published().count() == len(COVID["developments"]) == 8
    assert Development.objects.filter(kind="clinical_trial").count() >= 2
    assert WorkingGroup.objects.published().count() == 1
    assert Publication.objects.published().count() == 4
    assert PressItem.objects.published().count() == len(COVID["press"])
    assert built.startswith(f"{published.count()} initiatives from ")


def test_the_catalogue_is_varied_and_in_several_languages():
    initiatives = Initiative.objects.all()
    used = {code for item in initiatives for code in item.languages}
    assert {"en", "es", "ca", "fr", "pt", "it", "de"} <= used
    assert initiatives.values("initiative_type").distinct().count() == 7
    assert {t.slug for i in initiatives for t in i.topics.all()} >= {"health", "climate", "hpc-ai"}


def test_every_item_has_texts_and_slugs_in_all_three_languages():
    for model in (Initiative, Development, WorkingGroup, Publication):
        for item in model.objects.all():
            for code in ("en", "es", "ca"):
                assert getattr(item, f"title_{code}"), (item, code)
                assert getattr(item, f"summary_{code}"), (item, code)
                assert slugs.slug_of(item, code), (item, code)
            assert item.title_es != item.title_en and item.title_ca != item.title_en, item
    for item in PressItem.objects.all():
        assert all(getattr(item, f"summary_{code}") for code in ("en", "es", "ca"))


def test_the_phases_of_the_developments_are_translated():
    for development in Development.objects.all():
        assert development.phase_en and development.phase_es and development.phase_ca
    trial = Development.objects.get(phase_en="Phase III, completed")
    assert trial.phase_ca == "Fase III, finalitzat"


def test_the_hub_response_and_its_references():
    response = Initiative.objects.get(city="Barcelona")
    assert response.developments.count() == 8
    assert response.references.count() == len(COVID["response"]["references"])
    assert response.contact_email and response.contact_organization
    assert response.press.count() >= 4


def test_the_working_group_has_its_member_institutions():
    group = WorkingGroup.objects.get()
    names = {m.organization.name_en for m in group.memberships.select_related("organization")}
    for expected in [
        "American Association for the Advancement of Science",
        "Harvard University",
        "Carnegie Mellon University",
        "Open Society Foundations",
        "Government of the United Kingdom",
        "Government of Mexico",
        "Government of Panama",
        "Ibero-American General Secretariat",
        "Barcelona Centre for International Affairs",
        "Barcelona Institute for Global Health",
        "Barcelona Supercomputing Center",
        "Esade",
    ]:
        assert expected in names
    assert group.chair and group.meetings.count() == 3 and group.publications.count() == 4


def test_added_institutions_are_marked_as_demo_and_kept_off_the_city_directory():
    added = Organization.objects.filter(slug__in=[o["slug"] for o in COVID["organisations"]])
    assert added.count() == len(COVID["organisations"])
    for org in added:
        assert not org.is_public
        assert org.description_en.startswith("Demo data")
        assert org.description_es and org.description_ca


def test_the_people_are_fictitious_and_look_it():
    markers = tuple(f"{m}-" for m in MANIFEST["people"]["markers"])
    people = list(Person.objects.all())
    assert len({p.name for p in people}) == len(people)
    assert len({p.email for p in people}) == len(people)
    for person in people:
        assert person.family_name.startswith(markers), person.name
        assert person.email.endswith("@example.org") or person.email.endswith("@example.com")


def test_every_initiative_shows_similar_ones_without_a_worker():
    """The demo computes the lists itself (`make run` has no worker): 3 to 6 each,
    fewer only where the catalogue has fewer on the subject (rather than unrelated
    ones); the hub's own COVID-19 response finds initiatives of other cities."""
    counts = [
        SimilarInitiative.objects.filter(initiative=initiative).count()
        for initiative in Initiative.objects.filter(state=PublicationState.PUBLISHED)
    ]
    assert all(1 <= count <= 6 for count in counts)
    assert sum(count >= 3 for count in counts) >= 0.9 * len(counts)
    hub = Initiative.objects.get(title_en=COVID["response"]["title"]["en"])
    others = {s.similar.city for s in SimilarInitiative.objects.filter(initiative=hub)}
    assert others - {"Barcelona"}


def test_pages_of_the_demo_answer(client):
    for url in ["/en/knowledge/", "/ca/initiatives/", "/es/press/"]:
        assert client.get(url).status_code == 200
    for item in [Initiative.objects.get(city="Barcelona"), WorkingGroup.objects.get()]:
        assert client.get(item.get_absolute_url()).status_code == 200


def test_it_is_deterministic():
    first = dump()
    demo.reset_demo_knowledge()
    demo.build_demo_knowledge()
    assert dump() == first


def test_the_command_adds_it_once():
    out = StringIO()
    call_command("demo_knowledge", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue()
    with pytest.raises(CommandError, match="demo --reset"):
        call_command("demo_knowledge", stdout=StringIO())
    demo.reset_demo_knowledge()
    out = StringIO()
    call_command("demo_knowledge", "--if-empty", stdout=out)
    assert "Demo knowledge hub loaded: 49 initiatives" in out.getvalue()


def test_the_whole_demo_rebuilds_with_its_knowledge_hub():
    out = StringIO()
    call_command("demo", "--reset", stdout=out)
    assert "Demo knowledge hub loaded:" in out.getvalue()
    assert Initiative.objects.count() == 1 + len(OTHERS["initiatives"])
