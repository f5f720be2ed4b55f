"""The services: Sofia publishes; bad input is refused with a clear message."""

from __future__ import annotations

import datetime
import io
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from diplohub.knowledge import services, validation
from diplohub.knowledge.models import (
    Initiative,
    InitiativeImage,
    InitiativeType,
    Publication,
    PublicationState,
)
from diplohub.knowledge.tests import stories


@pytest.fixture
def catalogue(db):  # type: ignore[no-untyped-def]
    return stories.build()


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return buffer.getvalue()


def test_sofia_publishes_a_draft_and_it_gets_its_addresses(catalogue, client, cast):
    draft = catalogue.draft
    assert draft.state == PublicationState.DRAFT and draft.published_at is None
    services.item_publish(item=draft, by=cast.staff)
    draft.refresh_from_db()
    assert draft.state == PublicationState.PUBLISHED and draft.published_at
    assert client.get("/es/initiatives/una-idea-en-borrador/").status_code == 200
    services.initiative_unpublish(initiative=draft)
    assert client.get("/es/initiatives/una-idea-en-borrador/").status_code == 404


def test_changing_what_similarity_reads_asks_for_a_recomputation(catalogue):
    item = catalogue.initiative
    Initiative.objects.filter(pk=item.pk).update(
        similar_computed_at=datetime.datetime.now(datetime.UTC)
    )
    item.refresh_from_db()
    item.status = "ongoing"  # not something similarity reads
    services.initiative_save(initiative=item)
    item.refresh_from_db()
    assert item.similar_computed_at is not None
    item.summary_en = "A new summary."
    services.initiative_save(initiative=item)
    item.refresh_from_db()
    assert item.similar_computed_at is None


def test_unpublishing_asks_those_that_listed_it_to_recompute(catalogue):
    Initiative.objects.update(similar_computed_at=datetime.datetime.now(datetime.UTC))
    services.initiative_unpublish(initiative=catalogue.initiative.similar.first().similar)
    catalogue.initiative.refresh_from_db()
    assert catalogue.initiative.similar_computed_at is None


def test_the_search_index_is_told(catalogue):
    fake = mock.Mock()
    with mock.patch.object(services, "_search", return_value=fake):
        services.initiative_save(initiative=catalogue.initiative)
        fake.index_item.assert_called_once_with(catalogue.initiative)
        services.development_unpublish(development=catalogue.development)
        fake.remove_item.assert_called_once_with(catalogue.development)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        'Look <img src=x onerror="alert(1)">',
        "<iframe src='https://evil.example'></iframe>",
        "[click](javascript:alert(1))",
        "<!-- hidden -->",
    ],
)
def test_markdown_with_html_is_refused(catalogue, text):
    item = catalogue.initiative
    item.body_es = text
    with pytest.raises(ValidationError) as error:
        services.initiative_save(initiative=item)
    assert "body_es" in error.value.message_dict
    assert Initiative.objects.get(pk=item.pk).body_es in ("", None)  # nothing stored


@pytest.mark.parametrize(
    "text",
    ["Use `<div>` for blocks.", "a < b and c > d", "See <https://hub.example>.", "```\n<b>\n```"],
)
def test_markdown_that_only_shows_code_or_signs_is_fine(text):
    validation.check_markdown(text)


def test_bad_dates_and_languages_and_links_are_refused(catalogue):
    item = catalogue.initiative
    item.start_date = datetime.date(1850, 1, 1)
    item.languages = ["en", "klingon"]
    item.links = [{"kind": "telegraph", "url": "https://hub.example"}]
    with pytest.raises(ValidationError) as error:
        services.initiative_save(initiative=item)
    problems = error.value.message_dict
    assert "use a date from 1900 on" in problems["start_date"][0]
    assert "klingon is not a language code" in problems["languages"][0]
    assert "telegraph is not a kind of link" in problems["links"][0]
    publication = catalogue.publication
    publication.date = datetime.date.today() + datetime.timedelta(days=3)
    with pytest.raises(ValidationError, match="in the future"):
        services.publication_save(publication=publication)


def test_unknown_vocabulary_values_are_refused_with_the_known_ones(catalogue):
    assert services.vocabulary_resolve(InitiativeType, "Plataforma") == catalogue.platform
    assert services.vocabulary_resolve(InitiativeType, "platform") == catalogue.platform
    with pytest.raises(
        ValidationError, match="not a known type of initiative; use one of: platform"
    ):
        services.vocabulary_resolve(InitiativeType, "manifesto")


def test_references_are_checked_one_by_one(catalogue):
    with pytest.raises(ValidationError) as error:
        services.initiative_save(
            initiative=catalogue.initiative,
            references=[
                services.ReferenceIn(outlet="Ok", title="Ok", url="https://ok.example"),
                services.ReferenceIn(outlet="", title="T", url="ftp://x", language="xx-yy"),
            ],
        )
    (message,) = error.value.message_dict["references"]
    assert message.startswith("Reference 2:")
    assert "outlet is required" in message and "not a web address" in message
    assert catalogue.initiative.references.count() == 2  # the stored ones are untouched


def test_images_are_checked_before_they_are_stored(catalogue, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ok = InitiativeImage(
        initiative=catalogue.initiative,
        image=SimpleUploadedFile("ok.png", png(), "image/png"),
        alt_en="The team at work",
    )
    services.initiative_image_save(image=ok)
    assert ok.pk and list(tmp_path.rglob("*.png"))
    fake = InitiativeImage(
        initiative=catalogue.initiative,
        image=SimpleUploadedFile("fake.png", b"<?php echo 1; ?>", "image/png"),
        alt_en="Nothing",
    )
    with pytest.raises(ValidationError, match="not an image we can read"):
        services.initiative_image_save(image=fake)
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    wrong = InitiativeImage(
        initiative=catalogue.initiative,
        image=SimpleUploadedFile("renamed.jpg", gif.getvalue(), "image/jpeg"),
        alt_en="A GIF",
    )
    with pytest.raises(ValidationError, match="This is a GIF image"):
        services.initiative_image_save(image=wrong)
    huge = SimpleUploadedFile("huge.png", png() + b"\0" * (5 * 1024 * 1024), "image/png")
    with pytest.raises(ValidationError, match=r"the most is 5\.0 MB"):
        services.initiative_image_save(
            image=InitiativeImage(initiative=catalogue.initiative, image=huge, alt_en="Huge")
        )
    no_alt = InitiativeImage(
        initiative=catalogue.initiative, image=SimpleUploadedFile("a.png", png(), "image/png")
    )
    with pytest.raises(ValidationError, match="Say what the image shows"):
        services.initiative_image_save(image=no_alt)
    assert sorted(p.name for p in tmp_path.rglob("*.*")) == ["ok.png"]  # nothing else stored


def test_publication_files_must_be_real_pdfs_of_at_most_20_mb(catalogue, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    publication = catalogue.publication
    publication.file = SimpleUploadedFile("brief.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    with pytest.raises(ValidationError, match="not a PDF document"):
        services.publication_save(publication=publication)
    publication.file = SimpleUploadedFile(
        "big.pdf", b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024), "application/pdf"
    )
    with pytest.raises(ValidationError, match=r"the most is 20\.0 MB"):
        services.publication_save(publication=publication)
    assert not list(tmp_path.rglob("*.pdf"))
    publication.file = SimpleUploadedFile("brief.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    services.publication_save(publication=publication)
    assert Publication.objects.get(pk=publication.pk).file.name.endswith(".pdf")


def test_a_publication_needs_an_address_a_file_or_its_text(catalogue):
    publication = catalogue.publication
    publication.url = ""
    with pytest.raises(ValidationError, match="address, its PDF file, or its text"):
        services.publication_save(publication=publication)


def test_only_staff_moderate(catalogue, cast):
    catalogue.draft.state = PublicationState.SUBMITTED
    catalogue.draft.save()
    with pytest.raises(PermissionDenied):
        services.initiative_moderate(
            initiative=catalogue.draft, by=cast.consul, decision=services.PUBLISH
        )
    with pytest.raises(services.ModerationError, match="Unknown decision"):
        services.initiative_moderate(initiative=catalogue.draft, by=cast.staff, decision="maybe")


def test_working_group_members_are_listed_once(catalogue):
    member = services.MemberIn(person=catalogue.member)
    with pytest.raises(ValidationError, match="listed twice"):
        services.working_group_save(working_group=catalogue.group, members=[member, member])


def test_the_admin_publishes_through_the_services(catalogue, client, cast):
    client.force_login(cast.staff)
    answer = client.post(
        "/en/admin/knowledge/initiative/",
        {"action": "publish", "_selected_action": [catalogue.draft.pk]},
        follow=True,
    )
    assert "1 item published." in answer.content.decode()
    catalogue.draft.refresh_from_db()
    assert catalogue.draft.state == PublicationState.PUBLISHED
    for path in [
        "/en/admin/knowledge/initiative/",
        f"/en/admin/knowledge/initiative/{catalogue.initiative.pk}/change/",
        "/en/admin/knowledge/development/",
        f"/en/admin/knowledge/workinggroup/{catalogue.group.pk}/change/",
        f"/en/admin/knowledge/publication/{catalogue.publication.pk}/change/",
        "/en/admin/knowledge/pressitem/",
        "/en/admin/knowledge/initiativetype/",
        "/en/admin/knowledge/responsetype/add/",
        "/en/admin/knowledge/slug/",
    ]:
        assert client.get(path).status_code == 200, path


def test_the_admin_form_refuses_what_the_services_refuse(catalogue, client, cast):
    from django.forms.models import model_to_dict

    client.force_login(cast.staff)
    item = catalogue.development
    data = {k: v for k, v in model_to_dict(item).items() if v is not None}
    data.update(
        {
            "body_en": "<script>alert(1)</script>",
            "links": "[]",
            "partners": [o.pk for o in item.partners.all()],
            "initiatives": [i.pk for i in item.initiatives.all()],
            "topics": [],
        }
    )
    answer = client.post(f"/en/admin/knowledge/development/{item.pk}/change/", data)
    assert answer.status_code == 200
    assert "Write Markdown without HTML" in answer.content.decode()
