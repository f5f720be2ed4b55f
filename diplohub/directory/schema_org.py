"""schema.org JSON-LD for directory pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from diplohub.directory.models import Kind, Organization

SCHEMA_TYPE = {
    Kind.CONSULATE_GENERAL: "GovernmentOrganization",
    Kind.CONSULATE: "GovernmentOrganization",
    Kind.HONORARY_CONSULATE: "GovernmentOrganization",
    Kind.EMBASSY_OFFICE: "GovernmentOrganization",
    Kind.PUBLIC_INSTITUTION: "GovernmentOrganization",
    Kind.INTERNATIONAL_ORGANISATION: "Organization",
    Kind.CITY_NETWORK: "Organization",
    Kind.UNIVERSITY: "CollegeOrUniversity",
    Kind.BUSINESS_SCHOOL: "CollegeOrUniversity",
    Kind.RESEARCH_CENTRE: "ResearchOrganization",
    Kind.SCIENTIFIC_FACILITY: "ResearchOrganization",
    Kind.COMPANY: "Corporation",
    Kind.FOUNDATION: "NGO",
}


def organization_json_ld(org: Organization, request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPE.get(Kind(org.kind), "Organization"),
        "@id": request.build_absolute_uri(org.get_absolute_url()),
        "name": org.name,
        "url": org.website or request.build_absolute_uri(org.get_absolute_url()),
    }
    if org.acronym:
        data["alternateName"] = org.acronym
    if org.description:
        data["description"] = org.description
    if org.city or org.address or org.country:
        address = {"@type": "PostalAddress"}
        if org.address:
            address["streetAddress"] = org.address
        if org.city:
            address["addressLocality"] = org.city
        if org.country:
            address["addressCountry"] = org.country.code
        data["address"] = address
    if org.latitude is not None and org.longitude is not None:
        data["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(org.latitude),
            "longitude": float(org.longitude),
        }
    same_as = []
    if org.ror_id:
        same_as.append(f"https://ror.org/{org.ror_id}")
    if org.wikidata_id:
        same_as.append(f"https://www.wikidata.org/wiki/{org.wikidata_id}")
    if same_as:
        data["sameAs"] = same_as
    if org.parent_id and org.parent and org.parent.is_public:
        data["parentOrganization"] = {
            "@type": "Organization",
            "name": org.parent.name,
            "@id": request.build_absolute_uri(org.parent.get_absolute_url()),
        }
    topics = [topic.name for topic in org.topics.all()]
    if topics:
        data["knowsAbout"] = topics
    return data
