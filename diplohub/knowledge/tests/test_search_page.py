"""The search page, /<language>/knowledge/search/: a visitor searching in Catalan, the
filters, htmx, bad input, and what the page may not contain."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from diplohub.knowledge.models import PressItem
from diplohub.knowledge.tests.test_search import build_catalogue, publish

URL = "/en/knowledge/search/"


@pytest.fixture
def catalogue(db):
    return build_catalogue()


def test_the_address_has_a_name():
    assert reverse("knowledge:search") == URL


def test_it_searches_and_marks_the_words_found(catalogue, client):
    page = client.get(URL, {"q": "treatments"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'role="search"' in html and '<label for="search-q">' in html
    assert 'id="search-status" class="search-status" role="status"' in html
    assert "1 result" in html
    assert "network for rare diseases" in html
    assert "<mark>treatment</mark>" in html.lower() or "<mark>treatments</mark>" in html.lower()
    assert f'href="{catalogue["network"].get_absolute_url()}"' in html


def test_filters_are_checkboxes_with_their_counts(catalogue, client):
    html = client.get(URL, {"kind": "initiative"}).content.decode()
    assert re.search(r'name="kind" value="initiative" id="[^"]+" checked', html)
    assert re.search(r'name="kind" value="press" id="[^"]+">', html)  # not ticked
    assert "3 results" in html
    assert 'Press <span class="count">(1)</span>' in html  # what ticking it would add
    assert "Clear the filters" in html


def test_a_visitor_searching_in_catalan(catalogue, client):
    html = client.get("/ca/knowledge/search/", {"q": "vacunes"}).content.decode()
    assert '<html lang="ca">' in html
    assert "Assaigs de <mark>vacunes</mark> a Barcelona" in html
    assert 'href="/ca/initiatives/assaigs-de-vacunes-a-barcelona/"' in html
    assert "Espanya" in html  # country names in Catalan
    # She finds the English-only initiative by its English words, marked as English.
    html = client.get("/ca/knowledge/search/", {"q": "rare diseases"}).content.decode()
    assert (
        'lang="en">Treatment network for <mark>rare</mark> <mark>diseases</mark>'
        in html.replace("<mark>rare diseases</mark>", "<mark>rare</mark> <mark>diseases</mark>")
    )


def test_the_spanish_page(catalogue, client):
    page = client.get("/es/knowledge/search/", {"q": "movilidad"})
    assert page.status_code == 200
    assert '<html lang="es">' in page.content.decode()
    assert "Investigación urbana sobre <mark>movilidad</mark>" in page.content.decode()


def test_htmx_gets_the_results_and_the_count_only(catalogue, client):
    page = client.get(URL, {"q": "vaccine"}, HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="search-results"')
    assert '<p id="search-status" hx-swap-oob="innerHTML">3 results</p>' in html
    assert "HX-Request" in page["Vary"]


def test_going_back_in_history_gets_the_whole_page(catalogue, client):
    page = client.get(
        URL, {"q": "vaccine"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in page.content.decode()


def test_without_javascript_the_form_is_a_plain_get_form(catalogue, client):
    html = client.get(URL).content.decode()
    assert f'<form id="search" class="search" method="get" action="{URL}"' in html
    assert '<button class="button secondary" type="submit">Apply filters</button>' in html
    assert "6 results" in html


def test_pages_of_results_keep_the_query_and_filters(catalogue, client):
    for number in range(22):
        publish(
            PressItem(
                title=f"Vaccine story {number}",
                outlet="Example Daily",
                date=datetime.date(2022, 1, 1) + datetime.timedelta(days=number),
                language="en",
                url=f"https://daily.example/{number}",
            )
        )
    html = client.get(URL, {"q": "vaccine", "kind": "press"}).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?q=vaccine&amp;kind=press&amp;page=2"' in html
    assert 'hx-get="?q=vaccine&amp;kind=press&amp;page=2"' in html
    second = client.get(URL, {"q": "vaccine", "kind": "press", "page": "2"}).content.decode()
    assert "Page 2 of 2" in second and 'rel="prev"' in second
    assert '<ol class="hits" start="21">' in second


def test_bad_input_gets_an_answer_not_an_error(catalogue, client):
    for params in (
        {"page": "abc"},
        {"page": "-3"},
        {"page": "99999999999999"},
        {"q": "x" * 10_000},
        {"q": '"NEAR(vaccine* (trial' + "'" * 5},
        {"year": "abc", "kind": "<script>"},
        {"q": "vaccine", "topic": ["health"] * 50},
    ):
        page = client.get(URL, params)
        assert page.status_code == 200, params
        assert "<script>" not in page.content.decode().split("</main>")[0].split("<main")[1]
    html = client.get(URL, {"q": "vaccine " * 1250}).content.decode()
    assert "Your search was long" in html


def test_it_refuses_other_methods(client, db):
    assert client.post(URL, {"q": "x"}).status_code == 405


def test_drafts_are_not_found_even_by_staff(catalogue, client, cast):
    client.force_login(cast.staff)
    html = client.get(URL, {"q": "secret vaccine draft"}).content.decode()
    assert "Secret vaccine draft" not in html
    assert "Nothing matches" in html


def test_the_page_needs_no_inline_script_or_style(catalogue, client):
    page = client.get(URL, {"q": "vaccine"})
    assert "default-src 'self'" in page["Content-Security-Policy"]
    html = page.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/ld+json"' in tag, tag
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
