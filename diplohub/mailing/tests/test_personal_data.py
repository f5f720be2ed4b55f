"""Personal data, told as a story: Kenji asks what the hub holds about him; Sofia
(staff) looks his address up, downloads it all as JSON, and, when he asks, erases it
after confirming; the programme's figures still add up and the erasure is recorded.
The city's IT does the same from the command line."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from diplohub.accounts.models import ApiToken, User
from diplohub.directory.models import Person
from diplohub.events.models import CalendarFeed, Feedback, Invitation, Registration
from diplohub.events.services import registration_create
from diplohub.events.tests.stories import make_event
from diplohub.mailing import services
from diplohub.mailing.models import Consent, EmailStatus, Erasure, OutboundEmail, Subscriber
from diplohub.mailing.tests import signup_stories

pytestmark = pytest.mark.django_db
policies = signup_stories.policies

KENJI = "kenji@mission.example"


@pytest.fixture
def kenji_everywhere(cast, policies):  # type: ignore[no-untyped-def]
    """Kenji subscribed, consented on his page, registered for two events (one past,
    with feedback), invited, with a calendar feed, an API token and mail sent."""
    kenji = Person.objects.get(given_name="Kenji")
    services.subscriber_sign_up(
        email=KENJI, first_name="Kenji", language="en", source="join", ip="192.0.2.1"
    )
    services.subscriber_confirm(email=KENJI, ip="192.0.2.2")
    services.consents_update(
        email=KENJI,
        wanted={"attendee_lists": True},
        consent=True,
        source="my-consents",
        person=kenji,
    )
    visit = make_event("visit")
    past = make_event("past-visit", days=-10)
    registration_create(event=visit, person=kenji)
    attended = Registration.objects.create(
        event=past, person=kenji, organization=cast.japan, status="attended", id_check_note="ID 42"
    )
    Feedback.objects.create(registration=attended, rating=5, comments="Kenji loved it.")
    Invitation.objects.create(event=visit, person=kenji, organization=cast.japan)
    CalendarFeed.objects.create(person=kenji)
    ApiToken.objects.create(user=cast.consul, name="script", key_hash="x" * 64)
    services.email_enqueue(
        kind="mailing.message", to=KENJI, language="en", params={"subject": "Hi", "text": "."}
    )
    return kenji


def post(client, **data):  # type: ignore[no-untyped-def]
    return client.post("/en/mail/personal-data/", data)


def test_the_page_is_for_staff_only(client, cast):
    assert client.get("/en/mail/personal-data/").status_code == 302
    client.force_login(cast.consul)
    assert client.get("/en/mail/personal-data/").status_code == 403
    assert post(client, email=KENJI, action="export").status_code == 403
    client.force_login(cast.staff)
    page = client.get("/en/mail/personal-data/").content.decode()
    assert 'method="post"' in page and "Look it up" in page


def test_sofia_looks_kenji_up_and_downloads_everything(client, cast, kenji_everywhere):
    client.force_login(cast.staff)
    page = post(client, email="Kenji@Mission.example", action="lookup").content.decode()
    assert "What the hub holds about kenji@mission.example" in page
    assert "Download everything (JSON)" in page and "Erase this person" in page
    # The address travels in POST bodies only.
    assert "?email=" not in page

    response = post(client, email=KENJI, action="export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="personal-data-')
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["email"] == KENJI
    (subscription,) = data["subscriptions"]
    assert (subscription["email"], subscription["status"]) == (KENJI, "active")
    assert [(c["purpose"], c["granted"]) for c in data["consents"]] == [
        ("newsletter", True),
        ("attendee_lists", True),
    ]
    assert data["consents"][0]["privacy_policy"] == "privacy v1"
    (entry,) = data["directory"]
    assert entry["phone"] == "+34 600 000 000"
    assert entry["posts"][0]["post"] == "Consul General of Japan in Barcelona"
    assert data["accounts"][0]["username"] == "kenji"
    assert {r["event"] for r in data["registrations"]} == {"Visit", "Past visit"}
    assert data["invitations"][0]["event"] == "Visit"
    assert data["feedback"] == [
        {
            "event": "Past visit",
            "rating": 5,
            "comments": "Kenji loved it.",
            "given_at": data["feedback"][0]["given_at"],
        }
    ]
    assert data["calendar_feeds"] == 1
    assert {m["kind"] for m in data["messages"]} >= {
        "mailing.confirm_subscription",
        "mailing.message",
    }


def test_erasing_asks_for_the_address_again_and_the_box(client, cast, kenji_everywhere):
    client.force_login(cast.staff)
    wrong = post(client, email=KENJI, confirm="ana@mission.example", action="erase")
    assert wrong.status_code == 400
    page = wrong.content.decode()
    assert "This is not the same address." in page and "Tick this box to erase the data." in page
    assert Subscriber.objects.exists() and not Erasure.objects.exists()


def test_erasure_keeps_the_figures_and_records_itself(client, cast, kenji_everywhere, settings):
    kenji = kenji_everywhere
    before = {
        "registrations": Registration.objects.count(),
        "invitations": Invitation.objects.count(),
        "feedback": Feedback.objects.count(),
        "consents": Consent.objects.count(),
        "outbox": OutboundEmail.objects.count(),
    }
    client.force_login(cast.staff)
    response = post(
        client, email=KENJI, confirm="KENJI@mission.example", understood="on", action="erase"
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Erased. The erasure is recorded" in page

    # The figures survive…
    assert before == {
        "registrations": Registration.objects.count(),
        "invitations": Invitation.objects.count(),
        "feedback": Feedback.objects.count(),
        "consents": Consent.objects.count(),
        "outbox": OutboundEmail.objects.count(),
    }
    assert Feedback.objects.get().rating == 5
    assert Registration.objects.filter(status="attended").count() == 1
    # …the person does not.
    kenji.refresh_from_db()
    assert (kenji.name, kenji.email, kenji.phone, kenji.languages) == ("[erased]", "", "", [])
    assert not Person.history.filter(id=kenji.pk).exists()
    assert Feedback.objects.get().comments == ""
    assert not Registration.objects.exclude(id_check_note="").exists()
    assert not Registration.history.exclude(id_check_note="").exists()
    assert not Subscriber.objects.exists()
    assert not CalendarFeed.objects.exists()
    marker = f"{services.email_hash(KENJI)}@erased.invalid"
    assert set(Consent.objects.values_list("email", flat=True)) == {marker}
    assert set(Consent.objects.values_list("ip_hash", "request_ip_hash")) == {("", "")}
    assert set(OutboundEmail.objects.values_list("to", flat=True)) == {""}
    assert not OutboundEmail.objects.filter(status=EmailStatus.QUEUED).exists()
    account = User.objects.get(pk=cast.consul.pk)
    assert (account.username, account.email, account.is_active) == (
        f"erased-{account.pk}",
        "",
        False,
    )
    assert not account.has_usable_password()
    assert not ApiToken.objects.filter(user=account).exists()
    # Nothing is left to find, and the erasure is on record, without the address.
    assert not any(services.personal_data_summary(email=KENJI).values())
    erasure = Erasure.objects.get()
    assert erasure.email_hash == services.email_hash(KENJI)
    assert erasure.by == cast.staff
    assert erasure.summary["subscribers"] == 1 and erasure.summary["registrations"] == 2
    assert KENJI not in json.dumps(erasure.summary)
    data = services.personal_data_export(email=KENJI)
    assert data["earlier_erasures"] == [erasure.at.isoformat()]
    assert data["subscriptions"] == [] and data["directory"] == []


def test_a_staff_account_is_not_erased(client, cast, policies):
    client.force_login(cast.staff)
    response = post(
        client,
        email="sofia@example.test",
        confirm="sofia@example.test",
        understood="on",
        action="erase",
    )
    assert response.status_code == 400
    assert "belongs to a staff account" in response.content.decode()
    assert User.objects.get(pk=cast.staff.pk).is_active


def test_an_unknown_address_has_nothing_to_erase(client, cast, policies):
    client.force_login(cast.staff)
    page = post(client, email="nobody@research.example", action="lookup").content.decode()
    assert "The hub holds nothing about this address." in page
    assert services.personal_data_erase(email="nobody@research.example") is None
    assert not Erasure.objects.exists()


def test_a_bad_address_is_refused_clearly(client, cast):
    client.force_login(cast.staff)
    response = post(client, email="not an address", action="lookup")
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()


def test_the_city_it_exports_and_erases_from_the_command_line(kenji_everywhere, tmp_path):
    out = io.StringIO()
    call_command("personal_data", "export", KENJI, stdout=out)
    assert json.loads(out.getvalue())["email"] == KENJI
    target = tmp_path / "kenji.json"
    call_command("personal_data", "export", KENJI, "-o", str(target), stdout=io.StringIO())
    assert json.loads(target.read_text())["subscriptions"]

    with pytest.raises(CommandError, match="--yes"):
        call_command("personal_data", "erase", KENJI, stdout=io.StringIO())
    out = io.StringIO()
    call_command("personal_data", "erase", KENJI, "--yes", "--by", "sofia", stdout=out)
    assert "Erased; recorded as erasure" in out.getvalue()
    assert Erasure.objects.get().by.username == "sofia"
    out = io.StringIO()
    call_command("personal_data", "erase", KENJI, "--yes", stdout=out)
    assert "The hub holds nothing about this address." in out.getvalue()
    with pytest.raises(CommandError, match="not an e-mail address"):
        call_command("personal_data", "export", "kenji", stdout=io.StringIO())
