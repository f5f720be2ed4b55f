"""The OpenAPI document, the routes and the answers agree (after zulip's test_openapi.py).

A route the document does not describe, a documented path nobody serves, or an answer
its schema does not describe fails here; so does interactive documentation that would
load anything from outside the site.
"""

import datetime
import re
import types
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from jsonschema import Draft202012Validator
from ninja import Router

from diplohub.accounts.models import ApiToken
from diplohub.api import HubAPI, api
from diplohub.directory.models import Person, Topic
from diplohub.events.models import Event, Invitation
from diplohub.events.services import registration_create
from diplohub.mailing.audience import Audience
from diplohub.mailing.models import PolicyDocument, Subscriber
from diplohub.mailing.services import (
    CampaignText,
    campaign_create,
    campaign_queue,
    no_mail,
    subscriber_confirm,
    subscriber_sign_up,
)

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Routes of the API that are not operations: the document itself, the docs page, the
# root and the catch-all that answer 404 in JSON.
NOT_OPERATIONS = {"openapi-json", "openapi-view", "api-root", "unknown-endpoint"}
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def routed(client, patterns, root: str) -> set[tuple[str, str]]:
    """(path, method) of every route served, the methods read from the route's own 405.

    Asking the route (rather than reading ninja's internals) tells what a client really
    reaches, whatever registered it.
    """
    found = set()
    for pattern in patterns:
        assert isinstance(pattern, URLPattern), pattern
        if pattern.name in NOT_OPERATIONS:
            continue
        route = str(pattern.pattern)
        response = client.options(root + PARAM.sub("1", route))
        assert response.status_code == 405, (route, response.status_code)
        for method in response["Allow"].split(","):
            found.add((root + PARAM.sub(r"{\1}", route), method.strip().upper()))
    return found


def documented(document: dict) -> set[tuple[str, str]]:
    return {
        (where, method.upper())
        for where, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def schema_of(document: dict, where: str, status: int, method: str = "get") -> dict:
    """The schema of an answer, with the document's components beside it for its $refs."""
    responses = document["paths"][where][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {where} does not document {status}"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def validate(document: dict, where: str, status: int, body: object) -> list[str]:
    schema = schema_of(document, where, status)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{where} {status} at {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(body)
    ]


def bearer(user) -> dict[str, str]:
    raw = ApiToken.new_raw()
    token = ApiToken(user=user, name="schema test")
    token.set_raw(raw)
    token.save()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def samples(cast) -> dict[str, str]:
    """A value for every path parameter, so that each documented GET can be called."""
    Topic.objects.create(slug="health", name="Health").organizations.add(cast.centre)
    cast.japan.exequatur_date = "2019-04-01"
    cast.japan.save()
    Person.objects.filter(given_name="Kenji").update(languages=["ja", "en"])
    # Every {slug} path takes the same sample, so an event shares the organisation's
    # slug; Sofia (whose token the GETs use) and Kenji are registered for it.
    start = timezone.now() + datetime.timedelta(days=7)
    event = Event.objects.create(
        kind="visit",
        title="Visit",
        slug=cast.japan.slug,
        start=start,
        end=start + datetime.timedelta(hours=2),
        status="published",
        capacity=1,
    )
    sofia = Person.objects.create(given_name="Sofia", family_name="Staff", user=cast.staff)
    registration_create(event=event, person=sofia, by=cast.staff)
    registration_create(event=event, person=Person.objects.get(given_name="Kenji"))
    Invitation.objects.create(event=event, person=sofia, organization=cast.japan)
    # Mailing: a confirmed subscriber, so the subscriber and ledger lists have rows.
    for kind in ("privacy", "terms"):
        PolicyDocument.objects.create(
            kind=kind, version=1, title=kind, body="Text.", published_at=timezone.now()
        )
    with no_mail():
        subscriber_sign_up(email="marta@research.example", language="en", source="api")
        subscriber_confirm(email="marta@research.example")
    # Campaigns: one queued to Marta, so its deliveries list has a row.
    campaign = campaign_create(texts={"en": CampaignText("Spring", "News.")}, audience=Audience())
    campaign_queue(campaign=campaign)
    return {
        "slug": cast.japan.slug,
        "person_id": str(Person.objects.get(given_name="Kenji").pk),
        "subscriber_id": str(Subscriber.objects.get().pk),
        "campaign_id": str(campaign.pk),
        **_knowledge_samples(cast),
    }


def _knowledge_samples(cast) -> dict[str, str]:
    """The knowledge hub: one published item of each kind, so that every list has a row."""
    from diplohub.knowledge import services as knowledge
    from diplohub.knowledge.models import (
        Development,
        Initiative,
        InitiativeType,
        PressItem,
        Publication,
        ResponseType,
        WorkingGroup,
    )

    health = Topic.objects.get(slug="health")
    initiative = Initiative(
        title_en="Science advice for the city",
        government="Example City Council",
        city="Barcelona",
        country="ES",
        initiative_type=InitiativeType.objects.create(slug="platform", name="Platform"),
        source_name="Another hub",
        source_url="https://hub.example/en/initiatives/advice/",
        source_id="tag:hub.example,2020-01-01:initiative/1",
    )
    knowledge.initiative_save(
        initiative=initiative,
        topics=[health],
        response_types=[ResponseType.objects.create(slug="advice", name="Science advice")],
        related_organizations=[cast.centre],
        references=[knowledge.ReferenceIn("Outlet", "Title", "https://news.example/a")],
    )
    knowledge.initiative_publish(initiative=initiative)
    development = Development(
        title_en="A trial", kind="clinical_trial", lead_organization=cast.centre
    )
    knowledge.development_save(development=development, initiatives=[initiative])
    knowledge.development_publish(development=development)
    kenji = Person.objects.get(given_name="Kenji")
    group = WorkingGroup(title_en="Working group", chair=kenji)
    knowledge.working_group_save(
        working_group=group, members=[knowledge.MemberIn(person=kenji, organization=cast.japan)]
    )
    knowledge.working_group_publish(working_group=group)
    publication = Publication(
        title_en="A brief",
        kind="brief",
        working_group=group,
        date=datetime.date(2020, 6, 1),
        language="en",
        url="https://hub.example/brief.pdf",
    )
    knowledge.publication_save(publication=publication)
    knowledge.publication_publish(publication=publication)
    press = PressItem(
        title="Article",
        outlet="Outlet",
        date=datetime.date(2020, 6, 2),
        language="en",
        url="https://news.example/b",
    )
    knowledge.press_item_save(press_item=press, initiatives=[initiative], working_groups=[group])
    knowledge.press_item_publish(press_item=press)
    return {
        "initiative_id": str(initiative.pk),
        "development_id": str(development.pk),
        "working_group_id": str(group.pk),
        "publication_id": str(publication.pk),
    }


def test_every_route_is_documented_and_every_documented_path_is_routed(client, document, db):
    root = reverse("api:api-root")
    served = routed(client, api.urls[0], root)
    described = documented(document)
    assert served, "no route found: is the walk broken?"
    assert sorted(served - described) == [], "routes missing from the OpenAPI document"
    assert sorted(described - served) == [], "documented paths that no route serves"


def test_the_check_catches_an_undocumented_route_and_a_ghost_path(client, settings, db):
    ghost = HubAPI(urls_namespace="ghost-api")
    router = Router()

    @router.get("/seen")
    def seen(request):
        return {}

    @router.get("/unseen", include_in_schema=False)
    def unseen(request):
        return {}

    ghost.add_router("/", router)
    urlconf = types.ModuleType("ghost_urls")
    urlconf.urlpatterns = [path("ghost/", ghost.urls)]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = urlconf
    document = ghost.get_openapi_schema()
    document["paths"]["/ghost/nowhere"] = {"get": {}}
    served = routed(client, ghost.urls[0], "/ghost/")
    assert served - documented(document) == {("/ghost/unseen", "GET")}
    assert documented(document) - served == {("/ghost/nowhere", "GET")}


def test_every_answer_matches_its_documented_schema(client, document, samples, cast):
    """Each documented GET, called with a staff token, answers what the document says."""
    headers = bearer(cast.staff)
    problems = []
    for where, item in document["paths"].items():
        if "get" not in item:
            continue
        missing = [name for name in re.findall(r"{(\w+)}", where) if name not in samples]
        assert not missing, f"{where}: add a value for {missing} to the samples fixture"
        response = client.get(where.format(**samples), headers=headers)
        if response.status_code != 200:
            problems.append(f"{where} answered {response.status_code}: {response.content!r}")
            continue
        body = response.json()
        assert body.get("items", True), f"{where} listed nothing, so nothing was checked"
        problems += validate(document, where, 200, body)
    assert problems == []


def error_cases(where: str, operation: dict) -> list[tuple[str, int, str]]:
    """(query or path, status, who) of the errors an operation documents it can answer."""
    names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    schemes = {name for need in operation.get("security", []) for name in need}
    cases = []
    if "page" in names:
        cases.append(("?page=0", 422, "staff"))
    elif "lang" in names:
        cases.append(("?lang=xx", 422, "staff"))
    if "{" in where:
        cases.append((re.sub(r"{\w+}", "999999", where), 404, "staff"))
    if schemes:
        cases.append(("", 401, "nobody"))
    if "StaffTokenAuth" in schemes:
        cases.append(("", 403, "member"))
    return cases


def test_error_answers_match_their_documented_schemas(client, document, samples, cast):
    headers = {"staff": bearer(cast.staff), "member": bearer(cast.consul), "nobody": {}}
    problems = []
    for where, item in document["paths"].items():
        if "get" not in item:
            continue
        for change, status, who in error_cases(where, item["get"]):
            url = change if change.startswith("/") else where.format(**samples) + change
            response = client.get(url, headers=headers[who])
            if response.status_code != status:
                problems.append(f"{url} answered {response.status_code}, not {status}")
                continue
            assert response.json()["detail"], url
            problems += validate(document, where, status, response.json())
    assert problems == []


def test_every_list_pages_the_same_way(document):
    for where, item in document["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        schema = schema_of(document, where, 200)
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        properties = document["components"]["schemas"].get(name, {}).get("properties", {})
        if "items" not in properties:
            continue
        assert set(properties) == {"count", "page", "pages", "next", "previous", "items"}, where
        parameters = {p["name"] for p in operation.get("parameters", [])}
        assert {"page", "page_size"} <= parameters, where


def test_every_endpoint_documents_its_errors(document):
    for where, item in document["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            expected = {str(status) for _change, status, _who in error_cases(where, operation)}
            missing = expected - codes
            assert not missing, f"{method.upper()} {where} does not document {missing}"


# --- The interactive documentation ------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.urls.append(found["src"] or "")
            else:
                self.inline_scripts.append(found.get("type"))
        elif tag == "link" and found.get("href"):
            self.urls.append(found["href"] or "")
        elif tag in {"img", "iframe"} and found.get("src"):
            self.urls.append(found["src"] or "")


def test_the_interactive_docs_load_only_from_the_site(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assets = _Assets()
    assets.feed(response.content.decode())
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets.urls)
    assert any(url.endswith("swagger-ui.css") for url in assets.urls)
    for url in assets.urls:
        assert url.startswith("/static/"), f"{url} is not one of the site's static files"
        assert client.get(url).status_code == 200, url
    # default-src 'self' runs no inline script: only data blocks may be inline.
    assert set(assets.inline_scripts) <= {"application/json"}
    assert b"cdn" not in response.content.lower()


def test_the_docs_point_at_the_openapi_document(client, db):
    response = client.get("/api/v1/docs")
    assert b'"url": "/api/v1/openapi.json"' in response.content
    assert b'"validatorUrl": null' in response.content  # no badge fetched from swagger.io
