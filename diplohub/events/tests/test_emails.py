"""The programme's e-mails, as the personas receive them from a real SMTP server.

Kenji (Consul General of Japan) registers and gets his confirmation with a QR code
and a calendar file; Ana waits for a seat and gets it when Kenji cancels; staff move
the event and everyone registered hears of it; a colleague takes Kenji's seat.
"""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.utils import timezone

from diplohub.directory.models import Person, Post, PostRole
from diplohub.directory.services import post_assign
from diplohub.events import services
from diplohub.events.models import EventStatus, Registration, RegistrationStatus
from diplohub.events.tests.stories import build_programme, make_event
from diplohub.lib.testing import mail_to_smtp
from diplohub.mailing import services as mailing
from diplohub.mailing.models import EmailStatus, OutboundEmail

# Real commits, so that each workflow's messages go out as its transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mailbox(smtp_server):
    """Mail goes to the test's SMTP server as soon as each transaction commits."""
    with mail_to_smtp(smtp_server):
        yield smtp_server


@pytest.fixture
def slow_worker(settings):
    """Send tasks are queued but no worker runs them until the test sweeps the outbox."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def programme(cast):
    return build_programme(cast)


def to(smtp_server, address: str):  # type: ignore[no-untyped-def]
    return [m for m in smtp_server.messages if m["To"] == address]


def plain(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(("plain",)).get_content()


def html(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(("html",)).get_content()


def attachment(message, content_type: str):  # type: ignore[no-untyped-def]
    for part in message.iter_attachments():
        if part.get_content_type() == content_type:
            return part
    raise AssertionError(f"no {content_type} attachment")


def vevent_of(message):  # type: ignore[no-untyped-def]
    calendar = icalendar.Calendar.from_ical(attachment(message, "text/calendar").get_content())
    (vevent,) = calendar.walk("VEVENT")
    return vevent


def test_the_consul_general_gets_his_confirmation_with_qr_code_and_calendar(
    cast, programme, mailbox, client
):
    registration = services.registration_create(
        event=programme.visit, person=cast.consul.person, by=cast.consul
    )
    (message,) = to(mailbox, "kenji@mission.example")
    assert message["Subject"] == "Your seat is confirmed: Visit to the supercomputing centre"
    text = plain(message)
    assert "Dear Kenji Sato-Example," in text
    assert "Example Supercomputing Centre, Chapel building" in text
    assert f"/en/programme/r/{registration.token}/" in text
    qr = attachment(message, "image/png")
    assert qr["Content-ID"] == "<check-in-qr>"
    assert qr.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="cid:check-in-qr"' in html(message)
    vevent = vevent_of(message)
    assert str(vevent["uid"]).startswith(str(programme.visit.uid))
    assert vevent["dtstart"].params["TZID"] == "Europe/Madrid"
    assert str(vevent["status"]) == "CONFIRMED"
    # The link in the message opens his registration, without signing in.
    page = client.get(f"/en/programme/r/{registration.token}/")
    assert page.status_code == 200
    assert "Your seat is confirmed." in page.content.decode()


def test_registering_twice_sends_one_confirmation(cast, programme, mailbox):
    for _ in range(2):
        services.registration_create(
            event=programme.visit, person=cast.consul.person, by=cast.consul
        )
    assert len(to(mailbox, "kenji@mission.example")) == 1


def test_a_seat_freed_goes_to_the_waiting_attache_who_is_told_to_confirm(cast, mailbox):
    event = make_event("one-seat", capacity=1, title_en="Tiny briefing", promotion_hours=24)
    kenji = services.registration_create(event=event, person=cast.consul.person, by=cast.consul)
    services.registration_create(event=event, person=cast.attache.person, by=cast.attache)
    (waiting,) = to(mailbox, "ana@mission.example")
    assert waiting["Subject"] == "You are on the waitlist: Tiny briefing"
    assert "you are number 1 on the waitlist" in plain(waiting)

    services.registration_cancel(registration=kenji, by=cast.consul)
    cancelled = to(mailbox, "kenji@mission.example")[-1]
    assert cancelled["Subject"] == "Registration cancelled: Tiny briefing"
    assert "Your registration has been cancelled, as you asked." in plain(cancelled)
    promoted = to(mailbox, "ana@mission.example")[-1]
    assert promoted["Subject"] == "A seat is free for you: Tiny briefing"
    assert "Please confirm it by" in plain(promoted)
    attachment(promoted, "image/png")
    attachment(promoted, "text/calendar")


def test_an_offer_not_confirmed_in_time_is_released_with_a_message(cast, mailbox):
    event = make_event("one-seat", capacity=1, title_en="Tiny briefing", promotion_hours=1)
    kenji = services.registration_create(event=event, person=cast.consul.person, by=cast.consul)
    services.registration_create(event=event, person=cast.attache.person, by=cast.attache)
    services.registration_cancel(registration=kenji, by=cast.consul)
    later = timezone.now() + datetime.timedelta(hours=2)
    services.registrations_release_expired_offers(now=later)
    last = to(mailbox, "ana@mission.example")[-1]
    assert last["Subject"] == "Registration cancelled: Tiny briefing"
    assert "was not confirmed in time" in plain(last)


def test_staff_moving_the_event_tells_everyone_registered_with_a_new_calendar(
    cast, programme, mailbox
):
    visit = programme.visit
    services.registration_create(event=visit, person=cast.consul.person, by=cast.consul)
    services.registration_create(event=visit, person=cast.attache.person, by=cast.attache)
    before = visit.sequence
    mailbox.clear()
    visit.start += datetime.timedelta(days=1)
    visit.end += datetime.timedelta(days=1)
    services.event_save(event=visit, changed=["start", "end"], by=cast.staff)
    visit.refresh_from_db()
    assert visit.sequence == before + 1
    assert sorted(m["To"] for m in mailbox.messages) == [
        "ana@mission.example",
        "kenji@mission.example",
    ]
    for message in mailbox.messages:
        assert message["Subject"] == "Changed: Visit to the supercomputing centre"
        assert int(vevent_of(message)["sequence"]) == before + 1


def test_a_change_nobody_needs_to_hear_of_sends_nothing(cast, programme, mailbox):
    services.registration_create(event=programme.visit, person=cast.consul.person, by=cast.consul)
    mailbox.clear()
    programme.visit.capacity = 40
    services.event_save(event=programme.visit, changed=["capacity"], by=cast.staff)
    assert mailbox.messages == []


def test_cancelling_the_event_tells_everyone_and_marks_the_calendar_cancelled(
    cast, programme, mailbox
):
    services.registration_create(event=programme.visit, person=cast.consul.person, by=cast.consul)
    mailbox.clear()
    programme.visit.status = EventStatus.CANCELLED
    services.event_save(event=programme.visit, changed=["status"], by=cast.staff)
    (message,) = mailbox.messages
    assert message["Subject"] == "Cancelled: Visit to the supercomputing centre"
    assert str(vevent_of(message)["status"]) == "CANCELLED"


def test_two_quick_changes_send_one_message_with_the_latest_news(
    cast, programme, smtp_server, slow_worker
):
    """The worker was slow: both changes are in the outbox when it sends."""
    services.registration_create(event=programme.visit, person=cast.consul.person, by=cast.consul)
    for hours in (1, 2):
        programme.visit.start += datetime.timedelta(hours=hours)
        programme.visit.end += datetime.timedelta(hours=hours)
        services.event_save(event=programme.visit, changed=["start", "end"], by=cast.staff)
    with mail_to_smtp(smtp_server):
        mailing.emails_send_due()
    changed = [m for m in smtp_server.messages if m["Subject"].startswith("Changed:")]
    assert len(changed) == 1
    assert OutboundEmail.objects.filter(status=EmailStatus.SKIPPED).count() == 1


def test_a_colleague_takes_the_consuls_seat_and_both_are_told(cast, programme, mailbox, client):
    registration = services.registration_create(
        event=programme.visit, person=cast.consul.person, by=cast.consul
    )
    old_link = f"/en/programme/r/{registration.token}/"
    yuki = Person.objects.create(
        given_name="Yuki", family_name="Tanaka-Example", email="yuki@mission.example"
    )
    post = Post.objects.create(organization=cast.japan, label="Consul", role=PostRole.DEPUTY)
    post_assign(post=post, person=yuki)
    mailbox.clear()
    services.registration_substitute(registration=registration, person=yuki, by=cast.consul)
    (welcome,) = to(mailbox, "yuki@mission.example")
    assert "Kenji Sato-Example has handed their seat to you." in plain(welcome)
    (farewell,) = to(mailbox, "kenji@mission.example")
    assert farewell["Subject"].startswith("Your seat has been handed to a colleague")
    assert "Yuki Tanaka-Example" in plain(farewell)
    # Kenji's old link no longer opens the seat, now Yuki's.
    assert client.get(old_link).status_code == 404
    registration.refresh_from_db()
    assert client.get(f"/en/programme/r/{registration.token}/").status_code == 200


def test_messages_are_written_in_the_recipients_language(cast, programme, mailbox):
    cast.attache.language = "es"
    cast.attache.save()
    services.registration_create(event=programme.visit, person=cast.attache.person, by=cast.attache)
    (message,) = to(mailbox, "ana@mission.example")
    # A long encoded subject is folded after "Subject:"; readers drop the leading space.
    subject = message["Subject"].strip()
    assert subject == "Su plaza está confirmada: Visita al centro de supercomputación"
    assert "Estimado/a Ana" in plain(message)
    assert "/es/programme/r/" in plain(message)


def test_a_confirmation_for_a_seat_cancelled_before_sending_is_not_sent(
    cast, programme, smtp_server, slow_worker
):
    registration = services.registration_create(
        event=programme.visit, person=cast.consul.person, by=cast.consul
    )
    services.registration_cancel(registration=registration, by=cast.consul)
    with mail_to_smtp(smtp_server):
        mailing.emails_send_due()
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects == ["Registration cancelled: Visit to the supercomputing centre"]
    assert Registration.objects.get(pk=registration.pk).status == RegistrationStatus.CANCELLED


def test_a_reminder_goes_once_to_each_seat_the_day_before(cast, mailbox):
    # Twenty hours from now, whatever the time of day the suite runs.
    soon = timezone.now() + datetime.timedelta(hours=20, minutes=30)
    event = make_event("tomorrow", title_en="Tomorrow's visit", start=soon)
    kenji = services.registration_create(event=event, person=cast.consul.person, by=cast.consul)
    Registration.objects.filter(pk=kenji.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    services.registration_create(event=event, person=cast.attache.person, by=cast.attache)
    mailbox.clear()
    later = timezone.now() + datetime.timedelta(minutes=30)  # 20 hours before the visit
    assert services.registrations_remind_upcoming(now=later) == 1  # Ana registered just now
    assert services.registrations_remind_upcoming(now=later) == 0  # the job runs again
    (reminder,) = mailbox.messages
    assert reminder["To"] == "kenji@mission.example"
    assert reminder["Subject"] == "Soon: Tomorrow's visit"
    attachment(reminder, "image/png")
    attachment(reminder, "text/calendar")
    early = event.start - datetime.timedelta(hours=30)
    assert services.registrations_remind_upcoming(now=early, hours=24) == 0
