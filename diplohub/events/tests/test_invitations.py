"""Invitations, told as stories: Sofia (staff) chooses an audience, previews it and
invites; Kenji answers from the link in his e-mail without a password; Ana declines;
a forged link, a closed event and a button pressed twice are answered clearly."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from diplohub.directory.models import Person, Post, PostRole
from diplohub.directory.services import post_assign
from diplohub.events import selectors, services
from diplohub.events.models import EventStatus, Invitation, InvitationStatus, Registration
from diplohub.events.tests.stories import build_programme, make_event
from diplohub.lib.testing import mail_to_smtp

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mailbox(smtp_server):
    with mail_to_smtp(smtp_server):
        yield smtp_server


@pytest.fixture
def programme(cast):
    return build_programme(cast)


@pytest.fixture
def encounter(cast):
    return make_event(
        "rectors-encounter",
        kind="encounter",
        title_en="Encounter with the rectors",
        visibility="invitation",
        capacity=20,
    )


def link_in(message) -> str:  # type: ignore[no-untyped-def]
    text = message.get_body(("plain",)).get_content()
    found = re.search(r"https?://\S+/programme/invitations/(\S+?)/", text)
    assert found, text
    return f"/en/programme/invitations/{found.group(1)}/"


def names(invitees) -> list[str]:  # type: ignore[no-untyped-def]
    return [invitee.person.name for invitee in invitees]


# The audience --------------------------------------------------------------------


def test_the_audience_is_every_criterion_at_once(cast, encounter):
    heads = selectors.audience(
        event=encounter, kinds=["consulate_general"], roles=[PostRole.HEAD_OF_MISSION]
    )
    assert names(heads) == ["Kenji Sato-Example"]
    americas = selectors.audience(event=encounter, regions=["americas"])
    assert names(americas) == ["Ana Attaché-Example"]
    japan_in_the_americas = selectors.audience(
        event=encounter, regions=["americas"], countries=["JP"]
    )
    assert japan_in_the_americas == []


def test_named_organisations_and_people_are_added(cast, encounter):
    hugo = Person.objects.create(given_name="Hugo", family_name="Host-Example", user=cast.host)
    found = selectors.audience(event=encounter, organizations=[cast.mexico], people=[hugo])
    assert sorted(names(found)) == ["Ana Attaché-Example", "Hugo Host-Example"]
    (hugo_entry,) = [i for i in found if i.person == hugo]
    assert hugo_entry.post is None and hugo_entry.has_address  # his account's address


def test_no_criteria_reach_nobody(cast, encounter):
    assert selectors.audience(event=encounter) == []


def test_sofia_previews_the_audience_then_invites(client, cast, encounter, mailbox):
    client.force_login(cast.staff)
    page = client.get(
        f"/en/programme/{encounter.slug}/invitations/",
        {"kinds": "consulate_general", "roles": "head_of_mission"},
    )
    assert page.status_code == 200
    assert "1 person matches." in page.content.decode()
    assert names(page.context["preview"]) == ["Kenji Sato-Example"]
    assert Invitation.objects.count() == 0  # a preview sends nothing

    kenji = cast.consul.person
    answer = client.post(
        f"/en/programme/{encounter.slug}/invitations/send/", {"person": [kenji.pk]}, follow=True
    )
    assert "1 invitation sent." in answer.content.decode()
    invitation = Invitation.objects.get(event=encounter, person=kenji)
    assert invitation.organization == cast.japan
    assert invitation.invited_by == cast.staff
    (message,) = mailbox.messages
    assert message["To"] == "kenji@mission.example"
    assert message["Subject"] == "Invitation: Encounter with the rectors"
    assert link_in(message) == f"/en/programme/invitations/{invitation.token}/"

    again = client.get(f"/en/programme/{encounter.slug}/invitations/", {"people": [kenji.pk]})
    assert "already invited" in again.content.decode()


def test_the_preview_is_a_fragment_for_htmx(client, cast, encounter):
    client.force_login(cast.staff)
    fragment = client.get(
        f"/en/programme/{encounter.slug}/invitations/",
        {"regions": "americas"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="preview",
    )
    html = fragment.content.decode()
    assert html.lstrip().startswith('<section id="preview"')
    assert "Ana Attaché-Example" in html


def test_people_already_invited_or_without_address_are_reported(cast, encounter, mailbox):
    nameless = Person.objects.create(given_name="Nadia", family_name="No-Mail-Example")
    first = services.invitations_send(event=encounter, people=[cast.consul.person], by=cast.staff)
    second = services.invitations_send(
        event=encounter, people=[cast.consul.person, nameless], by=cast.staff
    )
    assert len(first.invited) == 1
    assert second.invited == []
    assert second.already_invited == [cast.consul.person]
    assert second.without_address == [nameless]
    assert len(mailbox.messages) == 1


def test_only_staff_invite(client, cast, encounter):
    url = f"/en/programme/{encounter.slug}/invitations/"
    assert client.get(url).status_code == 302  # to sign in
    for user in (cast.consul, cast.host, cast.outsider):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url + "send/", {"person": [cast.consul.person.pk]}).status_code == 403
    assert Invitation.objects.count() == 0
    with pytest.raises(services.RegistrationError) as refusal:
        services.invitations_send(event=encounter, people=[cast.consul.person], by=cast.consul)
    assert refusal.value.code == "not_allowed"


def test_sending_needs_a_post_and_someone_ticked(client, cast, encounter):
    client.force_login(cast.staff)
    url = f"/en/programme/{encounter.slug}/invitations/send/"
    assert client.get(url).status_code == 405
    answer = client.post(url, {}, follow=True)
    assert "Tick at least one person to invite." in answer.content.decode()
    forged = client.post(url, {"person": ["999999"]}, follow=True)
    assert "Select a valid choice" in forged.content.decode()
    assert Invitation.objects.count() == 0


def test_a_draft_or_past_event_cannot_be_inviting(cast):
    draft = make_event("draft-encounter", status=EventStatus.DRAFT)
    past = make_event("past-encounter", days=-3)
    for event, code in ((draft, "closed"), (past, "past")):
        with pytest.raises(services.RegistrationError) as refusal:
            services.invitations_send(event=event, people=[cast.consul.person], by=cast.staff)
        assert refusal.value.code == code


# Answering by link ---------------------------------------------------------------


def test_kenji_accepts_from_the_link_without_a_password(client, cast, encounter, mailbox):
    services.invitations_send(event=encounter, people=[cast.consul.person], by=cast.staff)
    link = link_in(mailbox.messages[0])
    page = client.get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Dear Kenji Sato-Example, you are invited to this event." in html
    assert "The invitation is for Consulate General of Japan." in html
    answer = client.post(link, {"action": "accept"}, follow=True)
    registration = Registration.objects.get(event=encounter, person=cast.consul.person)
    assert answer.redirect_chain[-1][0] == f"/en/programme/r/{registration.token}/"
    html = answer.content.decode()
    assert "You are registered. We look forward to seeing you." in html
    assert f"/en/programme/r/{registration.token}/calendar.ics" in html
    assert Invitation.objects.get().status == InvitationStatus.REGISTERED
    confirmation = mailbox.messages[-1]
    assert confirmation["Subject"] == "Your seat is confirmed: Encounter with the rectors"
    calendar = client.get(f"/en/programme/r/{registration.token}/calendar.ics")
    assert calendar["Content-Type"].startswith("text/calendar")
    assert b"SUMMARY:Encounter with the rectors" in calendar.content

    # Pressing accept again changes nothing.
    client.post(link, {"action": "accept"})
    assert Registration.objects.filter(event=encounter).count() == 1


def test_ana_declines_and_the_team_sees_it(client, cast, encounter, mailbox):
    services.invitations_send(event=encounter, people=[cast.attache.person], by=cast.staff)
    link = link_in(mailbox.messages[0])
    answer = client.post(link, {"action": "decline"}, follow=True)
    assert "Thank you for letting us know." in answer.content.decode()
    invitation = Invitation.objects.get()
    assert invitation.status == InvitationStatus.DECLINED and invitation.answered_at
    counts = selectors.invitation_counts(encounter)
    assert (counts.invited, counts.declined, counts.no_answer) == (1, 1, 0)
    # She changes her mind while registration is open.
    client.post(link, {"action": "accept"})
    assert Registration.objects.filter(event=encounter, person=cast.attache.person).exists()


def test_a_registered_person_cannot_decline_without_cancelling(client, cast, encounter, mailbox):
    services.invitations_send(event=encounter, people=[cast.consul.person], by=cast.staff)
    link = link_in(mailbox.messages[0])
    client.post(link, {"action": "accept"})
    answer = client.post(link, {"action": "decline"}, follow=True)
    assert "cancel your registration instead" in answer.content.decode()
    assert Invitation.objects.get().status == InvitationStatus.REGISTERED


def test_kenji_sends_a_colleague_in_his_place(client, cast, encounter, mailbox):
    yuki = Person.objects.create(
        given_name="Yuki", family_name="Tanaka-Example", email="yuki@mission.example"
    )
    post = Post.objects.create(organization=cast.japan, label="Consul", role=PostRole.DEPUTY)
    post_assign(post=post, person=yuki)
    services.invitations_send(event=encounter, people=[cast.consul.person], by=cast.staff)
    link = link_in(mailbox.messages[0])
    assert "Yuki Tanaka-Example" in client.get(link).content.decode()
    answer = client.post(link, {"action": "colleague", "colleague": yuki.pk}, follow=True)
    assert "Yuki Tanaka-Example is registered in your place" in answer.content.decode()
    registration = Registration.objects.get(event=encounter, person=yuki)
    assert registration.organization == cast.japan
    assert mailbox.messages[-1]["To"] == "yuki@mission.example"


def test_a_colleague_must_be_one_of_those_listed(client, cast, encounter, mailbox):
    services.invitations_send(event=encounter, people=[cast.consul.person], by=cast.staff)
    link = link_in(mailbox.messages[0])
    answer = client.post(link, {"action": "colleague", "colleague": cast.attache.person.pk})
    assert answer.status_code == 400
    assert "Choose one of the colleagues listed." in answer.content.decode()
    assert not Registration.objects.filter(event=encounter).exists()


def test_a_forged_link_is_refused_clearly(client, cast, encounter):
    for link in ("/en/programme/invitations/not-a-real-token/", "/en/programme/r/forged/"):
        page = client.get(link)
        assert page.status_code == 404
        assert "This link does not work" in page.content.decode()
        assert client.post(link, {"action": "accept"}).status_code == 404
    assert not Registration.objects.exists()


def test_an_unknown_answer_is_refused_clearly(client, cast, encounter, mailbox):
    services.invitations_send(event=encounter, people=[cast.consul.person], by=cast.staff)
    answer = client.post(link_in(mailbox.messages[0]), {"action": "maybe"})
    assert answer.status_code == 400
    assert "Please choose one of the answers below." in answer.content.decode()


def test_a_link_to_an_event_now_closed_says_so(client, cast, encounter, mailbox):
    services.invitations_send(event=encounter, people=[cast.consul.person], by=cast.staff)
    link = link_in(mailbox.messages[0])
    encounter.registration_closes = timezone.now() - datetime.timedelta(minutes=1)
    encounter.save()
    page = client.get(link)
    assert "Registration for this event is closed." in page.content.decode()
    answer = client.post(link, {"action": "accept"}, follow=True)
    assert "Registration for this event has closed." in answer.content.decode()
    assert not Registration.objects.exists()


def test_an_outsider_without_an_invitation_cannot_register(cast, encounter):
    outsider = Person.objects.create(given_name="Otto", family_name="Outsider-Example")
    with pytest.raises(services.RegistrationError) as refusal:
        services.registration_create(event=encounter, person=outsider)
    assert refusal.value.code == "not_invited"


# Reminders -----------------------------------------------------------------------


def test_a_reminder_goes_once_to_those_who_have_not_answered(client, cast, encounter, mailbox):
    services.invitations_send(
        event=encounter, people=[cast.consul.person, cast.attache.person], by=cast.staff
    )
    client.post(link_in(mailbox.messages[1]), {"action": "decline"})  # Ana answers
    mailbox.clear()
    client.force_login(cast.staff)
    url = f"/en/programme/{encounter.slug}/invitations/remind/"
    first = client.post(url, follow=True)
    assert "1 reminder sent." in first.content.decode()
    second = client.post(url, follow=True)  # pressed twice
    html = second.content.decode()
    assert "0 reminders sent." in html
    assert "1 person was reminded less than 12 hours ago" in html
    (reminder,) = mailbox.messages
    assert reminder["To"] == "kenji@mission.example"
    assert reminder["Subject"] == "Reminder: you are invited to Encounter with the rectors"
    assert client.get(url).status_code == 405


def test_staff_follow_invitations_over_the_api(client, cast, encounter, mailbox):
    from diplohub.accounts.services import api_token_create

    _token, raw = api_token_create(user=cast.staff, name="script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    url = f"/api/v1/events/{encounter.slug}/invitations"
    kenji, ana = cast.consul.person, cast.attache.person
    sent = client.post(
        url, {"person_ids": [kenji.pk, ana.pk]}, content_type="application/json", **auth
    )
    assert sent.status_code == 200, sent.content
    assert sorted(i["person"]["id"] for i in sent.json()["invited"]) == [kenji.pk, ana.pk]
    again = client.post(url, {"person_ids": [kenji.pk]}, content_type="application/json", **auth)
    assert again.json()["already_invited"] == [kenji.pk]
    unknown = client.post(url, {"person_ids": [424242]}, content_type="application/json", **auth)
    assert unknown.status_code == 422
    assert "424242" in unknown.content.decode()
    listed = client.get(url, **auth).json()
    assert {item["status"] for item in listed["items"]} == {"invited"}
    reminded = client.post(url + "/remind", **auth)
    assert reminded.json() == {"reminded": 2, "reminded_lately": 0}
    _member_token, member_raw = api_token_create(user=cast.consul, name="mine")
    denied = client.get(url, HTTP_AUTHORIZATION=f"Bearer {member_raw}")
    assert denied.status_code == 403


def test_someone_who_withdrew_event_mail_is_not_invited(cast, encounter, mailbox):
    from diplohub.mailing.models import Consent, Purpose

    Consent.objects.create(
        email="ana@mission.example",
        person=cast.attache.person,
        purpose=Purpose.EVENTS,
        granted=False,
        source="test",
    )
    sent = services.invitations_send(
        event=encounter, people=[cast.consul.person, cast.attache.person], by=cast.staff
    )
    assert [i.person for i in sent.invited] == [cast.consul.person]
    assert sent.no_event_mail == [cast.attache.person]
    assert [m["To"] for m in mailbox.messages] == ["kenji@mission.example"]
