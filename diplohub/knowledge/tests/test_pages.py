"""The catalogue's public pages: a visitor reads, in any language; staff see drafts."""

from __future__ import annotations

import pytest

from diplohub.knowledge.tests import stories


@pytest.fixture
def catalogue(db):  # type: ignore[no-untyped-def]
    return stories.build()


def test_smoke(catalogue, client):
    for url in [
        "/en/knowledge/",
        "/en/initiatives/",
        "/ca/initiatives/",
        "/en/developments/",
        "/en/working-groups/",
        "/en/publications/",
        "/en/press/",
        catalogue.initiative.get_absolute_url(),
        catalogue.development.get_absolute_url(),
        catalogue.group.get_absolute_url(),
        catalogue.publication.get_absolute_url(),
        "/en/knowledge/propose/",
    ]:
        answer = client.get(url)
        assert answer.status_code == 200, url


def test_the_landing_page_shows_the_latest_of_each_kind(catalogue, client):
    html = client.get("/en/knowledge/").content.decode()
    for text in [
        "Science diplomacy against the pandemic",
        "Rapid biosensor test",
        "Global expert working group",
        "Lessons for cities",
        "City hub connects researchers and diplomats",
    ]:
        assert text in html
    assert "A draft idea" not in html
    assert 'href="/en/knowledge/propose/"' in html


def test_lists_page_and_filter(catalogue, client):
    html = client.get("/en/initiatives/", {"country": "PT"}).content.decode()
    assert "Lisbon health data for all" in html
    assert "Science diplomacy against the pandemic" not in html
    html = client.get("/en/initiatives/", {"type": "platform", "topic": "health"}).content.decode()
    assert "2 initiatives" in html
    assert client.get("/en/initiatives/", {"page": "99"}).status_code == 200
    partial = client.get("/en/initiatives/", {"country": "ES"}, HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div id="results"')
    assert client.get("/en/developments/", {"kind": "diagnostic"}).status_code == 200
    assert "Lessons for cities" in client.get("/en/publications/").content.decode()


def test_a_visitor_reads_an_initiative_in_catalan(catalogue, client):
    answer = client.get(catalogue.initiative.get_absolute_url().replace("/en/", "/ca/"))
    assert answer.status_code == 301  # the English slug redirects to the Catalan one
    page = client.get(answer["Location"])
    html = page.content.decode()
    assert answer["Location"] == "/ca/initiatives/diplomacia-cientifica-contra-la-pandemia/"
    assert '<html lang="ca">' in html
    assert "Diplomàcia científica contra la pandèmia" in html
    assert "La ciutat comparteix la seva recerca amb el món." in html
    assert "Barcelona City Council" in html
    assert "Salut" in html and "Assessorament científic" in html
    assert "Plataforma" in html
    # References in order, like footnotes.
    assert html.index("The Example Times") < html.index("El Ejemplo")
    assert 'id="ref-1"' in html and 'id="ref-2"' in html
    # Similar initiatives: the published one, linked in Catalan, with its place.
    assert "/ca/initiatives/dades-de-salut-de-lisboa-per-a-tothom/" in html
    assert "Lisbon, Portugal" in html
    assert "Una idea en esborrany" not in html
    # Related organisations: the public one linked, the one hidden from the directory not.
    assert "/ca/directory/isglobal-example/" in html
    assert "Faraway University Example" not in html


def test_the_contact_address_is_never_in_the_page(catalogue, client):
    html = client.get(catalogue.initiative.get_absolute_url()).content.decode()
    assert "international@hub.example" not in html
    assert "international&#64;" not in html and "hub.example</a>" not in html.split("contact")[0]
    url = f"{catalogue.initiative.get_absolute_url()}contact/"
    assert url in html
    answer = client.post(url, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert 'href="mailto:international@hub.example"' in answer.content.decode()
    assert answer["Cache-Control"].startswith("max-age=0")
    assert client.get(url).status_code == 405


def test_asking_for_contacts_is_rate_limited(catalogue, client, settings):
    url = f"{catalogue.initiative.get_absolute_url()}contact/"
    answers = [client.post(url).status_code for _ in range(32)]
    assert answers[0] == 200 and answers[-1] == 429
    assert "international@hub.example" not in client.post(url).content.decode()


def test_the_rate_limit_can_be_lifted(catalogue, client, settings):
    settings.RATELIMIT_ENABLE = False
    url = f"{catalogue.initiative.get_absolute_url()}contact/"
    assert {client.post(url).status_code for _ in range(40)} == {200}


def test_personal_emails_are_never_shown(catalogue, client):
    for url in [catalogue.group.get_absolute_url(), catalogue.publication.get_absolute_url()]:
        html = client.get(url).content.decode()
        assert "greta@private.example" not in html
        assert "Greta Example-Lindqvist" in html


def test_markup_in_stored_texts_is_sanitised(catalogue, client):
    # An older row, or one written straight to the database, still cannot run script.
    type(catalogue.initiative).objects.filter(pk=catalogue.initiative.pk).update(
        body_en="Hello <script>alert(1)</script> [x](javascript:alert(2))"
    )
    html = client.get(catalogue.initiative.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert "javascript:alert" not in html


def test_development_and_working_group_pages(catalogue, client):
    html = client.get(catalogue.development.get_absolute_url()).content.decode()
    assert "Horizon 2020" in html and "ISGlobal Example" in html and "Diagnostic" in html
    assert "Science diplomacy against the pandemic" in html  # part of
    html = client.get(catalogue.group.get_absolute_url()).content.decode()
    assert "Bring <strong>evidence</strong> into public debate." in html
    assert "Chaired by Greta Example-Lindqvist." in html
    assert "Lessons for cities" in html
    assert "City hub connects researchers and diplomats" in html


def test_publication_page_links_or_downloads(catalogue, client):
    html = client.get(catalogue.publication.get_absolute_url()).content.decode()
    assert 'href="https://hub.example/lessons.pdf"' in html
    assert "Policy brief" in html and "English" in html


def test_drafts_are_for_staff_only(catalogue, client, cast):
    url = catalogue.draft.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404
    client.force_login(cast.staff)
    html = client.get(url).content.decode()
    assert "only the hub team can see this page" in html
    assert f"/en/admin/knowledge/initiative/{catalogue.draft.pk}/change/" in html


def test_pages_link_their_machine_readable_twins(catalogue, client):
    html = client.get("/en/initiatives/").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" href="/en/initiatives/feed.atom"' in html
    )
    assert '<link rel="alternate" type="application/json" href="/api/v1/initiatives"' in html
    assert '<link rel="alternate" type="text/csv" href="/en/initiatives.csv"' in html
    html = client.get(catalogue.initiative.get_absolute_url()).content.decode()
    assert f'type="application/json" href="/api/v1/initiatives/{catalogue.initiative.pk}"' in html
    assert 'href="/en/initiatives/topics/health/feed.atom"' in html
    assert 'href="/en/knowledge/search/"' in html


def test_wrong_methods_are_refused(catalogue, client):
    assert client.post("/en/knowledge/").status_code == 405
    assert client.post(catalogue.initiative.get_absolute_url()).status_code == 405
