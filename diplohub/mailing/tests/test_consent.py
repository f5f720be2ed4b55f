"""The consent ledger, told as stories: what Marta's confirmation writes, row by row;
Sofia publishes a new privacy policy and later consents name it; Kenji, a member of
the directory, grants and withdraws from his own page into the same ledger; two
sign-ups of one address at the same moment make one subscriber."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import threading

import pytest
from django.db import connection
from django.utils import timezone

from diplohub.directory.models import Person
from diplohub.mailing import services
from diplohub.mailing.models import (
    Consent,
    OutboundEmail,
    PolicyDocument,
    Purpose,
    Subscriber,
    SubscriberStatus,
)
from diplohub.mailing.tests import signup_stories
from diplohub.mailing.tests.signup_stories import join

pytestmark = pytest.mark.django_db
policies = signup_stories.policies


def salted(ip: str, settings) -> str:  # type: ignore[no-untyped-def]
    return hmac.new(settings.HASH_SALT.encode(), f"ip:{ip}".encode(), hashlib.sha256).hexdigest()


def test_a_confirmed_sign_up_writes_one_row_per_purpose_chosen(client, policies, settings):
    privacy, terms = policies
    client.post("/en/join/", join(wants_events="on", form="compact"), REMOTE_ADDR="192.0.2.7")
    marta = Subscriber.objects.get()
    requested = marta.confirmation_sent_at
    from diplohub.mailing import links

    client.post(
        "/en/" + links.confirm_url(marta.email).split("/en/", 1)[1], REMOTE_ADDR="198.51.100.4"
    )
    marta.refresh_from_db()
    rows = list(Consent.objects.order_by("purpose"))
    assert [(r.purpose, r.granted) for r in rows] == [("events", True), ("newsletter", True)]
    for row in rows:
        assert row.email == "marta.recerca@research.example"  # the ledger's key: lower case
        assert row.subscriber == marta and row.person is None
        assert (row.privacy_policy, row.terms) == (privacy, terms)
        assert row.source == "join-compact"  # the form she used
        assert row.requested_at == requested
        assert row.request_ip_hash == salted("192.0.2.7", settings)
        assert row.at == marta.confirmed_at
        assert row.ip_hash == salted("198.51.100.4", settings)
        assert row.by is None
    assert marta.request_ip_hash == salted("192.0.2.7", settings)
    assert marta.confirmation_ip_hash == salted("198.51.100.4", settings)


def test_no_raw_ip_address_is_ever_stored(client, policies):
    client.post("/en/join/", join(), REMOTE_ADDR="192.0.2.77")
    services.subscriber_confirm(email="marta.recerca@research.example", ip="192.0.2.77")
    for model in (Subscriber, Consent):
        for values in model.objects.values():
            assert "192.0.2.77" not in str(values)


def test_without_the_events_box_only_the_newsletter_is_granted(policies):
    services.subscriber_sign_up(email="marta@research.example", language="en", source="join")
    services.subscriber_confirm(email="marta@research.example")
    assert list(Consent.objects.values_list("purpose", "granted")) == [("newsletter", True)]


def test_the_hash_salt_comes_from_the_environment_or_the_secret_key(settings):
    settings.HASH_SALT = "one"
    first = services.ip_hash("192.0.2.1")
    settings.HASH_SALT = "two"
    assert services.ip_hash("192.0.2.1") != first
    assert len(first) == 64 and services.ip_hash("") == ""


def test_a_directory_person_signing_up_is_linked_to_their_entry(policies, cast):
    services.subscriber_sign_up(email="Kenji@Mission.example", language="en", source="join")
    services.subscriber_confirm(email="kenji@mission.example")
    kenji = Person.objects.get(given_name="Kenji")
    assert Subscriber.objects.get().person == kenji
    assert Consent.objects.get().person == kenji


# --- Policies -----------------------------------------------------------------------------


def test_consents_name_the_version_in_force_when_they_are_given(policies):
    privacy, _terms = policies
    services.subscriber_sign_up(email="early@research.example", language="en", source="join")
    services.subscriber_confirm(email="early@research.example")
    draft = services.policy_document_new_version(kind="privacy")
    assert (draft.version, draft.body_en, draft.published_at) == (2, privacy.body_en, None)
    assert PolicyDocument.objects.current("privacy") == privacy  # a draft is not in force
    draft.body_en = "We keep even less."
    draft.save()
    services.policy_document_publish(document=draft)
    assert PolicyDocument.objects.current("privacy") == draft
    services.subscriber_sign_up(email="later@research.example", language="en", source="join")
    services.subscriber_confirm(email="later@research.example")
    versions = dict(Consent.objects.values_list("email", "privacy_policy__version"))
    assert versions == {"early@research.example": 1, "later@research.example": 2}
    privacy.refresh_from_db()
    assert privacy.body_en == "We keep **little**."  # the text people agreed to is kept


def test_a_published_version_is_never_published_again_nor_overtaken(policies):
    privacy, _terms = policies
    with pytest.raises(services.PolicyError, match="already published"):
        services.policy_document_publish(document=privacy)
    old = PolicyDocument.objects.create(kind="privacy", version=0, title="Old", body="Old.")
    with pytest.raises(services.PolicyError, match="higher version"):
        services.policy_document_publish(document=old)


def test_staff_can_edit_a_draft_but_not_a_published_version(client, policies, cast):
    privacy, _terms = policies
    draft = services.policy_document_new_version(kind="privacy")
    client.force_login(cast.staff)
    assert client.get(f"/en/admin/mailing/policydocument/{draft.pk}/change/").status_code == 200
    published = client.get(f"/en/admin/mailing/policydocument/{privacy.pk}/change/")
    assert published.status_code == 200
    assert 'name="_save"' not in published.content.decode()  # view only
    refused = client.post(
        f"/en/admin/mailing/policydocument/{privacy.pk}/change/",
        {"kind": "privacy", "version": 1, "title_en": "Changed", "body_en": "Changed."},
    )
    assert refused.status_code == 403
    privacy.refresh_from_db()
    assert privacy.title_en == "Privacy policy"
    response = client.post(
        "/en/admin/mailing/policydocument/",
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert "Privacy policy v2 is in force." in response.content.decode()
    assert PolicyDocument.objects.current("privacy") == draft


def test_the_policy_pages_show_the_version_in_force_and_every_past_one(client, policies, cast):
    page = client.get("/en/policies/privacy/").content.decode()
    assert "<h1>Privacy policy</h1>" in page and "<strong>little</strong>" in page
    assert "Version 1, in force from" in page
    assert "Política de privacitat" in client.get("/ca/policies/privacy/").content.decode()
    draft = services.policy_document_new_version(kind="privacy")
    draft.body_en = "New text <script>alert(1)</script>."
    draft.save()
    assert client.get("/en/policies/privacy/v2/").status_code == 404  # drafts: staff only
    services.policy_document_publish(document=draft)
    current = client.get("/en/policies/privacy/").content.decode()
    assert "Version 2" in current and "<script>" not in current
    old = client.get("/en/policies/privacy/v1/").content.decode()
    assert "This version has been replaced" in old and 'href="/en/policies/privacy/v2/"' in old
    assert client.get("/en/policies/privacy/v9/").status_code == 404
    assert client.get("/en/policies/cookies/").status_code == 404
    third = services.policy_document_new_version(kind="privacy")
    client.force_login(cast.staff)
    preview = client.get(f"/en/policies/privacy/v{third.version}/").content.decode()
    assert "Draft: only the hub team sees this version" in preview


# --- Who the newsletter reaches -----------------------------------------------------------


def test_only_confirmed_subscribers_with_a_standing_grant_are_reachable(policies):
    for name in ("active", "pending", "left", "withdrawn"):
        services.subscriber_sign_up(email=f"{name}@research.example", language="en", source="join")
    for name in ("active", "left", "withdrawn"):
        services.subscriber_confirm(email=f"{name}@research.example")
    services.subscriber_unsubscribe(email="left@research.example", source="one-click")
    # A withdrawal in the ledger suppresses the address even if the row says otherwise.
    withdrawn = Subscriber.objects.get(email="withdrawn@research.example")
    Consent.objects.create(
        email=withdrawn.email,
        subscriber=withdrawn,
        purpose=Purpose.NEWSLETTER,
        granted=False,
        source="staff",
    )
    reachable = Subscriber.objects.reachable()
    assert list(reachable.values_list("email", flat=True)) == ["active@research.example"]


# --- One ledger: a member's own consents ----------------------------------------------------


def test_kenji_grants_and_withdraws_from_his_own_page(client, policies, cast):
    client.force_login(cast.consul)
    page = client.get("/en/mail/my-consents/").content.decode()
    assert "kenji@mission.example" in page and "Nothing recorded yet." in page
    for name in ("newsletter", "events", "attendee_lists", "consent"):
        assert "checked" not in page.split(f'name="{name}"', 1)[1].split(">", 1)[0]

    refused = client.post("/en/mail/my-consents/", {"newsletter": "on", "attendee_lists": "on"})
    assert refused.status_code == 400
    assert "tick this box" in refused.content.decode()
    assert Consent.objects.count() == 0

    client.post(
        "/en/mail/my-consents/",
        {"newsletter": "on", "attendee_lists": "on", "consent": "on"},
        REMOTE_ADDR="192.0.2.8",
    )
    kenji = Person.objects.get(given_name="Kenji")
    rows = list(Consent.objects.order_by("purpose"))
    assert [(r.purpose, r.granted, r.source) for r in rows] == [
        ("attendee_lists", True, "my-consents"),
        ("newsletter", True, "my-consents"),
    ]
    assert all(r.person == kenji and r.email == "kenji@mission.example" for r in rows)
    assert all(r.privacy_policy and r.terms for r in rows)
    subscriber = Subscriber.objects.get()
    assert (subscriber.person, subscriber.status) == (kenji, SubscriberStatus.ACTIVE)
    assert list(Subscriber.objects.reachable()) == [subscriber]

    # Withdrawing needs no box; an unchanged purpose writes nothing.
    response = client.post("/en/mail/my-consents/", {"newsletter": "on"}, follow=True)
    assert "Your choices are saved." in response.content.decode()
    latest = Consent.objects.order_by("-pk").first()
    assert (latest.purpose, latest.granted) == ("attendee_lists", False)
    assert Consent.objects.count() == 3
    nothing = client.post("/en/mail/my-consents/", {"newsletter": "on"}, follow=True)
    assert "Nothing has changed." in nothing.content.decode()
    assert Consent.objects.count() == 3
    history = client.get("/en/mail/my-consents/").content.decode()
    assert history.count("<tr>") == 4  # the header and three rows
    assert 'href="/en/policies/privacy/v1/"' in history


def test_the_consents_page_is_for_signed_in_people(client, policies, cast):
    response = client.get("/en/mail/my-consents/")
    assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
    client.force_login(cast.outsider)  # no directory entry: their account's address
    assert "otto@example.test" in client.get("/en/mail/my-consents/").content.decode()
    assert client.put("/en/mail/my-consents/").status_code == 405


# --- Two at once -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_of_one_address_at_the_same_moment_make_one_subscriber():
    yesterday = timezone.now() - datetime.timedelta(days=1)
    for kind in ("privacy", "terms"):
        PolicyDocument.objects.create(
            kind=kind, version=1, title=kind, body="Text.", published_at=yesterday
        )
    start = threading.Barrier(4)
    outcomes: list[services.SignUpOutcome] = []
    errors: list[BaseException] = []

    def sign_up(address: str) -> None:
        try:
            start.wait()
            outcomes.append(
                services.subscriber_sign_up(email=address, language="en", source="join")
            )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    addresses = ["marta@research.example", "Marta@research.example"] * 2
    threads = [threading.Thread(target=sign_up, args=(a,)) for a in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Subscriber.objects.count() == 1
    assert sorted(o.value for o in outcomes) == ["confirm_again"] * 3 + ["new"]
    assert OutboundEmail.objects.filter(kind="mailing.confirm_subscription").count() == 4


def test_the_back_office_shows_the_ledger_read_only(client, policies, cast):
    services.subscriber_sign_up(email="marta@research.example", language="en", source="join")
    services.subscriber_confirm(email="marta@research.example")
    marta = Subscriber.objects.get()
    client.force_login(cast.staff)
    for url in (
        "/en/admin/mailing/policydocument/",
        "/en/admin/mailing/policydocument/add/",
        "/en/admin/mailing/subscriber/",
        f"/en/admin/mailing/subscriber/{marta.pk}/change/",
        "/en/admin/mailing/consent/",
        f"/en/admin/mailing/consent/{Consent.objects.get().pk}/change/",
        "/en/admin/mailing/erasure/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/en/admin/mailing/consent/add/").status_code == 403
    assert client.get("/en/admin/mailing/subscriber/add/").status_code == 403
    response = client.post(
        "/en/admin/mailing/subscriber/",
        {"action": "unsubscribe", "_selected_action": [marta.pk]},
        follow=True,
    )
    assert "1 subscriber unsubscribed." in response.content.decode()
    latest = Consent.objects.order_by("-pk").first()
    assert (latest.granted, latest.source, latest.by) == (False, "staff", cast.staff)


def test_the_demo_publishes_both_documents_in_every_language_and_sends_nothing(cast):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("demo_mailing", "--if-empty", stdout=out)
    assert "Demo mailing data loaded" in out.getvalue()
    for kind in ("privacy", "terms"):
        document = PolicyDocument.objects.current(kind)
        assert document is not None and document.version == 1
        assert document.body_en != document.body_es != document.body_ca
        assert "demonstration text" in document.body_en
    assert Subscriber.objects.reachable().count() == 4  # three sign-ups and one member
    assert Consent.objects.filter(person__isnull=False).exists()
    assert not OutboundEmail.objects.exists()
    call_command("demo_mailing", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue()
    with pytest.raises(CommandError, match="demo --reset"):
        call_command("demo_mailing", stdout=io.StringIO())
