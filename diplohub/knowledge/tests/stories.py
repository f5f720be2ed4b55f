"""A small catalogue for the knowledge hub's tests, built through the services."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from diplohub.directory.models import Kind, Organization, Person, Topic
from diplohub.knowledge import services
from diplohub.knowledge.models import (
    Development,
    Initiative,
    InitiativeType,
    PressItem,
    Publication,
    ResponseType,
    SimilarInitiative,
    WorkingGroup,
)

D = datetime.date


@dataclass
class Catalogue:
    platform: InitiativeType
    advice: ResponseType
    health: Topic
    isglobal: Organization
    hidden: Organization
    initiative: Initiative
    lisbon: Initiative
    draft: Initiative
    development: Development
    group: WorkingGroup
    member: Person
    publication: Publication
    press: PressItem


def initiative(**fields: Any) -> Initiative:
    defaults: dict[str, Any] = {
        "title_en": "Science diplomacy against the pandemic",
        "title_es": "Diplomacia científica contra la pandemia",
        "title_ca": "Diplomàcia científica contra la pandèmia",
        "summary_en": "The city shares its research with the world.",
        "summary_ca": "La ciutat comparteix la seva recerca amb el món.",
        "body_en": "We **share** results.",
        "government": "Barcelona City Council",
        "city": "Barcelona",
        "country": "ES",
        "languages": ["ca", "es", "en"],
        "links": [
            {"kind": "web", "url": "https://hub.example/covid"},
            {"kind": "x", "url": "https://x.com/hub_example"},
        ],
        "contact_email": "international@hub.example",
        "start_date": D(2020, 3, 16),
        "status": "completed",
    }
    defaults.update(fields)
    return Initiative(**defaults)


def build() -> Catalogue:
    platform = InitiativeType.objects.create(
        slug="platform", name_en="Platform", name_es="Plataforma", name_ca="Plataforma"
    )
    advice = ResponseType.objects.create(
        slug="science-advice",
        name_en="Science advice",
        name_es="Asesoramiento científico",
        name_ca="Assessorament científic",
    )
    health = Topic.objects.create(slug="health", name_en="Health", name_es="Salud", name_ca="Salut")
    isglobal = Organization.objects.create(
        kind=Kind.RESEARCH_CENTRE, name="ISGlobal Example", slug="isglobal-example", country="ES"
    )
    hidden = Organization.objects.create(
        kind=Kind.UNIVERSITY,
        name="Faraway University Example",
        slug="faraway-university-example",
        country="US",
        is_public=False,
    )
    main = initiative(initiative_type=platform)
    services.initiative_save(
        initiative=main,
        topics=[health],
        response_types=[advice],
        related_organizations=[isglobal, hidden],
        references=[
            services.ReferenceIn(
                outlet="The Example Times",
                title="A city shares its science",
                url="https://times.example/city-science",
                date=D(2020, 3, 30),
                language="en",
            ),
            services.ReferenceIn(
                outlet="El Ejemplo",
                title="Una ciudad comparte su ciencia",
                url="https://ejemplo.example/ciencia",
                date=D(2020, 4, 2),
                language="es",
            ),
        ],
    )
    services.initiative_publish(initiative=main)
    lisbon = initiative(
        title_en="Lisbon health data for all",
        title_es="Datos de salud de Lisboa para todos",
        title_ca="Dades de salut de Lisboa per a tothom",
        government="Lisbon City Council",
        city="Lisbon",
        country="PT",
        initiative_type=platform,
        contact_email="",
    )
    services.initiative_save(initiative=lisbon, topics=[health])
    services.initiative_publish(initiative=lisbon)
    draft = initiative(
        title_en="A draft idea",
        title_es="Una idea en borrador",
        title_ca="Una idea en esborrany",
        initiative_type=platform,
    )
    services.initiative_save(initiative=draft)
    # A list of our own (in a transactional test, publishing computed one already).
    SimilarInitiative.objects.filter(initiative=main).delete()
    SimilarInitiative.objects.create(initiative=main, similar=lisbon, rank=1, score=0.8)
    SimilarInitiative.objects.create(initiative=main, similar=draft, rank=2, score=0.7)

    development = Development(
        title_en="Rapid biosensor test",
        title_es="Test rápido con biosensor",
        title_ca="Test ràpid amb biosensor",
        kind="diagnostic",
        lead_organization=isglobal,
        funding_programme="Horizon 2020",
        phase="Completed",
        links=[{"kind": "web", "url": "https://project.example"}],
    )
    services.development_save(development=development, partners=[isglobal], initiatives=[main])
    services.development_publish(development=development)

    member = Person.objects.create(
        given_name="Greta", family_name="Example-Lindqvist", email="greta@private.example"
    )
    group = WorkingGroup(
        title_en="Global expert working group",
        title_es="Grupo de trabajo global de expertos",
        title_ca="Grup de treball global d'experts",
        body_en="Bring **evidence** into public debate.",
        started=D(2020, 4, 1),
        chair=member,
    )
    services.working_group_save(
        working_group=group,
        members=[services.MemberIn(person=member, organization=isglobal, role="Chair")],
    )
    services.working_group_publish(working_group=group)

    publication = Publication(
        title_en="Lessons for cities",
        title_es="Lecciones para las ciudades",
        title_ca="Lliçons per a les ciutats",
        kind="brief",
        working_group=group,
        authors_text="G. Example-Lindqvist",
        date=D(2020, 6, 1),
        language="en",
        url="https://hub.example/lessons.pdf",
    )
    services.publication_save(publication=publication, authors=[member])
    services.publication_publish(publication=publication)

    press = PressItem(
        title="City hub connects researchers and diplomats",
        summary_en="A report on the hub's pandemic response.",
        outlet="The Example Times",
        date=D(2020, 4, 10),
        language="en",
        url="https://times.example/hub",
    )
    services.press_item_save(press_item=press, initiatives=[main], working_groups=[group])
    services.press_item_publish(press_item=press)
    return Catalogue(
        platform,
        advice,
        health,
        isglobal,
        hidden,
        main,
        lisbon,
        draft,
        development,
        group,
        member,
        publication,
        press,
    )
