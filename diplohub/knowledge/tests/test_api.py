"""The knowledge hub's open API: the published catalogue, self-describing enough for
another hub to import, filtered as documented, never a personal e-mail."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from diplohub.directory.models import Topic
from diplohub.knowledge import services
from diplohub.knowledge.feeds import identifier
from diplohub.knowledge.models import Initiative, InitiativeType
from diplohub.knowledge.tests import stories


@pytest.fixture
def catalogue(db):
    return stories.build()


def items(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["items"]


def titles(response) -> set[str]:
    return {item["title"] for item in items(response)}


def test_the_list_is_self_describing(client, catalogue):
    found = items(client.get("/api/v1/initiatives"))

    assert [item["id"] for item in found] == [catalogue.initiative.pk, catalogue.lisbon.pk]
    item = found[0]
    assert item["uri"] == identifier(catalogue.initiative)
    assert item["slugs"] == {
        "en": "science-diplomacy-against-the-pandemic",
        "es": "diplomacia-cientifica-contra-la-pandemia",
        "ca": "diplomacia-cientifica-contra-la-pandemia",
    }
    assert item["urls"]["ca"] == (
        "http://testserver/ca/initiatives/diplomacia-cientifica-contra-la-pandemia/"
    )
    assert item["url"] == item["urls"]["en"]
    assert item["translations"]["ca"] == {
        "title": "Diplomàcia científica contra la pandèmia",
        "summary": "La ciutat comparteix la seva recerca amb el món.",
        "body": None,
    }
    assert item["type"] == {
        "slug": "platform",
        "name": "Platform",
        "names": {"en": "Platform", "es": "Plataforma", "ca": "Plataforma"},
    }
    assert [topic["slug"] for topic in item["topics"]] == ["health"]
    assert [kind["slug"] for kind in item["response_types"]] == ["science-advice"]
    assert item["country"] == "ES" and item["country_name"] == "Spain"
    assert item["languages"] == ["ca", "es", "en"]
    assert item["links"][1] == {"kind": "x", "url": "https://x.com/hub_example"}
    assert item["start_date"] == "2020-03-16" and item["status"] == "completed"
    assert [ref["outlet"] for ref in item["references"]] == ["The Example Times", "El Ejemplo"]
    # Only public organisations; never the contact address.
    assert [org["slug"] for org in item["related_organizations"]] == ["isglobal-example"]
    assert "international@hub.example" not in client.get("/api/v1/initiatives").content.decode()
    assert item["source"] is None
    # To the millisecond, as every time in the API.
    updated = datetime.datetime.fromisoformat(item["updated"])
    assert abs(updated - catalogue.initiative.updated_at) < datetime.timedelta(milliseconds=1)


def test_the_list_answers_in_the_language_asked(client, catalogue):
    response = client.get("/api/v1/initiatives?lang=ca")
    assert response["Content-Language"] == "ca"
    item = items(response)[0]
    assert item["title"] == "Diplomàcia científica contra la pandèmia"
    assert item["url"] == item["urls"]["ca"]
    assert item["type"]["name"] == "Plataforma"
    # A text without a translation falls back to the default language.
    assert items(client.get("/api/v1/initiatives?lang=es"))[0]["summary"] == (
        "The city shares its research with the world."
    )
    assert client.get("/api/v1/initiatives?lang=xx").status_code == 422


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("topic=health", {"Science diplomacy against the pandemic", "Lisbon health data for all"}),
        ("type=platform", {"Science diplomacy against the pandemic", "Lisbon health data for all"}),
        ("country=PT", {"Lisbon health data for all"}),
        ("country=pt", {"Lisbon health data for all"}),
        ("city=lisbon", {"Lisbon health data for all"}),
        ("city=Atlantis", set()),
        ("language=ca", {"Science diplomacy against the pandemic", "Lisbon health data for all"}),
        ("language=fr", set()),
        ("year=2020", {"Science diplomacy against the pandemic", "Lisbon health data for all"}),
        ("year=2019", set()),
    ],
)
def test_the_list_filters(client, catalogue, query, expected):
    assert titles(client.get(f"/api/v1/initiatives?{query}")) == expected


def test_it_lists_what_changed_since_a_time(client, catalogue):
    cutoff = timezone.now()
    Initiative.objects.filter(pk=catalogue.initiative.pk).update(
        updated_at=cutoff - datetime.timedelta(days=2)
    )
    Initiative.objects.filter(pk=catalogue.lisbon.pk).update(
        updated_at=cutoff + datetime.timedelta(seconds=1)
    )
    since = (cutoff - datetime.timedelta(days=1)).isoformat()
    assert titles(client.get("/api/v1/initiatives", {"updated_since": since})) == {
        "Lisbon health data for all"
    }
    naive = (cutoff - datetime.timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert len(titles(client.get("/api/v1/initiatives", {"updated_since": naive}))) == 1


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("topic=nope", "topic", "Unknown topic 'nope'. Allowed values: health"),
        ("type=hackathon", "type", "Unknown type 'hackathon'. Allowed values: platform"),
        ("country=XX", "country", "use an ISO 3166-1 alpha-2 code"),
        ("country=ESP", "country", "use an ISO 3166-1 alpha-2 code"),
        ("language=english", "language", "should match pattern"),
        ("year=20", "year", "greater than or equal to 1000"),
        ("updated_since=yesterday", "updated_since", "datetime"),
        ("page_size=500", "page_size", "less than or equal to 200"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(client, catalogue, query, field, says):
    response = client.get(f"/api/v1/initiatives?{query}")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert says in error["message"]


def test_the_detail_has_the_similar_initiatives_that_are_published(client, catalogue):
    response = client.get(f"/api/v1/initiatives/{catalogue.initiative.pk}")
    assert response.status_code == 200
    body = response.json()
    assert [(s["id"], s["rank"], s["city"]) for s in body["similar"]] == [
        (catalogue.lisbon.pk, 1, "Lisbon")
    ]  # the draft is left out
    assert body["similar"][0]["url"] == (
        "http://testserver/en/initiatives/lisbon-health-data-for-all/"
    )
    assert body["references"][0]["url"] == "https://times.example/city-science"


def test_the_detail_of_a_draft_or_nothing_is_a_404(client, catalogue):
    for pk in (catalogue.draft.pk, 999999):
        response = client.get(f"/api/v1/initiatives/{pk}")
        assert response.status_code == 404
        assert response.json() == {"detail": f"No published initiative has the id {pk}."}
    response = client.get("/api/v1/initiatives/abc")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "initiative_id"


def test_an_imported_initiative_names_its_source(client, catalogue):
    lisbon = catalogue.lisbon
    lisbon.source_name = "Lisbon Science Hub"
    lisbon.source_url = "https://hub.lisbon.example/en/initiatives/health-data/"
    lisbon.source_id = "tag:hub.lisbon.example,2020-05-01:initiative/7"
    services.initiative_save(initiative=lisbon)

    item = items(client.get("/api/v1/initiatives?country=PT"))[0]

    assert item["source"] == {
        "name": "Lisbon Science Hub",
        "url": "https://hub.lisbon.example/en/initiatives/health-data/",
        "id": "tag:hub.lisbon.example,2020-05-01:initiative/7",
    }
    assert item["uri"] == identifier(lisbon)  # its id here stays ours


def test_the_list_pages_in_a_stable_order(client, catalogue):
    first = client.get("/api/v1/initiatives?page_size=1").json()
    assert first["count"] == 2 and first["pages"] == 2
    second = client.get(first["next"]).json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [
        catalogue.initiative.pk,
        catalogue.lisbon.pk,
    ]
    assert client.get("/api/v1/initiatives?page=3").status_code == 404


def test_a_page_takes_a_fixed_number_of_queries(client, catalogue, django_assert_max_num_queries):
    for n in range(20):
        extra = stories.initiative(
            title_en=f"Initiative number {n}", initiative_type=catalogue.platform
        )
        services.initiative_save(initiative=extra, topics=[catalogue.health])
        services.initiative_publish(initiative=extra)
    # count, page, topics, response types, organisations, references, images, slugs
    with django_assert_max_num_queries(9):
        assert len(items(client.get("/api/v1/initiatives"))) == 22


def test_the_vocabularies_are_listed_with_their_names(client, catalogue):
    InitiativeType.objects.create(slug="network", name_en="Network", name_ca="Xarxa")
    found = items(client.get("/api/v1/initiative-types?lang=ca"))
    assert [(kind["slug"], kind["name"]) for kind in found] == [
        ("network", "Xarxa"),
        ("platform", "Plataforma"),
    ]
    assert found[0]["names"] == {"en": "Network", "es": None, "ca": "Xarxa"}
    assert [kind["slug"] for kind in items(client.get("/api/v1/response-types"))] == [
        "science-advice"
    ]


def test_developments_with_their_organisations_and_initiatives(client, catalogue):
    [item] = items(client.get("/api/v1/developments"))
    assert item["kind"] == "diagnostic" and item["kind_label"] == "Diagnostic"
    assert item["lead_organization"]["slug"] == "isglobal-example"
    assert item["funding_programme"] == "Horizon 2020"
    assert [i["id"] for i in item["initiatives"]] == [catalogue.initiative.pk]
    assert items(client.get("/api/v1/developments?kind=vaccine")) == []
    detail = client.get(f"/api/v1/developments/{catalogue.development.pk}?lang=es")
    assert detail.json()["title"] == "Test rápido con biosensor"
    assert client.get("/api/v1/developments/999999").status_code == 404
    assert client.get("/api/v1/developments?kind=rumour").status_code == 422


def test_working_groups_show_members_public_names_and_institutions_only(client, catalogue):
    response = client.get("/api/v1/working-groups")
    [group] = items(response)
    assert group["chair"] == "Greta Example-Lindqvist"
    assert group["members"] == [
        {
            "name": "Greta Example-Lindqvist",
            "institution": {"slug": "isglobal-example", "name": "ISGlobal Example"},
            "role": "Chair",
        }
    ]
    assert [p["title"] for p in group["publications"]] == ["Lessons for cities"]
    assert "greta@private.example" not in response.content.decode()
    assert "@" not in response.content.decode()
    detail = client.get(f"/api/v1/working-groups/{catalogue.group.pk}")
    assert detail.status_code == 200
    assert "@" not in detail.content.decode()


def test_publications_and_press(client, catalogue):
    [publication] = items(client.get("/api/v1/publications"))
    assert publication["kind"] == "brief"
    assert publication["working_group"]["id"] == catalogue.group.pk
    assert publication["authors"] == "G. Example-Lindqvist"
    assert publication["link"] == "https://hub.example/lessons.pdf"
    assert items(client.get("/api/v1/publications?year=2019")) == []
    assert client.get(f"/api/v1/publications/{catalogue.publication.pk}").status_code == 200

    [press] = items(client.get("/api/v1/press?language=en"))
    assert press["url"] == "https://times.example/hub"
    assert press["summaries"]["en"] == "A report on the hub's pandemic response."
    assert [i["id"] for i in press["initiatives"]] == [catalogue.initiative.pk]
    assert [g["id"] for g in press["working_groups"]] == [catalogue.group.pk]
    assert items(client.get("/api/v1/press?language=ca")) == []


def test_the_api_only_reads(client, catalogue):
    response = client.post("/api/v1/initiatives")
    assert response.status_code == 405
    assert response.json()["detail"] == "POST is not allowed here; use GET."


def test_an_empty_catalogue_answers_an_empty_list(client, db):
    Topic.objects.create(slug="health", name="Health")
    body = client.get("/api/v1/initiatives?topic=health").json()
    assert body == {
        "count": 0,
        "page": 1,
        "pages": 1,
        "next": None,
        "previous": None,
        "items": [],
    }
