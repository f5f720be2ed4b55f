"""The directory API, told as stories about the personas in conftest.py.

Otto the outsider reads open data without a token; Sofia (staff) reads people and posts
with hers; Kenji (a member) and Hugo (a host) hold tokens that staff endpoints refuse.
"""

import datetime

import pytest
from django.utils import timezone

from diplohub.accounts.models import ApiToken
from diplohub.directory.models import Kind, Membership, Organization, Person, Post, PostRole, Topic
from diplohub.directory.services import post_assign


def bearer(user) -> dict[str, str]:
    raw = ApiToken.new_raw()
    token = ApiToken(user=user, name="test")
    token.set_raw(raw)
    token.save()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def world(cast):
    """Around the cast: translated names, topics, an honorary consulate, a hidden one."""
    health = Topic.objects.create(slug="health", name_en="Health", name_es="Salud", name_ca="Salut")
    Topic.objects.create(slug="space", name_en="Space", name_es="Espacio", name_ca="Espai")
    cast.japan.name_es = "Consulado General del Japón"
    cast.japan.name_ca = "Consolat General del Japó"
    cast.japan.exequatur_date = datetime.date(2019, 4, 1)
    cast.japan.save()
    cast.mexico.exequatur_date = datetime.date(2021, 9, 1)
    cast.mexico.save()
    cast.centre.description_en = "Home of a supercomputer."
    cast.centre.description_es = "Sede de un superordenador."
    cast.centre.ror_id = "05sd8tv96"
    cast.centre.wikidata_id = "Q1407373"
    cast.centre.latitude, cast.centre.longitude = 41.389, 2.116
    cast.centre.address = "Example street 1"
    cast.centre.website = "https://centre.example"
    cast.centre.parent = Organization.objects.create(
        kind=Kind.PUBLIC_INSTITUTION, name_en="Example Research Network", slug="ern"
    )
    cast.centre.save()
    cast.centre.topics.add(health)
    Organization.objects.create(
        kind=Kind.HONORARY_CONSULATE,
        consular_class="consulate",
        name_en="Honorary Consulate of Iceland",
        name_es="Consulado Honorario de Islandia",
        name_ca="Consolat Honorari d'Islàndia",
        slug="honorary-consulate-of-iceland",
        country="IS",
        exequatur_date=datetime.date(2001, 1, 1),
    )
    hidden = Organization.objects.create(
        kind=Kind.CONSULATE,
        consular_class="consulate",
        name_en="Hidden Consulate of Ruritania",
        slug="hidden",
        country="JP",
        is_public=False,
    )
    hidden.topics.add(health)
    return cast


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.json()["items"]]


# --- Open data --------------------------------------------------------------------


def test_an_outsider_lists_the_public_organisations(client, world):
    response = client.get("/api/v1/organizations")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert (body["page"], body["pages"], body["next"], body["previous"]) == (1, 1, None, None)
    assert slugs(response) == [
        "consulate-general-of-japan",
        "consulate-general-of-mexico",
        "ern",  # Example Research Network
        "example-supercomputing-centre",
        "honorary-consulate-of-iceland",
    ]
    japan = body["items"][0]
    assert japan["country"] == "JP"
    assert japan["country_name"] == "Japan"
    assert japan["region"] == "asia"
    assert japan["kind"] == "consulate_general"
    assert japan["url"] == "http://testserver/en/directory/consulate-general-of-japan/"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=asia", ["consulate-general-of-japan"]),
        ("region=europe&side=diplomatic", ["honorary-consulate-of-iceland"]),
        ("kind=research_centre", ["example-supercomputing-centre"]),
        ("topic=health", ["example-supercomputing-centre"]),
        ("country=IS", ["honorary-consulate-of-iceland"]),
        ("side=ecosystem", ["ern", "example-supercomputing-centre"]),
        ("q=Jap%C3%B3n", ["consulate-general-of-japan"]),  # Spanish name
        ("q=Consolat", ["consulate-general-of-japan", "honorary-consulate-of-iceland"]),  # Catalan
        ("q=Isl%C3%A0ndia", ["honorary-consulate-of-iceland"]),
        ("q=mexico&region=asia", []),
        ("topic=space", []),
    ],
)
def test_an_outsider_filters_like_on_the_pages(client, world, query, expected):
    response = client.get(f"/api/v1/organizations?{query}")
    assert response.status_code == 200, response.json()
    assert slugs(response) == expected


def test_a_non_public_organisation_never_appears(client, world):
    assert "hidden" not in slugs(client.get("/api/v1/organizations?region=asia"))
    assert "hidden" not in slugs(client.get("/api/v1/organizations?q=Ruritania"))
    assert "hidden" not in slugs(client.get("/api/v1/diplomatic-list"))
    assert client.get("/api/v1/organizations/hidden").status_code == 404
    topics = {t["slug"]: t for t in client.get("/api/v1/topics").json()["items"]}
    assert topics["health"]["organization_count"] == 1


def test_a_non_public_parent_is_not_named(client, world):
    Organization.objects.filter(slug="ern").update(is_public=False)
    body = client.get("/api/v1/organizations/example-supercomputing-centre").json()
    assert body["parent"] is None


def test_an_outsider_reads_an_organisation(client, world):
    response = client.get("/api/v1/organizations/example-supercomputing-centre")
    assert response.status_code == 200
    body = response.json()
    assert body["names"] == {"en": "Example Supercomputing Centre", "es": None, "ca": None}
    assert body["description"] == "Home of a supercomputer."
    assert (body["kind"], body["sector"]) == ("research_centre", "academia")
    assert (body["country"], body["country_name"], body["region"]) == ("ES", "Spain", "europe")
    assert (body["latitude"], body["longitude"]) == (41.389, 2.116)
    assert (body["ror_id"], body["wikidata_id"]) == ("05sd8tv96", "Q1407373")
    assert body["address"] == "Example street 1"
    assert body["website"] == "https://centre.example"
    assert body["parent"] == "ern"
    assert body["topics"] == [{"slug": "health", "name": "Health"}]


def test_the_public_detail_names_holders_but_never_their_contact_details(client, world):
    response = client.get("/api/v1/organizations/consulate-general-of-japan")
    body = response.json()
    assert body["posts"] == [
        {
            "label": "Consul General of Japan in Barcelona",
            "role": "head_of_mission",
            "holders": ["Kenji Sato-Example"],
        }
    ]
    assert b"mission.example" not in response.content
    assert b"+34" not in response.content


def test_an_unknown_slug_is_a_404_naming_it(client, world):
    response = client.get("/api/v1/organizations/atlantis-embassy")
    assert response.status_code == 404
    assert response.json() == {"detail": "No public organisation has the slug 'atlantis-embassy'."}


def test_the_content_language_comes_from_lang_or_accept_language(client, world):
    url = "/api/v1/organizations/consulate-general-of-japan"
    spanish = client.get(f"{url}?lang=es")
    assert spanish.json()["name"] == "Consulado General del Japón"
    assert spanish.json()["country_name"] == "Japón"
    assert spanish["Content-Language"] == "es"
    assert "Accept-Language" in spanish["Vary"]
    catalan = client.get(url, headers={"Accept-Language": "ca"})
    assert catalan.json()["name"] == "Consolat General del Japó"
    assert catalan["Content-Language"] == "ca"
    # ?lang= wins over the header; an untranslated field falls back to English.
    english = client.get(f"{url}?lang=en", headers={"Accept-Language": "ca"})
    assert english.json()["name"] == "Consulate General of Japan"
    centre = client.get("/api/v1/organizations/example-supercomputing-centre?lang=ca").json()
    assert centre["name"] == "Example Supercomputing Centre"
    topics = client.get("/api/v1/topics?lang=ca").json()["items"]
    assert [t["name"] for t in topics] == ["Salut", "Espai"]


def test_an_unknown_language_is_refused_with_the_choices(client, world):
    response = client.get("/api/v1/organizations?lang=fr")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "lang", "message": "Input should be 'en', 'es' or 'ca'"}
    ]


def test_the_diplomatic_list_ranks_the_consular_corps(client, world):
    items = client.get("/api/v1/diplomatic-list").json()["items"]
    assert [(i["rank"], i["slug"]) for i in items] == [
        (1, "consulate-general-of-japan"),  # career, consulate-general, earlier exequatur
        (2, "consulate-general-of-mexico"),
        (3, "honorary-consulate-of-iceland"),  # honorary posts come after career ones
    ]
    assert items[0]["head_of_post"] == "Kenji Sato-Example"
    assert items[2]["honorary"] is True
    assert items[2]["head_of_post"] is None
    second_page = client.get("/api/v1/diplomatic-list?page=2&page_size=1").json()
    assert [(i["rank"], i["slug"]) for i in second_page["items"]] == [
        (2, "consulate-general-of-mexico")
    ]


# --- Pagination -------------------------------------------------------------------


def test_pages_link_to_each_other_and_keep_the_filters(client, world):
    first = client.get("/api/v1/organizations?side=diplomatic&page_size=2").json()
    assert (first["count"], first["pages"], len(first["items"])) == (3, 2, 2)
    assert first["previous"] is None
    assert first["next"] == (
        "http://testserver/api/v1/organizations?side=diplomatic&page_size=2&page=2"
    )
    second = client.get(first["next"]).json()
    assert [i["slug"] for i in second["items"]] == ["honorary-consulate-of-iceland"]
    assert second["next"] is None
    assert second["previous"].endswith("page=1")


def test_a_page_past_the_end_is_a_404_but_an_empty_result_is_not(client, world):
    response = client.get("/api/v1/organizations?page=9&page_size=2")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Page 9 does not exist: the last page is 3 (5 items, 2 per page)."
    }
    empty = client.get("/api/v1/organizations?q=nothing-like-this")
    assert empty.status_code == 200
    assert empty.json()["items"] == []
    assert empty.json()["pages"] == 1


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("page=0", "page", "greater than or equal to 1"),
        ("page=first", "page", "valid integer"),
        ("page_size=500", "page_size", "less than or equal to 200"),
    ],
)
def test_bad_paging_is_a_422_naming_the_parameter(client, world, query, field, says):
    response = client.get(f"/api/v1/organizations?{query}")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == field
    assert says in error["message"]
    assert response.json()["detail"].startswith(f"Invalid request — {field}: ")


# --- Bad filters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("kind=palace", "kind", "'consulate_general', 'consulate'"),
        ("region=atlantis", "region", "'africa', 'americas', 'asia', 'europe' or 'oceania'"),
        ("side=both", "side", "'diplomatic' or 'ecosystem'"),
        ("side=ecosystem&kind=consulate", "kind", "Allowed values: university, research_centre"),
        ("topic=knitting", "topic", "Allowed values: health, space"),
        ("country=XX", "country", "ISO 3166-1 alpha-2"),
        ("q=" + "x" * 101, "q", "at most 100 characters"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it_and_what_it_accepts(client, world, query, field, says):
    response = client.get(f"/api/v1/organizations?{query}")
    assert response.status_code == 422
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field]
    assert says in body["errors"][0]["message"]
    assert field in body["detail"]


# --- Staff endpoints ----------------------------------------------------------------


def test_staff_read_people_with_their_contact_details(client, world):
    response = client.get("/api/v1/people", headers=bearer(world.staff))
    assert response.status_code == 200
    people = {p["name"]: p for p in response.json()["items"]}
    kenji = people["Kenji Sato-Example"]
    assert kenji["email"] == "kenji@mission.example"
    assert kenji["phone"] == "+34 600 000 000"
    assert kenji["languages"] == []
    (post,) = kenji["current_posts"]
    assert post["label"] == "Consul General of Japan in Barcelona"
    assert post["organization"] == {
        "slug": "consulate-general-of-japan",
        "name": "Consulate General of Japan",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=kenji", ["Kenji Sato-Example"]),
        ("q=Ana%20Attach%C3%A9", ["Ana Attaché-Example"]),
        ("q=mission.example", ["Ana Attaché-Example", "Kenji Sato-Example"]),
        ("organization=consulate-general-of-mexico", ["Ana Attaché-Example"]),
        ("organization=example-supercomputing-centre", []),
    ],
)
def test_staff_search_people(client, world, query, expected):
    response = client.get(f"/api/v1/people?{query}", headers=bearer(world.staff))
    assert sorted(p["name"] for p in response.json()["items"]) == expected


def test_an_unknown_organisation_filter_is_a_422(client, world):
    for url in ("/api/v1/people?organization=nowhere", "/api/v1/posts?organization=nowhere"):
        response = client.get(url, headers=bearer(world.staff))
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "organization", "message": "No organisation has the slug 'nowhere'."}
        ]


def test_staff_read_a_person_with_their_post_history(client, world):
    kenji = Person.objects.get(given_name="Kenji")
    post = Post.objects.get(organization=world.japan)
    successor = Person.objects.create(given_name="Yui", family_name="Example-Successor")
    Membership.objects.filter(person=kenji).update(start_date=datetime.date(2020, 1, 1))
    post_assign(post=post, person=successor, start_date=timezone.localdate())

    response = client.get(f"/api/v1/people/{kenji.pk}", headers=bearer(world.staff))
    assert response.status_code == 200
    body = response.json()
    assert body["current_posts"] == []
    (tenure,) = body["posts"]
    assert tenure["label"] == "Consul General of Japan in Barcelona"
    assert tenure["start_date"] == "2020-01-01"
    assert tenure["end_date"] == timezone.localdate().isoformat()
    assert tenure["current"] is False


def test_an_unknown_person_is_a_404_and_a_bad_id_a_422(client, world):
    headers = bearer(world.staff)
    missing = client.get("/api/v1/people/999999", headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No person has the id 999999."}
    bad = client.get("/api/v1/people/kenji", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "person_id"


def test_staff_read_posts_with_current_holder_and_history(client, world):
    kenji = Person.objects.get(given_name="Kenji")
    Membership.objects.filter(person=kenji).update(start_date=datetime.date(2020, 1, 1))
    successor = Person.objects.create(given_name="Yui", family_name="Example-Successor")
    post_assign(post=Post.objects.get(organization=world.japan), person=successor)

    response = client.get(
        "/api/v1/posts?organization=consulate-general-of-japan&role=head_of_mission",
        headers=bearer(world.staff),
    )
    assert response.status_code == 200
    (post,) = response.json()["items"]
    assert post["organization"]["slug"] == "consulate-general-of-japan"
    assert [h["name"] for h in post["current_holders"]] == ["Yui Example-Successor"]
    assert [(h["name"], h["current"]) for h in post["history"]] == [
        ("Yui Example-Successor", True),
        ("Kenji Sato-Example", False),
    ]
    by_role = client.get("/api/v1/posts?role=attache", headers=bearer(world.staff)).json()
    assert [p["label"] for p in by_role["items"]] == ["Science attaché"]
    bad_role = client.get("/api/v1/posts?role=ambassador", headers=bearer(world.staff))
    assert bad_role.status_code == 422
    assert "'head_of_mission'" in bad_role.json()["errors"][0]["message"]


@pytest.mark.parametrize("url", ["/api/v1/people", "/api/v1/people/1", "/api/v1/posts"])
def test_an_outsider_without_a_token_is_asked_for_one(client, world, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


def test_a_wrong_or_revoked_token_is_a_401(client, world):
    wrong = client.get("/api/v1/people", headers={"Authorization": "Bearer dh_not-a-token"})
    assert wrong.status_code == 401
    headers = bearer(world.staff)
    ApiToken.objects.update(revoked_at=timezone.now())
    assert client.get("/api/v1/people", headers=headers).status_code == 401


@pytest.mark.parametrize("persona", ["consul", "host", "outsider"])
@pytest.mark.parametrize("url", ["/api/v1/people", "/api/v1/posts"])
def test_a_token_without_staff_rights_is_refused(client, world, persona, url):
    response = client.get(url, headers=bearer(getattr(world, persona)))
    assert response.status_code == 403
    assert response.json() == {"detail": "This endpoint needs a staff token."}


def test_a_member_token_still_reads_open_data(client, world):
    response = client.get("/api/v1/organizations", headers=bearer(world.consul))
    assert response.status_code == 200


# --- Wrong method, unknown endpoint -------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_wrong_method_is_a_405_in_json(client, world, method):
    response = getattr(client, method)("/api/v1/organizations")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {"detail": f"{method.upper()} is not allowed here; use GET."}


def test_an_unknown_endpoint_is_a_404_in_json(client, db):
    for url in ("/api/v1/embassies", "/api/v1/organizations/", "/api/v1/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response.json() == {"detail": f"No API endpoint at {url}; see /api/v1/docs."}
    assert client.post("/api/v1/embassies").status_code == 404  # no CSRF page either


# --- Queries ------------------------------------------------------------------------


def test_a_page_of_50_organisations_takes_a_bounded_number_of_queries(
    client, db, django_assert_max_num_queries
):
    topics = [Topic.objects.create(slug=f"t{n}", name=f"Topic {n}") for n in range(3)]
    for n in range(60):
        org = Organization.objects.create(
            kind=Kind.UNIVERSITY, name=f"University {n:02}", slug=f"u{n}", country="ES"
        )
        org.topics.set(topics)
    # count, page, topics of the page
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/organizations?page_size=50&side=ecosystem")
    assert len(response.json()["items"]) == 50
    assert len(response.json()["items"][0]["topics"]) == 3
    # and the topic, looked up by the filter form
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/organizations?page_size=50&topic=t1")
    assert len(response.json()["items"]) == 50


def test_lists_of_50_people_posts_and_consulates_take_bounded_queries(
    client, world, django_assert_max_num_queries
):
    for n in range(50):
        org = Organization.objects.create(
            kind=Kind.CONSULATE, consular_class="consulate", name=f"Consulate {n:02}", slug=f"c{n}"
        )
        person = Person.objects.create(given_name=f"Person {n:02}", family_name="Example")
        post = Post.objects.create(organization=org, label="Consul", role=PostRole.HEAD_OF_MISSION)
        post_assign(post=post, person=person)
    headers = bearer(world.staff)
    client.get("/api/v1/people", headers=headers)  # the token's first use is written down
    # staff endpoints: the token with its user, the user's groups; then count, page and
    # one query per prefetch
    for url, queries in [
        ("/api/v1/people?page_size=50", 2 + 2 + 1),
        ("/api/v1/posts?page_size=50", 2 + 2 + 2),
        ("/api/v1/diplomatic-list?page_size=50", 2 + 2),  # posts, their current holders
    ]:
        with django_assert_max_num_queries(queries):
            response = client.get(url, headers=headers)
        assert len(response.json()["items"]) == 50, url
