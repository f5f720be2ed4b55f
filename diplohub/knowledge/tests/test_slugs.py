"""Addresses that never break: a slug per language, old slugs and other languages'
slugs redirect to the current one."""

from __future__ import annotations

import pytest

from diplohub.knowledge import slugs
from diplohub.knowledge.models import Initiative, InitiativeType, PublicationState


@pytest.fixture
def initiative(db):  # type: ignore[no-untyped-def]
    kind = InitiativeType.objects.create(slug="platform", name="Platform")
    item = Initiative.objects.create(
        title_en="Science advice for the city",
        title_es="Asesoramiento científico para la ciudad",
        title_ca="Assessorament científic per a la ciutat",
        government="Example City Council",
        city="Example City",
        country="ES",
        initiative_type=kind,
        state=PublicationState.PUBLISHED,
    )
    slugs.slugs_refresh(item)
    return item


def test_each_language_has_its_own_slug(initiative, client):
    assert slugs.slug_of(initiative, "ca") == "assessorament-cientific-per-a-la-ciutat"
    page = client.get("/ca/initiatives/assessorament-cientific-per-a-la-ciutat/")
    assert page.status_code == 200
    assert "Assessorament científic per a la ciutat" in page.content.decode()


def test_a_changed_title_keeps_the_old_address_working(initiative, client):
    initiative.title_en = "Scientific advice for the city"
    initiative.save()
    slugs.slugs_refresh(initiative)
    old = client.get("/en/initiatives/science-advice-for-the-city/")
    assert old.status_code == 301
    assert old["Location"] == "/en/initiatives/scientific-advice-for-the-city/"
    assert client.get(old["Location"]).status_code == 200


def test_switching_language_with_the_old_slug_redirects_to_the_new_language(initiative, client):
    answer = client.get("/es/initiatives/science-advice-for-the-city/")
    assert answer.status_code == 301
    assert answer["Location"] == "/es/initiatives/asesoramiento-cientifico-para-la-ciudad/"


def test_the_same_title_twice_gets_a_number(initiative):
    twin = Initiative.objects.create(
        title_en="Science advice for the city",
        government="Other Council",
        city="Other City",
        country="PT",
        initiative_type=initiative.initiative_type,
    )
    assert slugs.slugs_refresh(twin)["en"] == "science-advice-for-the-city-2"
    # Saving again without a new title keeps the address.
    assert slugs.slugs_refresh(twin)["en"] == "science-advice-for-the-city-2"


def test_an_unknown_or_unpublished_item_is_not_found(initiative, client):
    assert client.get("/en/initiatives/no-such-thing/").status_code == 404
    initiative.state = PublicationState.DRAFT
    initiative.save()
    assert client.get("/en/initiatives/science-advice-for-the-city/").status_code == 404
