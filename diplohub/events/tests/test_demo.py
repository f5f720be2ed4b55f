"""The demo programme: complete in every language, built on the demo directory, alive."""

from __future__ import annotations

import inspect
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from diplohub.directory import demo as directory_demo
from diplohub.events import demo
from diplohub.events.models import (
    Event,
    EventStatus,
    Invitation,
    Registration,
    RegistrationStatus,
    Visibility,
)

DATA = json.loads(demo.DATA_FILE.read_text(encoding="utf-8"))
CITY = json.loads((directory_demo.DATA_DIR / "demo.json").read_text(encoding="utf-8"))["city"]


def test_the_code_names_no_city():
    assert CITY not in inspect.getsource(demo)


def test_every_text_is_written_in_english_spanish_and_catalan():
    for event in DATA["events"]:
        for field in ("title", "summary", "description"):
            assert all(event[field][lang] for lang in ("en", "es", "ca")), (event["slug"], field)
        assert set(event["practical_notes"]) == {"en", "es", "ca"}
        for item in event["agenda"]:
            assert all(item["title"][lang] for lang in ("en", "es", "ca")), event["slug"]
    assert 7 <= len(DATA["events"]) <= 10


@pytest.mark.django_db
def test_demo_events_needs_the_directory_first():
    # Runs before the module's demo is built (tests run in file order).
    with pytest.raises(CommandError, match="directory is empty"):
        call_command("demo_events", stdout=StringIO())


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        directory_demo.reset_demo()
        directory_demo.build_demo()
    yield
    with django_db_blocker.unblock():
        directory_demo.reset_demo()


@pytest.mark.django_db
@pytest.mark.usefixtures("built")
def test_the_demo_programme_has_past_and_upcoming_editions():
    now = timezone.now()
    events = list(Event.objects.select_related("series", "host"))
    assert len(events) == len(DATA["events"])
    assert any(e.end < now for e in events) and any(e.start > now for e in events)
    circle = [e for e in events if e.series and e.edition]
    assert sorted(e.edition for e in circle) == [1, 2, 3, 4]
    assert {e.kind for e in events} >= {"visit", "briefing", "thematic", "encounter"}
    assert {e.visibility for e in events} == set(Visibility.values)
    assert any(e.status == EventStatus.CANCELLED for e in events)
    for event in events:
        assert 30 <= event.capacity <= 60
        assert event.quota_per_organization == 2
        assert event.title_es and event.title_ca and event.title_en != event.title_es
        assert event.agenda.exists() or event.status == EventStatus.CANCELLED


@pytest.mark.django_db
@pytest.mark.usefixtures("built")
def test_registrations_follow_the_rules_so_lists_are_not_empty():
    now = timezone.now()
    for event in Event.objects.all():
        registrations = Registration.objects.filter(event=event)
        seated = registrations.seated()
        assert seated.count() <= event.capacity
        per_org = {}
        for registration in seated:
            per_org[registration.organization_id] = per_org.get(registration.organization_id, 0) + 1
        assert max(per_org.values(), default=0) <= event.quota_per_organization
        if event.end < now:
            assert set(registrations.values_list("status", flat=True)) <= {"attended"}
    # The full visit has a waitlist, numbered from 1.
    full = Event.objects.get(slug="diplomatic-circle-3-biomedical-research-park")
    assert full.registrations.seated().count() == full.capacity
    waiting = list(full.registrations.waiting())
    assert waiting and all(r.status == RegistrationStatus.WAITLISTED for r in waiting)
    # Only invited people are registered for the invitation-only encounter.
    encounter = Event.objects.get(visibility=Visibility.INVITATION)
    invited = set(Invitation.objects.filter(event=encounter).values_list("person", flat=True))
    assert set(encounter.registrations.values_list("person", flat=True)) <= invited


@pytest.mark.django_db
@pytest.mark.usefixtures("built")
def test_the_speakers_come_from_the_directory(client):
    event = Event.objects.get(slug="diplomatic-circle-3-biomedical-research-park")
    speakers = [p for item in event.agenda.all() for p in item.speakers.all()]
    assert speakers
    html = client.get(event.get_absolute_url()).content.decode()
    for person in speakers:
        assert person.public_name in html
        assert person.email not in html


@pytest.mark.django_db
@pytest.mark.usefixtures("built")
def test_the_whole_demo_resets_with_its_programme():
    directory_demo.reset_demo()
    assert not Event.objects.exists()
    directory_demo.build_demo()
    assert Event.objects.count() == len(DATA["events"])


@pytest.mark.django_db
@pytest.mark.usefixtures("built")
def test_demo_events_adds_the_programme_to_an_older_demo_directory():
    out = StringIO()
    call_command("demo_events", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue()
    with pytest.raises(CommandError, match="demo --reset"):
        call_command("demo_events", stdout=StringIO())
    demo.reset_demo_events()
    out = StringIO()
    call_command("demo_events", "--if-empty", stdout=out)
    assert f"Demo programme loaded: {len(DATA['events'])} events" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.usefixtures("built")
def test_the_demo_people_get_no_mail():
    from diplohub.mailing.models import OutboundEmail

    assert Registration.objects.exists()
    assert not OutboundEmail.objects.exists()
