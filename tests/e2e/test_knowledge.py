"""The knowledge hub in a real browser: Jordi, a researcher visiting from Lisbon, looks
for what cities did about vaccine trials, narrows the results to one country, reads an
initiative, follows one of its similar initiatives, and reads that one in Catalan."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from diplohub.directory.models import Topic
from diplohub.knowledge import services, similarity
from diplohub.knowledge.models import Initiative, InitiativeType, SimilarInitiative


def publish(**fields: object) -> Initiative:
    topics = fields.pop("topics")
    initiative = Initiative(**fields)
    services.initiative_save(initiative=initiative, topics=topics)
    services.initiative_publish(initiative=initiative)
    return initiative


@pytest.fixture
def catalogue(db):  # type: ignore[no-untyped-def]
    similarity.forget_index()  # another test's index would name rows rolled back
    programme = InitiativeType.objects.create(
        slug="programme", name_en="Programme", name_es="Programa", name_ca="Programa"
    )
    health = Topic.objects.create(slug="health", name_en="Health", name_es="Salud", name_ca="Salut")
    mobility = Topic.objects.create(
        slug="mobility", name_en="Mobility", name_es="Movilidad", name_ca="Mobilitat"
    )
    common = {"initiative_type": programme, "status": "ongoing"}
    boston = publish(
        title_en="Vaccine clinical trials in Boston hospitals",
        summary_en="The city's hospitals take part in clinical trials of new vaccines "
        "and look for volunteers among its residents.",
        government="Boston Example City Council",
        city="Boston",
        country="US",
        languages=["en"],
        topics=[health],
        **common,
    )
    barcelona = publish(
        title_en="Volunteers for vaccine trials in Barcelona",
        title_ca="Voluntaris per als assaigs de vacunes a Barcelona",
        summary_en="Barcelona's hospitals run clinical trials of vaccines and invite "
        "residents to volunteer.",
        summary_ca="Els hospitals de Barcelona fan assaigs clínics de vacunes i conviden "
        "els veïns a participar-hi com a voluntaris.",
        government="Barcelona Example City Council",
        city="Barcelona",
        country="ES",
        languages=["ca", "en"],
        topics=[health],
        **common,
    )
    toronto = publish(
        title_en="Toronto's vaccine trial registry",
        summary_en="A public registry of the clinical trials of vaccines in the city's "
        "hospitals, with how to volunteer.",
        government="Toronto Example City Council",
        city="Toronto",
        country="CA",
        languages=["en"],
        topics=[health],
        **common,
    )
    publish(
        title_en="Pop-up bike lanes in Utrecht",
        summary_en="Temporary cycle lanes opened on the main streets during the pandemic.",
        government="Utrecht Example City Council",
        city="Utrecht",
        country="NL",
        languages=["en"],
        topics=[mobility],
        **common,
    )
    # Publishing refreshed the lists in the background (at once in the tests).
    assert SimilarInitiative.objects.filter(initiative=boston, similar=barcelona).exists()
    yield {"boston": boston, "barcelona": barcelona, "toronto": toronto}
    similarity.forget_index()


def test_jordi_searches_filters_and_follows_a_similar_initiative_into_catalan(
    page: Page, base: str, catalogue
) -> None:
    page.goto(f"{base}/en/knowledge/")
    page.get_by_role("search").get_by_label("Search the catalogue").fill("vaccine trials")
    page.get_by_role("search").get_by_role("button", name="Search").click()

    hits = page.locator(".search-hits")
    expect(page.locator("#search-status")).to_contain_text("3 results")
    expect(hits).to_contain_text("Vaccine clinical trials in Boston hospitals")
    expect(hits).to_contain_text("Toronto's vaccine trial registry")
    expect(hits).not_to_contain_text("bike lanes")
    expect(hits.locator("mark").first).to_be_visible()  # the words found, highlighted

    country = page.locator(".facet", has=page.get_by_text("Country", exact=True))
    country.locator("summary").click()  # the facet opens
    expect(country).to_contain_text("United States of America (1)")
    country.get_by_label("United States of America (1)").check()
    expect(page.locator("#search-status")).to_contain_text("1 result")  # htmx, no reload
    expect(hits).not_to_contain_text("Toronto")
    assert "country=US" in page.url  # the filtered search has its own address

    hits.get_by_role("link", name="Vaccine clinical trials in Boston hospitals").click()
    expect(page.locator("h1")).to_have_text("Vaccine clinical trials in Boston hospitals")
    similar = page.locator("section.similar")
    expect(similar.locator("h2")).to_have_text("Similar initiatives")
    expect(similar).not_to_contain_text("Utrecht")

    similar.get_by_role("link", name="Volunteers for vaccine trials in Barcelona").click()
    expect(page.locator("h1")).to_have_text("Volunteers for vaccine trials in Barcelona")

    page.get_by_role("link", name="Català").click()
    expect(page.locator("html")).to_have_attribute("lang", "ca")
    expect(page.locator("h1")).to_have_text("Voluntaris per als assaigs de vacunes a Barcelona")
    expect(page.locator("main")).to_contain_text("conviden els veïns")
    assert "/ca/" in page.url and "voluntaris" in page.url  # the Catalan address
    expect(page.locator("section.similar h2")).to_have_text("Iniciatives similars")
