"""schema.org JSON-LD on every page, parsed back from the HTML."""

from __future__ import annotations

import json
import re

import pytest

from diplohub.knowledge.tests import stories

SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


@pytest.fixture
def catalogue(db):  # type: ignore[no-untyped-def]
    return stories.build()


def json_ld(client, url):  # type: ignore[no-untyped-def]
    html = client.get(url).content.decode()
    (block,) = SCRIPT.findall(html)
    return json.loads(block)


def test_an_initiative_is_a_project(catalogue, client):
    data = json_ld(client, catalogue.initiative.get_absolute_url())
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Project"
    assert data["additionalType"] == "https://schema.org/CreativeWork"
    assert data["name"] == "Science diplomacy against the pandemic"
    assert data["url"] == "http://testserver/en/initiatives/science-diplomacy-against-the-pandemic/"
    assert data["areaServed"]["name"] == "Barcelona"
    assert data["areaServed"]["containedInPlace"]["name"] == "Spain"
    assert data["inLanguage"] == ["ca", "es", "en"]
    assert data["keywords"] == ["Health"]
    assert [m["name"] for m in data["member"]] == ["ISGlobal Example"]
    assert [r["publisher"]["name"] for r in data["subjectOf"]] == [
        "The Example Times",
        "El Ejemplo",
    ]
    assert "international@hub.example" not in json.dumps(data)


def test_a_diagnostic_is_a_research_project_and_a_trial_a_medical_trial(catalogue, client):
    data = json_ld(client, catalogue.development.get_absolute_url())
    assert data["@type"] == "ResearchProject"
    assert data["funder"]["name"] == "Horizon 2020"
    assert data["parentOrganization"]["name"] == "ISGlobal Example"
    catalogue.development.kind = "clinical_trial"
    catalogue.development.save()
    data = json_ld(client, catalogue.development.get_absolute_url())
    assert data["@type"] == "MedicalTrial"
    assert data["sponsor"]["name"] == "ISGlobal Example"


def test_a_working_group_is_an_organization_with_members(catalogue, client):
    data = json_ld(client, catalogue.group.get_absolute_url())
    assert data["@type"] == "Organization"
    (member,) = data["member"]
    assert member["member"]["name"] == "Greta Example-Lindqvist"
    assert member["member"]["affiliation"]["name"] == "ISGlobal Example"
    assert "greta@private.example" not in json.dumps(data)


@pytest.mark.parametrize(
    ("kind", "schema"),
    [
        ("brief", "Report"),
        ("report", "Report"),
        ("article", "ScholarlyArticle"),
        ("op_ed", "OpinionNewsArticle"),
    ],
)
def test_publications_by_kind(catalogue, client, kind, schema):
    catalogue.publication.kind = kind
    catalogue.publication.save()
    data = json_ld(client, catalogue.publication.get_absolute_url())
    assert data["@type"] == schema
    assert data["author"] == [{"@type": "Person", "name": "Greta Example-Lindqvist"}]
    assert data["datePublished"] == "2020-06-01"
    assert data["sourceOrganization"]["name"] == "Global expert working group"


def test_the_press_list_is_a_list_of_news_articles(catalogue, client):
    data = json_ld(client, "/en/press/")
    assert data["@type"] == "ItemList"
    (entry,) = data["itemListElement"]
    assert entry["item"]["@type"] == "NewsArticle"
    assert entry["item"]["publisher"]["name"] == "The Example Times"
    assert entry["item"]["url"] == "https://times.example/hub"


def test_no_text_can_close_the_script(catalogue, client):
    catalogue.initiative.summary_en = "</script><script>alert(1)</script>"
    type(catalogue.initiative).objects.filter(pk=catalogue.initiative.pk).update(
        summary_en=catalogue.initiative.summary_en
    )
    data = json_ld(client, catalogue.initiative.get_absolute_url())
    assert data["description"] == "</script><script>alert(1)</script>"
