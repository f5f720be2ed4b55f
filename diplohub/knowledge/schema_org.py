"""schema.org JSON-LD for the knowledge hub's pages.

Initiative -> Project (a CreativeWork too, by additionalType); Development ->
ResearchProject, MedicalTrial for a clinical trial, Dataset for a dataset; WorkingGroup
-> Organization; Publication -> Report, ScholarlyArticle or OpinionNewsArticle;
PressItem -> NewsArticle. Never an e-mail address: contacts are not given to scrapers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from diplohub.knowledge.models import (
    Development,
    DevelopmentKind,
    Initiative,
    PressItem,
    Publication,
    PublicationKind,
    WorkingGroup,
)

CONTEXT = "https://schema.org"
DEVELOPMENT_TYPE = {
    DevelopmentKind.CLINICAL_TRIAL: "MedicalTrial",
    DevelopmentKind.DATASET: "Dataset",
}
PUBLICATION_TYPE = {
    PublicationKind.BRIEF: "Report",
    PublicationKind.REPORT: "Report",
    PublicationKind.ARTICLE: "ScholarlyArticle",
    PublicationKind.OPED: "OpinionNewsArticle",
}


def _url(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def _organization(org: Any, request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": "Organization", "name": org.name}
    if org.is_public:
        data["@id"] = _url(request, org.get_absolute_url())
        data["url"] = org.website or data["@id"]
    elif org.website:
        data["url"] = org.website
    return data


def _hub(request: HttpRequest) -> dict[str, Any]:
    return {"@type": "Organization", "name": settings.HUB_NAME, "url": _url(request, "/")}


def _base(item: Any, request: HttpRequest, kind: str) -> dict[str, Any]:
    url = _url(request, item.get_absolute_url())
    data: dict[str, Any] = {"@context": CONTEXT, "@type": kind, "@id": url, "url": url}
    data["name"] = item.title
    if item.summary:
        data["description"] = item.summary
    topics = [topic.name for topic in item.topics.all()]
    if topics:
        data["keywords"] = topics
    if item.published_at:
        data["datePublished"] = item.published_at.date().isoformat()
    if item.updated_at:
        data["dateModified"] = item.updated_at.date().isoformat()
    return data


def _same_as(links: list[dict[str, str]]) -> list[str]:
    return [link["url"] for link in links or [] if link.get("url")]


def initiative_json_ld(initiative: Initiative, request: HttpRequest) -> dict[str, Any]:
    data = _base(initiative, request, "Project")
    data["additionalType"] = "https://schema.org/CreativeWork"
    data["genre"] = initiative.initiative_type.name
    data["areaServed"] = {
        "@type": "City",
        "name": initiative.city,
        "containedInPlace": {"@type": "Country", "name": str(initiative.country.name)},
    }
    data["sponsor"] = {"@type": "GovernmentOrganization", "name": initiative.government}
    if initiative.languages:
        data["inLanguage"] = list(initiative.languages)
    if initiative.start_date:
        data["foundingDate"] = initiative.start_date.isoformat()
    members = [org for org in initiative.related_organizations.all() if org.is_public]
    contact = initiative.contact_organization
    if contact is not None and contact not in members:
        members.insert(0, contact)
    if members:
        data["member"] = [_organization(org, request) for org in members]
    same_as = _same_as(initiative.links)
    if same_as:
        data["sameAs"] = same_as
    references = [
        {
            "@type": "CreativeWork",
            "name": ref.title,
            "url": ref.url,
            "publisher": {"@type": "Organization", "name": ref.outlet},
            **({"datePublished": ref.date.isoformat()} if ref.date else {}),
            **({"inLanguage": ref.language} if ref.language else {}),
        }
        for ref in initiative.references.all()
    ]
    if references:
        data["subjectOf"] = references
    images = [
        {"@type": "ImageObject", "contentUrl": _url(request, image.image.url), "caption": image.alt}
        for image in initiative.images.all()
        if image.image
    ]
    if images:
        data["image"] = images
    if initiative.source_url:
        data["isBasedOn"] = initiative.source_url
    return data


def development_json_ld(development: Development, request: HttpRequest) -> dict[str, Any]:
    kind = DEVELOPMENT_TYPE.get(DevelopmentKind(development.kind), "ResearchProject")
    data = _base(development, request, kind)
    data["additionalType"] = development.get_kind_display()
    lead = development.lead_organization
    partners = [_organization(org, request) for org in development.partners.all() if org.is_public]
    if kind == "ResearchProject":
        if lead:
            data["parentOrganization"] = _organization(lead, request)
        if partners:
            data["member"] = partners
        if development.funding_programme:
            data["funder"] = {"@type": "Organization", "name": development.funding_programme}
        if development.start_date:
            data["foundingDate"] = development.start_date.isoformat()
    else:
        if lead:
            data["sponsor" if kind == "MedicalTrial" else "creator"] = _organization(lead, request)
        if partners:
            data["contributor"] = partners
        if development.funding_programme:
            data["funder"] = {"@type": "Organization", "name": development.funding_programme}
        if development.start_date:
            data["startDate" if kind == "MedicalTrial" else "temporalCoverage"] = (
                development.start_date.isoformat()
                if kind == "MedicalTrial"
                else f"{development.start_date.isoformat()}/.."
            )
        if kind == "MedicalTrial" and development.phase:
            data["status"] = development.phase
    same_as = _same_as(development.links)
    if same_as:
        data["sameAs"] = same_as
    return data


def working_group_json_ld(group: WorkingGroup, request: HttpRequest) -> dict[str, Any]:
    data = _base(group, request, "Organization")
    data.pop("datePublished", None)
    data.pop("dateModified", None)
    data.pop("keywords", None)
    if group.started:
        data["foundingDate"] = group.started.isoformat()
    data["parentOrganization"] = _hub(request)
    members = []
    for membership in group.memberships.all():
        person: dict[str, Any] = {"@type": "Person", "name": membership.person.public_name}
        if membership.organization:
            person["affiliation"] = _organization(membership.organization, request)
        if membership.role:
            person["jobTitle"] = membership.role
        members.append(
            {"@type": "OrganizationRole", "member": person, "roleName": membership.role or "member"}
        )
    if members:
        data["member"] = members
    if group.chair:
        data["founder"] = {"@type": "Person", "name": group.chair.public_name}
    return data


def publication_json_ld(publication: Publication, request: HttpRequest) -> dict[str, Any]:
    kind = PUBLICATION_TYPE.get(PublicationKind(publication.kind), "CreativeWork")
    data = _base(publication, request, kind)
    data["headline"] = publication.title[:110]
    data["datePublished"] = publication.date.isoformat()
    data["inLanguage"] = publication.language
    authors = [
        {"@type": "Person", "name": person.public_name} for person in publication.authors.all()
    ]
    if not authors and publication.authors_text:
        authors = [{"@type": "Person", "name": publication.authors_text}]
    if authors:
        data["author"] = authors
    data["publisher"] = _hub(request)
    if publication.file:
        data["encoding"] = {
            "@type": "MediaObject",
            "contentUrl": _url(request, publication.file.url),
            "encodingFormat": "application/pdf",
        }
    if publication.url:
        data["sameAs"] = publication.url
    if publication.working_group:
        data["sourceOrganization"] = {
            "@type": "Organization",
            "name": publication.working_group.title,
            "url": _url(request, publication.working_group.get_absolute_url()),
        }
    return data


def press_item_json_ld(item: PressItem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "NewsArticle",
        "headline": item.title[:110],
        "name": item.title,
        "url": item.url,
        "datePublished": item.date.isoformat(),
        "inLanguage": item.language,
        "publisher": {"@type": "Organization", "name": item.outlet},
    }
    if item.summary:
        data["description"] = item.summary
    return data


def press_list_json_ld(items: list[PressItem], request: HttpRequest) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": "ItemList",
        "url": request.build_absolute_uri(request.path),
        "itemListElement": [
            {"@type": "ListItem", "position": position, "item": press_item_json_ld(item)}
            for position, item in enumerate(items, start=1)
        ],
    }
