"""The directory in a real browser: a visitor explores, staff edit an organisation."""

import pytest
from playwright.sync_api import Page, expect

from diplohub.directory.models import Kind, Organization, Topic


@pytest.fixture
def directory(cast):
    japan = cast.japan
    japan.name_ca = "Consolat General del Japó"
    japan.name_es = "Consulado General del Japón"
    japan.description_en = "Japan's consular post for Catalonia, Aragon and the Balearic Islands."
    japan.description_ca = (
        "L'oficina consular del Japó per a Catalunya, l'Aragó i les Illes Balears."
    )
    japan.save()
    Organization.objects.create(
        kind=Kind.CONSULATE,
        consular_class="consulate",
        name_en="Consulate of France",
        slug="consulate-of-france",
        country="FR",
    )
    cast.centre.topics.add(
        Topic.objects.create(slug="hpc-ai", name_en="HPC & AI", name_ca="HPC i IA")
    )
    return cast


def test_a_visitor_finds_a_mission_by_region_and_reads_it_in_catalan(
    page: Page, base: str, directory
) -> None:
    page.goto(f"{base}/en/")
    page.get_by_role("link", name="Meet the diplomatic community").click()
    expect(page.locator("h1")).to_have_text("Diplomatic community")
    results = page.locator("#results")
    expect(results).to_contain_text("Consulate of France")

    page.get_by_label("Region").select_option("asia")
    expect(results).not_to_contain_text("Consulate of France")  # htmx replaced the results
    expect(results).to_contain_text("Consulate General of Japan")
    assert "region=asia" in page.url  # the filtered list has its own address

    results.get_by_role("link", name="Consulate General of Japan").click()
    expect(page.locator("h1")).to_contain_text("Consulate General of Japan")
    expect(page.get_by_text("Kenji Sato-Example")).to_be_visible()

    page.get_by_role("link", name="Català").click()
    expect(page.locator("html")).to_have_attribute("lang", "ca")
    expect(page.locator("h1")).to_contain_text("Consolat General del Japó")
    expect(page.locator("main")).to_contain_text("L'oficina consular del Japó")


def test_staff_sign_in_and_edit_an_organisation(page: Page, base: str, directory) -> None:
    page.goto(f"{base}/en/accounts/sign-in/")
    page.locator("input[name=username]").fill("sofia")
    page.locator("input[name=password]").fill("correct horse battery")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_role("link", name="Back office")).to_be_visible()

    page.goto(f"{base}/en/admin/directory/organization/{directory.centre.pk}/change/")
    page.locator("#id_description_en").fill("Home of a national supercomputer, open to visits.")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(f"{base}/en/directory/example-supercomputing-centre/")
    expect(page.locator("main")).to_contain_text(
        "Home of a national supercomputer, open to visits."
    )
    history = directory.centre.history.first()
    assert history.history_user.username == "sofia"


def test_the_directory_works_on_a_phone(page: Page, base: str, directory) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/en/directory/diplomatic-community/")
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.get_by_label("Name").fill("France")
    page.keyboard.press("Enter")
    expect(page.locator("#results")).to_contain_text("Consulate of France")
    expect(page.locator("#results")).not_to_contain_text("Japan")
