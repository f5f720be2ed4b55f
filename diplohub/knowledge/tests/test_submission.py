"""A partner city proposes an initiative; Sofia moderates it; the submitter is told."""

from __future__ import annotations

import pytest
from django.core import mail

from diplohub.knowledge.models import Initiative, PublicationState
from diplohub.knowledge.tests import stories
from diplohub.mailing.models import OutboundEmail


@pytest.fixture
def catalogue(db):  # type: ignore[no-untyped-def]
    return stories.build()


def proposal(catalogue, **changes):  # type: ignore[no-untyped-def]
    data = {
        "title": "Lisboa partilha ciência",
        "summary": "A ciutat comparteix la seva recerca.",
        "body": "Un programa **obert**.",
        "government": "Câmara Municipal de Lisboa",
        "city": "Lisbon",
        "country": "PT",
        "initiative_type": catalogue.platform.pk,
        "response_types": [catalogue.advice.pk],
        "topics": [catalogue.health.pk],
        "languages": ["pt", "en"],
        "other_languages": "gl",
        "links": "https://lisboa.example/ciencia\nhttps://x.com/lisboa_example",
        "contact_email": "ciencia@lisboa.example",
        "submitted_by_name": "Inês Example-Sousa",
        "submitted_by_email": "ines@lisboa.example",
        "submitted_by_organization": "Lisbon City Council",
        "website": "",
        "ref-TOTAL_FORMS": "3",
        "ref-INITIAL_FORMS": "0",
        "ref-0-outlet": "Diário Example",
        "ref-0-title": "Lisboa abre os seus dados",
        "ref-0-date": "2021-05-04",
        "ref-0-language": "pt",
        "ref-0-url": "https://diario.example/lisboa",
    }
    data.update(changes)
    return data


def test_a_partner_city_proposes_an_initiative_in_catalan(
    catalogue, client, django_capture_on_commit_callbacks
):
    assert client.get("/ca/knowledge/propose/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/ca/knowledge/propose/", proposal(catalogue))
    assert answer.status_code == 302
    assert answer["Location"] == "/ca/knowledge/propose/sent/"
    item = Initiative.objects.get(government="Câmara Municipal de Lisboa")
    assert item.state == PublicationState.SUBMITTED
    assert (item.title_ca, item.title_en) == ("Lisboa partilha ciência", "Lisboa partilha ciência")
    assert item.languages == ["pt", "en", "gl"]
    assert item.links == [
        {"kind": "web", "url": "https://lisboa.example/ciencia"},
        {"kind": "x", "url": "https://x.com/lisboa_example"},
    ]
    assert [r.outlet for r in item.references.all()] == ["Diário Example"]
    assert item.submitted_by_email == "ines@lisboa.example"
    # Not public yet; the submitter has an acknowledgement in Catalan.
    assert client.get(item.get_absolute_url()).status_code == 404
    ack = OutboundEmail.objects.get(kind="knowledge.submission_received")
    assert (ack.to, ack.language) == ("ines@lisboa.example", "ca")
    assert mail.outbox[-1].to == ["ines@lisboa.example"]
    assert "Lisboa partilha ciência" in mail.outbox[-1].subject


def test_errors_are_shown_next_to_the_fields_and_nothing_is_stored(catalogue, client):
    bad = proposal(
        catalogue,
        body="Hola <script>alert(1)</script>",
        initiative_type="999",
        country="XX",
        other_languages="zz9",
        **{"ref-0-date": "2020-02-31", "ref-1-outlet": "Only an outlet"},
        contact_email="ines@lisboa.example",
        links="javascript:alert(1)",
    )
    answer = client.post("/en/knowledge/propose/", bad)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "Write Markdown without HTML" in html
    assert "Hola &lt;script&gt;alert(1)&lt;/script&gt;" in html  # the text is kept
    assert "Select a valid choice" in html
    assert "zz9 is not a language code" in html
    assert "Enter a date such as 2020-03-26." in html
    assert "A reference needs its outlet, title and address." in html
    assert "This is your own address" in html
    assert "is not a web address" in html
    assert not Initiative.objects.filter(city="Lisbon", state="submitted").exists()


def test_a_bot_filling_the_honeypot_is_thanked_and_ignored(catalogue, client):
    answer = client.post("/en/knowledge/propose/", proposal(catalogue, website="spam.example"))
    assert answer.status_code == 302
    assert not Initiative.objects.filter(state=PublicationState.SUBMITTED).exists()


def test_proposals_are_rate_limited_per_address(catalogue, client, settings):
    settings.SIGNUP_RATE = "2/m"
    codes = [
        client.post("/en/knowledge/propose/", proposal(catalogue)).status_code for _ in range(3)
    ]
    assert codes == [302, 302, 429]
    settings.RATELIMIT_ENABLE = False
    assert client.post("/en/knowledge/propose/", proposal(catalogue)).status_code == 302


def test_sofia_publishes_a_proposal_and_the_submitter_is_told(
    catalogue, client, cast, django_capture_on_commit_callbacks
):
    client.post("/ca/knowledge/propose/", proposal(catalogue))
    item = Initiative.objects.get(state=PublicationState.SUBMITTED)
    assert client.get("/en/knowledge/moderation/").status_code == 302  # sign in first
    client.force_login(cast.outsider)
    assert client.get("/en/knowledge/moderation/").status_code == 403
    assert (
        client.post(f"/en/knowledge/moderation/{item.pk}/", {"decision": "publish"}).status_code
        == 403
    )
    client.force_login(cast.staff)
    html = client.get("/en/knowledge/moderation/").content.decode()
    assert "Lisboa partilha ciência" in html and "ines@lisboa.example" in html
    assert f"/en/admin/knowledge/initiative/{item.pk}/change/" in html
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/en/knowledge/moderation/{item.pk}/", {"decision": "publish"})
    assert answer.status_code == 302
    item.refresh_from_db()
    assert item.state == PublicationState.PUBLISHED and item.published_at
    message = mail.outbox[-1]
    assert message.to == ["ines@lisboa.example"]
    assert "/ca/initiatives/lisboa-partilha-ciencia/" in message.body  # in Catalan, her language
    client.logout()
    assert client.get("/ca/initiatives/lisboa-partilha-ciencia/").status_code == 200


def test_sofia_rejects_a_proposal_with_a_reason(
    catalogue, client, cast, django_capture_on_commit_callbacks
):
    client.post("/en/knowledge/propose/", proposal(catalogue))
    item = Initiative.objects.get(state=PublicationState.SUBMITTED)
    client.force_login(cast.staff)
    client.post(f"/en/knowledge/moderation/{item.pk}/", {"decision": "reject", "reason": ""})
    item.refresh_from_db()
    assert item.state == PublicationState.SUBMITTED  # a reason is required
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/en/knowledge/moderation/{item.pk}/",
            {"decision": "reject", "reason": "It is a national programme, not a city's."},
        )
    item.refresh_from_db()
    assert item.state == PublicationState.REJECTED
    assert "It is a national programme, not a city's." in mail.outbox[-1].body
    # Moderating it again is refused with a message, not an error.
    answer = client.post(
        f"/en/knowledge/moderation/{item.pk}/", {"decision": "publish"}, follow=True
    )
    assert "not waiting for moderation" in answer.content.decode()


def test_the_moderation_page_refuses_get_to_the_action(catalogue, client, cast):
    client.force_login(cast.staff)
    assert client.get(f"/en/knowledge/moderation/{catalogue.draft.pk}/").status_code == 405
