"""The public directory pages, told as stories about the personas in conftest.py."""

import json
import re

import pytest

from diplohub.directory.models import Kind, Organization, Topic


@pytest.fixture
def world(cast):
    """Around the cast: an honorary consulate, an IO, a hidden post, a parent network."""
    health = Topic.objects.create(slug="health", name_en="Health", name_es="Salud", name_ca="Salut")
    Organization.objects.create(
        kind=Kind.HONORARY_CONSULATE,
        consular_class="consulate",
        name_en="Honorary Consulate of Iceland",
        name_es="Consulado Honorario de Islandia",
        name_ca="Consolat Honorari d'Islàndia",
        slug="honorary-consulate-of-iceland",
        country="IS",
    )
    Organization.objects.create(
        kind=Kind.INTERNATIONAL_ORGANISATION,
        name_en="Union of Example Cities",
        slug="union-of-example-cities",
    )
    Organization.objects.create(
        kind=Kind.CONSULATE,
        consular_class="consulate",
        name_en="Hidden Consulate",
        slug="hidden",
        is_public=False,
    )
    parent = Organization.objects.create(
        kind=Kind.PUBLIC_INSTITUTION, name_en="Example Research Network", slug="ern"
    )
    cast.centre.parent = parent
    cast.centre.ror_id = "05sd8tv96"
    cast.centre.wikidata_id = "Q1407373"
    cast.centre.latitude, cast.centre.longitude = 41.389, 2.116
    cast.centre.save()
    cast.centre.topics.add(health)
    return cast


def names(response):
    return [org.name for org in response.context["page"]]


def test_a_visitor_browses_the_diplomatic_community(client, world):
    response = client.get("/en/directory/diplomatic-community/")
    assert response.status_code == 200
    listed = names(response)
    assert "Consulate General of Japan" in listed
    assert "Union of Example Cities" in listed
    assert "Example Supercomputing Centre" not in listed  # that is the ecosystem
    assert "Hidden Consulate" not in listed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=asia", ["Consulate General of Japan"]),
        ("region=americas", ["Consulate General of Mexico"]),
        ("country=IS", ["Honorary Consulate of Iceland"]),
        ("kind=international_organisation", ["Union of Example Cities"]),
        ("q=Islandia", ["Honorary Consulate of Iceland"]),  # Spanish name
        ("q=Isl%C3%A0ndia", ["Honorary Consulate of Iceland"]),  # Catalan name
        ("q=mexico&region=asia", []),
    ],
)
def test_a_visitor_filters_the_diplomatic_community(client, world, query, expected):
    response = client.get(f"/en/directory/diplomatic-community/?{query}")
    assert response.status_code == 200
    assert sorted(names(response)) == sorted(expected)


def test_a_bad_filter_value_is_named_not_a_500(client, world):
    response = client.get("/en/directory/diplomatic-community/?region=atlantis&kind=university")
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"region", "kind"}
    assert "atlantis" in response.content.decode()


def test_a_visitor_filters_the_ecosystem_by_topic(client, world):
    response = client.get("/en/directory/ecosystem/?topic=health")
    assert names(response) == ["Example Supercomputing Centre"]


def test_htmx_gets_only_the_results(client, world):
    response = client.get("/en/directory/ecosystem/?topic=health", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="results"' in html
    assert "<html" not in html


def test_the_organisation_page_shows_posts_and_public_names_only(client, world):
    response = client.get("/en/directory/consulate-general-of-japan/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Consul General of Japan in Barcelona" in html
    assert "Kenji Sato-Example" in html
    assert "@mission.example" not in html
    assert "+34 600" not in html


def test_the_organisation_page_carries_schema_org_json_ld(client, world):
    html = client.get("/en/directory/example-supercomputing-centre/").content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(block)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "ResearchOrganization"
    assert data["name"] == "Example Supercomputing Centre"
    assert "https://ror.org/05sd8tv96" in data["sameAs"]
    assert data["parentOrganization"]["name"] == "Example Research Network"
    assert data["geo"]["latitude"] == pytest.approx(41.389)
    assert data["knowsAbout"] == ["Health"]
    assert "openstreetmap.org" in html  # the map link


def test_the_organisation_page_is_translated(client, world):
    html = client.get("/ca/directory/honorary-consulate-of-iceland/").content.decode()
    assert "Consolat Honorari d&#x27;Islàndia" in html or "Consolat Honorari d'Islàndia" in html
    assert '<html lang="ca">' in html


def test_a_hidden_organisation_is_not_found_by_visitors_but_staff_see_it(client, world):
    assert client.get("/en/directory/hidden/").status_code == 404
    client.force_login(world.staff)
    assert client.get("/en/directory/hidden/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/en/directory/diplomatic-community/",
        "/en/directory/ecosystem/",
        "/en/directory/diplomatic-list/",
        "/en/directory/consulate-general-of-japan/",
        "/en/directory/popolo.json",
    ],
)
def test_public_pages_refuse_post(client, world, url):
    assert client.post(url).status_code == 405


def test_staff_see_people_with_contact_details(client, world):
    client.force_login(world.staff)
    response = client.get("/en/directory/people/?q=sato")
    html = response.content.decode()
    assert response.status_code == 200
    assert "kenji@mission.example" in html
    assert "Ana Attaché-Example" not in html


@pytest.mark.parametrize("who", ["consul", "attache", "host", "outsider"])
def test_people_pages_are_staff_only(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get("/en/directory/people/").status_code == 403
    person = world.consul.person
    assert client.get(f"/en/directory/people/{person.pk}/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in_for_people(client, world):
    response = client.get("/en/directory/people/")
    assert response.status_code == 302
    assert "/accounts/sign-in/" in response["Location"]


def test_staff_see_the_history_of_posts_after_a_rotation(client, world):
    import datetime

    from diplohub.directory.models import Person, Post
    from diplohub.directory.services import post_assign

    post = Post.objects.get(label="Science attaché")
    newcomer = Person.objects.create(given_name="Noa", family_name="Newcomer-Example")
    post_assign(post=post, person=newcomer, start_date=datetime.date(2030, 1, 1))
    client.force_login(world.staff)
    ana = world.attache.person
    html = client.get(f"/en/directory/people/{ana.pk}/").content.decode()
    assert "Science attaché" in html
    assert "in post" not in html  # her tenure has ended
    assert post.memberships.count() == 2  # the post keeps both tenures
