"""The mailing API, told as stories: a partner's website subscribes Marta through the
API with the form's rules (and she still confirms by e-mail); Sofia's script reads
the subscribers and the ledger; Kenji's member token may not."""

from __future__ import annotations

import pytest

from diplohub.accounts.models import ApiToken
from diplohub.directory.models import Topic
from diplohub.mailing import links, services
from diplohub.mailing.models import Subscriber, SubscriberStatus
from diplohub.mailing.tests import signup_stories
from diplohub.mailing.tests.signup_stories import link_in

pytestmark = pytest.mark.django_db
mailbox = signup_stories.mailbox
policies = signup_stories.policies

MARTA = {
    "email": "Marta@Research.example",
    "first_name": "Marta",
    "last_name": "Recerca-Example",
    "consent": True,
}


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    raw = ApiToken.new_raw()
    token = ApiToken(user=user, name="test")
    token.set_raw(raw)
    token.save()
    return {"Authorization": f"Bearer {raw}"}


def subscribe(client, capture=None, **changes):  # type: ignore[no-untyped-def]
    body = {**MARTA, **changes}
    if capture is None:
        return client.post("/api/v1/subscribe", body, content_type="application/json")
    with capture(execute=True):
        return client.post("/api/v1/subscribe", body, content_type="application/json")


def test_a_website_subscribes_marta_and_she_confirms_by_e_mail(
    client, policies, mailbox, django_capture_on_commit_callbacks
):
    Topic.objects.create(slug="space", name="Space")
    response = subscribe(
        client, django_capture_on_commit_callbacks, topics=["space"], language="ca", events=True
    )
    assert response.status_code == 202
    assert "we have sent it a link to confirm" in response.json()["detail"]
    marta = Subscriber.objects.get()
    assert (marta.email, marta.status, marta.source, marta.language) == (
        "Marta@research.example",
        SubscriberStatus.PENDING,
        "api",
        "ca",
    )
    assert [t.slug for t in marta.topics.all()] == ["space"] and marta.wants_events
    (message,) = mailbox.messages
    client.post(link_in(message, "join/confirm"))
    marta.refresh_from_db()
    assert marta.status == SubscriberStatus.ACTIVE
    assert sorted(marta.consents.values_list("purpose", "source")) == [
        ("events", "api"),
        ("newsletter", "api"),
    ]


def test_a_known_address_gets_the_same_answer(
    client, policies, mailbox, django_capture_on_commit_callbacks
):
    first = subscribe(client, django_capture_on_commit_callbacks)
    services.subscriber_confirm(email="marta@research.example")
    again = subscribe(client, django_capture_on_commit_callbacks, first_name="Someone")
    assert (first.status_code, first.json()) == (again.status_code, again.json())
    assert Subscriber.objects.count() == 1
    assert mailbox.messages[-1]["Subject"].startswith("You are already subscribed")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"consent": False}, "consent", "Tick this box"),
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"last_name": "Recerca\r\nBcc: all@example.org"}, "last_name", "single line"),
        ({"email": "marta@"}, "email", "Enter a valid e-mail address"),
        ({"first_name": "M" * 500}, "first_name", "at most 120 characters"),
        ({"topics": ["astrology"]}, "topics", "Unknown topics: astrology."),
        ({"country": "XX"}, "country", "Select a valid choice."),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, policies, changes, field, message):
    response = subscribe(client, **changes)
    assert response.status_code == 422
    body = response.json()
    assert any(e["field"] == field and message in e["message"] for e in body["errors"]), body
    assert field in body["detail"]
    assert Subscriber.objects.count() == 0


def test_missing_or_mistyped_fields_are_a_422_too(client, policies):
    response = client.post(
        "/api/v1/subscribe", {"email": "marta@research.example"}, content_type="application/json"
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"consent", "first_name", "last_name"}
    wrong = subscribe(client, language="fr")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "language"


def test_the_api_shares_the_forms_rate_limit(client, policies, settings):
    settings.SIGNUP_RATE = "2/m"
    client.post("/en/join/", {**MARTA, "consent": "on"})
    assert subscribe(client, email="two@research.example").status_code == 202
    limited = subscribe(client, email="three@research.example")
    assert limited.status_code == 429
    assert "Too many sign-ups" in limited.json()["detail"]


def test_subscribing_is_closed_while_no_policy_is_in_force(client, db):
    response = subscribe(client)
    assert response.status_code == 503
    assert "privacy policy" in response.json()["detail"]


def test_a_wrong_method_is_answered_in_json(client, db):
    response = client.get("/api/v1/subscribe")
    assert response.status_code == 405
    assert response.json()["detail"].startswith("GET is not allowed here")


# --- Staff ----------------------------------------------------------------------------------


@pytest.fixture
def subscribers(policies):  # type: ignore[no-untyped-def]
    space = Topic.objects.create(slug="space", name="Space")
    for address, language in [
        ("marta@research.example", "ca"),
        ("liang@innovation.example", "en"),
        ("lucia@university.example", "es"),
    ]:
        topics = [space] if language == "ca" else []
        services.subscriber_sign_up(email=address, language=language, source="join", topics=topics)
    services.subscriber_confirm(email="marta@research.example")
    services.subscriber_confirm(email="liang@innovation.example")
    services.subscriber_unsubscribe(email="liang@innovation.example", source="one-click")
    return Subscriber.objects.get(email="marta@research.example")


def test_sofia_lists_the_subscribers_with_filters(client, cast, subscribers):
    headers = bearer(cast.staff)

    def emails(query: str = "") -> list[str]:
        response = client.get(f"/api/v1/subscribers{query}", headers=headers)
        assert response.status_code == 200, response.content
        return [item["email"] for item in response.json()["items"]]

    assert len(emails()) == 3
    assert emails("?status=active") == ["marta@research.example"]
    assert emails("?status=unsubscribed") == ["liang@innovation.example"]
    assert emails("?language=es") == ["lucia@university.example"]
    assert emails("?topic=space") == ["marta@research.example"]
    assert emails("?reachable=true") == ["marta@research.example"]
    assert emails("?q=LIANG") == ["liang@innovation.example"]
    item = client.get("/api/v1/subscribers?status=active", headers=headers).json()["items"][0]
    assert item["topics"] == ["space"] and item["source"] == "join"
    bad = client.get("/api/v1/subscribers?topic=astrology", headers=headers)
    assert bad.status_code == 422
    assert client.get("/api/v1/subscribers?status=gone", headers=headers).status_code == 422


def test_sofia_reads_one_subscribers_history_and_the_ledger_by_address(client, cast, subscribers):
    headers = bearer(cast.staff)
    liang = Subscriber.objects.get(email="liang@innovation.example")
    history = client.get(f"/api/v1/subscribers/{liang.pk}/consents", headers=headers).json()
    assert [(row["purpose"], row["granted"], row["source"]) for row in history["items"]] == [
        ("newsletter", False, "one-click"),
        ("newsletter", True, "join"),
    ]
    assert history["items"][1]["privacy_policy_version"] == 1
    assert len(history["items"][1]["ip_hash"]) in (0, 64)
    missing = client.get("/api/v1/subscribers/999999/consents", headers=headers)
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]

    ledger = client.get("/api/v1/consents?email=LIANG@innovation.example", headers=headers).json()
    assert ledger["count"] == 2
    grants = client.get("/api/v1/consents?granted=true", headers=headers).json()
    assert grants["count"] == 2 and {r["email"] for r in grants["items"]} == {
        "marta@research.example",
        "liang@innovation.example",
    }


def test_the_staff_endpoints_need_a_staff_token(client, cast, subscribers):
    for where in (
        "/api/v1/subscribers",
        f"/api/v1/subscribers/{subscribers.pk}/consents",
        "/api/v1/consents",
    ):
        assert client.get(where).status_code == 401
        assert client.get(where, headers=bearer(cast.consul)).status_code == 403


def test_the_preference_link_is_not_an_api_token(client, cast, subscribers):
    token = links.token_for("marta@research.example")
    response = client.get("/api/v1/subscribers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
