"""The public directory as Popolo JSON: valid against the Popolo schemas, and private
data never in it.

The schemas (draft-03) are in tests/data/popolo; their `$ref`s to popoloproject.com
are resolved from those files by a `referencing` registry, never over the network.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from jsonschema import Draft3Validator
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT3

from diplohub.directory.models import Kind, Organization, Person, Post, PostRole
from diplohub.directory.popolo import export_directory
from diplohub.directory.services import post_assign

SCHEMAS = Path(__file__).parent / "data" / "popolo"
KINDS = {
    "organizations": "organization",
    "persons": "person",
    "posts": "post",
    "memberships": "membership",
    "areas": "area",
}


def _schemas() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(SCHEMAS.glob("*.json"))}


@pytest.fixture(scope="module")
def validators() -> dict[str, Draft3Validator]:
    schemas = _schemas()
    registry: Registry = Registry().with_resources(
        (schema["id"].rstrip("#"), Resource.from_contents(schema, default_specification=DRAFT3))
        for schema in schemas.values()
    )
    return {
        name: Draft3Validator(
            schemas[name], registry=registry, format_checker=Draft3Validator.FORMAT_CHECKER
        )
        for name in KINDS.values()
    }


def problems(validators: dict[str, Draft3Validator], export: dict[str, Any]) -> list[str]:
    found = []
    for key, name in KINDS.items():
        for item in export[key]:
            for error in validators[name].iter_errors(item):
                found.append(f"{item.get('id')}: {error.message} at {list(error.absolute_path)}")
    return found


@pytest.fixture
def world(cast):
    """The cast, plus a public network with a hidden parent and a hidden consulate."""
    hidden_parent = Organization.objects.create(
        kind=Kind.PUBLIC_INSTITUTION, name_en="Hidden Parent", slug="hidden-parent", is_public=False
    )
    cast.centre.parent = hidden_parent
    cast.centre.ror_id = "05sd8tv96"
    cast.centre.wikidata_id = "Q1580126"
    cast.centre.website = "https://www.example-supercomputing.test/"
    cast.centre.acronym = "ESC"
    cast.centre.name_es = "Centro de Supercomputación de Ejemplo"
    cast.centre.save()
    Organization.objects.create(
        kind=Kind.UNIVERSITY, name_en="Visible Child", slug="visible-child", parent=cast.centre
    )
    hidden = Organization.objects.create(
        kind=Kind.CONSULATE, name_en="Hidden Consulate", slug="hidden-consulate", is_public=False
    )
    post = Post.objects.create(
        organization=hidden, label="Hidden Consul", role=PostRole.HEAD_OF_MISSION
    )
    post_assign(
        post=post,
        person=Person.objects.create(
            given_name="Hedda", family_name="Hidden-Example", email="h@x.example"
        ),
    )
    return cast


def test_every_object_validates_against_its_popolo_schema(world, validators):
    export = export_directory()

    assert problems(validators, export) == []
    assert {len(export[key]) > 0 for key in KINDS} == {True}
    centre = next(
        o for o in export["organizations"] if o["name"] == "Example Supercomputing Centre"
    )
    assert {"scheme": "ror", "identifier": "05sd8tv96"} in centre["identifiers"]
    assert {"name": "ESC", "note": "acronym"} in centre["other_names"]
    assert centre["area_id"] == "country/ES"
    assert {
        "id": "country/ES",
        "name": "Spain",
        "classification": "country",
        "identifier": "ES",
    } in (export["areas"])


def test_the_schemas_really_check(validators):
    """The validators are live: a broken object fails, and no $ref goes to the network."""
    broken = {"identifiers": [{"scheme": "ror"}], "founding_date": "last year"}

    messages = [error.message for error in validators["organization"].iter_errors(broken)]

    assert any("identifier" in message for message in messages)
    assert any("last year" in message for message in messages)
    with pytest.raises(Unresolvable):
        Registry().resolver().lookup("http://www.popoloproject.com/schemas/organization.json#")


def test_no_email_or_phone_leaves_the_hub(world):
    text = json.dumps(export_directory(), ensure_ascii=False)

    for person in ("kenji", "ana"):
        assert f"{person}@mission.example" not in text
        assert f"{person}@example.test" not in text
    assert "+34 600 000 000" not in text
    assert "@" not in text
    assert '"email"' not in text and '"contact_details"' not in text


def test_nothing_points_at_an_organisation_that_is_not_public(world):
    export = export_directory()

    ids = {org["id"] for org in export["organizations"]}
    names = {org["name"] for org in export["organizations"]}
    assert "Hidden Parent" not in names and "Hidden Consulate" not in names
    centre = next(
        o for o in export["organizations"] if o["name"] == "Example Supercomputing Centre"
    )
    assert "parent_id" not in centre  # its parent is hidden
    child = next(o for o in export["organizations"] if o["name"] == "Visible Child")
    assert child["parent_id"] == centre["id"]
    for key in ("posts", "memberships"):
        assert {item["organization_id"] for item in export[key]} <= ids
    assert {org["parent_id"] for org in export["organizations"] if "parent_id" in org} <= ids
    assert "Hedda" not in json.dumps(export)


def test_the_page_and_the_command_give_the_same_valid_export(world, client, validators):
    page = client.get("/en/directory/popolo.json").json()
    out = io.StringIO()
    call_command("export_organizations", "--format", "popolo", stdout=out)
    command = json.loads(out.getvalue())

    assert problems(validators, page) == [] and problems(validators, command) == []
    assert {o["id"] for o in page["organizations"]} == {o["id"] for o in command["organizations"]}
