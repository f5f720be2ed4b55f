"""Campaigns, told as stories: Sofia (staff) writes the spring newsletter in English
and Catalan, previews it, counts and narrows its audience, sends herself a test and
sends it; Kenji receives it in English, Núria in Catalan, Elena (Spanish) the English
text; Ugo, who unsubscribed, gets nothing, nor does anyone who leaves after it was
queued. Bad input and the wrong people are answered clearly, never with a 500."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from diplohub.mailing import campaign_emails, services
from diplohub.mailing.audience import MEMBERS, SUBSCRIBERS, Audience, recipients
from diplohub.mailing.models import Campaign, CampaignStatus, EmailStatus, OutboundEmail
from diplohub.mailing.tests import campaign_stories
from diplohub.mailing.tests.campaign_stories import (
    SPRING_CA,
    SPRING_EN,
    by_recipient,
    html,
    plain,
    spring,
    subscribe,
)

pytestmark = pytest.mark.django_db
readers = campaign_stories.readers
mailbox = campaign_stories.mailbox

NEW = "/en/mail/campaigns/new/"


def form_data(**changes: object) -> dict[str, object]:
    """The campaign page's fields for the spring newsletter, with `changes`."""
    data: dict[str, object] = {
        "subject_en": SPRING_EN.subject,
        "body_en": SPRING_EN.body,
        "subject_ca": SPRING_CA.subject,
        "body_ca": SPRING_CA.body,
        "subject_es": "",
        "body_es": "",
        "in_archive": "on",
        "slug": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def page_of(campaign: Campaign) -> str:
    return f"/en/mail/campaigns/{campaign.pk}/"


# --- Writing it ---------------------------------------------------------------------


def test_sofia_writes_the_spring_newsletter_in_english_and_catalan(client, cast, readers):
    client.force_login(cast.staff)
    page = client.get(NEW)
    assert page.status_code == 200
    html_page = page.content.decode()
    assert 'id="lang-ca"' in html_page and 'id="lang-es"' in html_page
    for field in ("subject_en", "body_en", "subject_ca", "body_ca", "subject_es", "body_es"):
        assert f'name="{field}"' in html_page
    assert "<strong>3</strong> people would receive it now." in html_page

    saved = client.post(NEW, form_data(topics=["health"]), follow=True)
    assert "The draft is saved." in saved.content.decode()
    campaign = Campaign.objects.get()
    assert campaign.slug == "spring-newsletter"
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.created_by == cast.staff
    assert campaign.languages == ["en", "ca"]
    assert campaign.text_in("ca") == (SPRING_CA.subject, SPRING_CA.body)
    assert campaign.audience == {"topics": ["health"]}
    assert "<strong>2</strong> people would receive it now." in saved.content.decode()


def test_the_preview_is_the_sanitised_html_every_message_shows(client, cast):
    client.force_login(cast.staff)
    body = "## News\n\nA **bold** step.\n\n<script>alert('x')</script>\n\n<b onclick=x>hi</b>"
    answer = client.post(
        "/en/mail/campaigns/preview/",
        {"language": "ca", "subject_ca": "Notícies\r\nBcc: x@y.z", "body_ca": body},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    fragment = answer.content.decode()
    assert "<h2>News</h2>" in fragment and "<strong>bold</strong>" in fragment
    assert "<script" not in fragment and "onclick" not in fragment
    assert "not allowed in e-mail and was removed" in fragment
    assert "Notícies Bcc: x@y.z" in fragment  # one line: a subject is a header
    assert "<html" not in fragment  # a fragment for htmx, not a page


def test_the_audience_count_follows_the_segment(client, cast, readers):
    client.force_login(cast.staff)

    def count(**query: object) -> str:
        answer = client.get("/en/mail/campaigns/audience/", query, HTTP_HX_REQUEST="true")
        assert answer.status_code == 200
        return re.sub(r"<.*?>", "", answer.content.decode()).strip()

    assert count() == "3 people would receive it now."
    assert count(languages="ca") == "1 person would receive it now."
    assert count(topics="health") == "2 people would receive it now."
    assert count(kinds="consulate_general") == "1 person would receive it now."
    assert count(countries="JP") == "1 person would receive it now."  # Kenji's post
    assert count(countries=["ES", "MX"]) == "2 people would receive it now."
    assert count(groups=MEMBERS) == "1 person would receive it now."
    assert count(groups=SUBSCRIBERS) == "2 people would receive it now."
    assert count(groups=[SUBSCRIBERS, MEMBERS]) == "3 people would receive it now."
    assert count(topics="energy") == "0 people would receive it now."


def test_the_segment_narrows_who_may_receive_it_and_never_adds(readers):
    everyone = {s.email for s in recipients(Audience())}
    assert everyone == {readers.kenji.email, readers.nuria.email, readers.elena.email}
    catalan_health = recipients(Audience(languages=("ca",), topics=("health",)))
    assert [s.email for s in catalan_health] == [readers.nuria.email]


def test_unknown_segment_values_are_refused_clearly(client, cast, readers):
    client.force_login(cast.staff)
    answer = client.get("/en/mail/campaigns/audience/", {"topics": "astrology", "countries": "XX"})
    assert answer.status_code == 400
    assert "Correct the audience" in answer.content.decode()

    saved = client.post(NEW, form_data(kinds="embassy", languages="fr"))
    assert saved.status_code == 400
    page = saved.content.decode()
    assert "Select a valid choice. embassy is not one of the available choices." in page
    assert "Select a valid choice. fr is not one of the available choices." in page
    assert Campaign.objects.count() == 0

    with pytest.raises(services.CampaignError) as refused:
        spring(audience=Audience(topics=("astrology",)))
    assert refused.value.field == "topics"
    assert "astrology" in refused.value.message


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"subject_en": "", "body_en": ""}, "subject_en", "This field is required."),
        ({"body_ca": ""}, "body_ca", "Write the text in Català too, or leave its subject empty."),
        ({"subject_ca": ""}, "subject_ca", "Give the Català text a subject, or leave it empty."),
        ({"subject_en": "x" * 201}, "subject_en", "at most 200 characters"),
        ({"subject_en": "Spring\nBcc: all@example.org"}, "subject_en", "single line"),
        ({"body_en": "x" * 100_001}, "body_en", "at most 100000 characters"),
        ({"slug": "Not a slug!"}, "slug", "Enter a valid “slug”"),
    ],
)
def test_bad_texts_are_refused_next_to_their_field(client, cast, changes, field, message):
    client.force_login(cast.staff)
    answer = client.post(NEW, form_data(**changes))
    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert Campaign.objects.count() == 0


def test_an_address_in_the_archive_is_one_campaigns_only(cast):
    spring(slug="spring")
    with pytest.raises(services.CampaignError) as refused:
        spring(slug="spring")
    assert refused.value.field == "slug"
    assert spring().slug == "spring-newsletter"
    assert spring().slug == "spring-newsletter-2"


def test_script_in_the_markdown_never_reaches_a_message(cast, readers, mailbox):
    campaign = spring(
        texts={"en": services.CampaignText("Spring", "Hello <script>alert(1)</script> world")}
    )
    services.campaign_queue(campaign=campaign)
    services.emails_send()
    for message in mailbox.messages:
        assert "<script" not in html(message)
        assert "Hello" in html(message)


# --- Trying it, sending it ------------------------------------------------------------


def test_sofia_sends_herself_a_test_in_each_language(
    client, cast, readers, mailbox, django_capture_on_commit_callbacks
):
    campaign = spring(by=cast.staff)
    client.force_login(cast.staff)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"{page_of(campaign)}test/", follow=True)
    assert "2 tests are on their way to sofia@example.test (English, Català)." in (
        answer.content.decode()
    )
    tests = mailbox.messages
    assert {m["To"] for m in tests} == {"sofia@example.test"}
    assert sorted(m["Subject"] for m in tests) == [
        "[TEST] Butlletí de primavera",
        "[TEST] Spring newsletter",
    ]
    assert "This is a test" in plain(tests[0]) or "test" in plain(tests[0])
    assert OutboundEmail.objects.filter(campaign=campaign).count() == 0  # not progress
    assert Campaign.objects.get().status == CampaignStatus.DRAFT


def test_the_test_button_saves_the_page_first(
    client, cast, readers, mailbox, django_capture_on_commit_callbacks
):
    campaign = spring()
    client.force_login(cast.staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{page_of(campaign)}test/", form_data(subject_en="Spring, revised"))
    assert "[TEST] Spring, revised" in [m["Subject"] for m in mailbox.messages]
    campaign.refresh_from_db()
    assert campaign.text_in("en")[0] == "Spring, revised"


def test_kenji_gets_english_nuria_catalan_and_ugo_nothing(
    client, cast, readers, mailbox, settings, django_capture_on_commit_callbacks
):
    campaign = spring(by=cast.staff)
    client.force_login(cast.staff)
    confirm = client.post(f"{page_of(campaign)}send/")
    assert confirm.status_code == 200
    assert "will go to <strong>3</strong> people now" in confirm.content.decode()
    assert OutboundEmail.objects.count() == 0  # nothing before the confirmation

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"{page_of(campaign)}send/", {"confirm": "yes"}, follow=True)
    assert "Sending to 3 people." in sent.content.decode()

    received = by_recipient(mailbox.messages)
    assert set(received) == {
        "kenji@mission.example",
        "nuria@recerca.example",
        "elena@universidad.example",
    }
    kenji, nuria, elena = (received[s.email] for s in (readers.kenji, readers.nuria, readers.elena))
    assert kenji["Subject"] == "Spring newsletter"
    assert nuria["Subject"] == "Butlletí de primavera"
    assert elena["Subject"] == "Spring newsletter"  # not written in Spanish: the default
    assert "supercomputing centre" in plain(kenji)
    assert "centre de supercomputació" in plain(nuria)
    assert "<h2" in html(nuria) and "Visites aquesta primavera" in html(nuria)
    assert 'lang="ca"' in html(nuria)

    for reader, message in ((readers.kenji, kenji), (readers.nuria, nuria)):
        row = OutboundEmail.objects.get(to=reader.email)
        assert message["Message-ID"] == row.message_id
        assert message["From"] == settings.DEFAULT_FROM_EMAIL
        assert message["Reply-To"] == settings.HUB_CONTACT_EMAIL
        assert message["Date"]
        unsubscribe = re.fullmatch(
            r"<(https?://\S+/mail/unsubscribe/(\S+)/)>", message["List-Unsubscribe"].strip()
        )
        assert unsubscribe, message["List-Unsubscribe"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Id"]
        assert unsubscribe.group(1) in plain(message) and unsubscribe.group(1) in html(message)
        assert "/mail/preferences/" in plain(message) and "/mail/preferences/" in html(message)
        assert f"/{reader.language}/mail/unsubscribe/" in unsubscribe.group(1)
        assert "/newsletters/spring-newsletter/" in plain(message)  # read it on the site
    # Each message carries its own recipient's links only.
    assert re.findall(r"/mail/preferences/(\S+?)/", plain(kenji)) != re.findall(
        r"/mail/preferences/(\S+?)/", plain(nuria)
    )
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert campaign.finished_at is not None
    assert campaign.progress() == {
        "queued": 0,
        "sending": 0,
        "sent": 3,
        "failed": 0,
        "skipped": 0,
        "total": 3,
        "done": 3,
    }


def test_the_one_click_link_in_the_header_unsubscribes_at_once(client, cast, readers, mailbox):
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    services.emails_send()
    kenji = by_recipient(mailbox.messages)[readers.kenji.email]
    link = kenji["List-Unsubscribe"].strip().strip("<>").split("://", 1)[1].split("/", 1)[1]
    answer = client.post(f"/{link}", {"List-Unsubscribe": "One-Click"})
    assert answer.status_code in (200, 204)
    assert not recipients(Audience()).filter(pk=readers.kenji.pk).exists()


def test_someone_who_unsubscribes_after_it_was_queued_is_skipped(readers, mailbox):
    campaign = spring()
    assert services.campaign_queue(campaign=campaign) == 3
    services.subscriber_unsubscribe(email="NURIA@recerca.example", source="test")
    report = services.emails_send()
    assert (report.sent, report.skipped) == (2, 1)
    assert readers.nuria.email not in by_recipient(mailbox.messages)
    assert OutboundEmail.objects.get(to=readers.nuria.email).status == EmailStatus.SKIPPED


def test_queueing_again_adds_nobody_twice(readers):
    campaign = spring()
    assert services.campaign_queue(campaign=campaign) == 3
    with pytest.raises(services.CampaignError) as refused:
        services.campaign_queue(campaign=campaign)
    assert refused.value.code == "not_sendable"
    # Even a writer that got past the status check cannot add a row twice.
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DRAFT)
    assert services.campaign_queue(campaign=campaign) == 3
    assert OutboundEmail.objects.filter(campaign=campaign).count() == 3
    keys = set(OutboundEmail.objects.values_list("key", flat=True))
    assert f"campaign:{campaign.pk}:nuria@recerca.example" in keys


@pytest.mark.django_db(transaction=True)
def test_two_staff_members_pressing_send_at_once_queue_it_once(readers):
    """Two threads, each with its own database connection, queue the same campaign at
    the same moment: one wins, the other is told it is already being sent."""
    campaign = spring()
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def press() -> None:
        try:
            start.wait()
            outcomes.append(services.campaign_queue(campaign=Campaign.objects.get(pk=campaign.pk)))
        except services.CampaignError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [3, "not_sendable"]
    assert OutboundEmail.objects.filter(campaign=campaign).count() == 3


def test_nobody_in_the_audience_sends_nothing(client, cast, readers):
    campaign = spring(audience=Audience(topics=("energy",)))
    client.force_login(cast.staff)
    answer = client.post(f"{page_of(campaign)}send/", follow=True)
    assert "Nobody is in this audience: nothing was sent." in answer.content.decode()
    assert Campaign.objects.get().status == CampaignStatus.DRAFT


def test_a_sent_campaign_can_no_longer_be_changed(client, cast, readers):
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    client.force_login(cast.staff)
    page = client.get(page_of(campaign))
    assert page.status_code == 200
    assert "What is being sent" in page.content.decode()
    assert 'name="body_en"' not in page.content.decode()
    answer = client.post(page_of(campaign), form_data(subject_en="Changed"), follow=True)
    assert "This campaign is sending: it can no longer be changed." in answer.content.decode()
    assert Campaign.objects.get().text_in("en")[0] == SPRING_EN.subject


# --- Scheduling, stopping, following ----------------------------------------------------


def test_sofia_schedules_it_and_the_housekeeping_starts_it_on_time(client, cast, readers, mailbox):
    campaign = spring()
    client.force_login(cast.staff)
    answer = client.post(
        f"{page_of(campaign)}schedule/", form_data(when="2099-04-21T09:30"), follow=True
    )
    assert "Scheduled: it will be sent on" in answer.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    # 09:30 in Madrid (the demo hub's zone) is 07:30 UTC in summer.
    assert campaign.scheduled_for == datetime.datetime(2099, 4, 21, 7, 30, tzinfo=datetime.UTC)

    assert services.campaigns_start_due(now=timezone.now()) == 0  # not yet
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_for=timezone.now())
    assert services.campaigns_start_due() == 1
    assert services.campaigns_start_due() == 0  # started once
    services.emails_send()
    services.campaigns_finish()
    assert len(mailbox.messages) == 3
    assert Campaign.objects.get().status == CampaignStatus.SENT


@pytest.mark.parametrize("when", ["2001-01-01T10:00", "", "tomorrow"])
def test_a_schedule_in_the_past_or_unreadable_is_refused(client, cast, when):
    campaign = spring()
    client.force_login(cast.staff)
    answer = client.post(f"{page_of(campaign)}schedule/", form_data(when=when))
    assert answer.status_code == 400
    errors = " ".join(answer.context["schedule_form"].errors["when"])
    expected = {
        "2001-01-01T10:00": "That time has passed",
        "": "Choose the day and time to send it.",
        "tomorrow": "Enter a valid date/time.",
    }[when]
    assert expected in errors
    assert Campaign.objects.get().status == CampaignStatus.DRAFT


def test_a_campaign_being_sent_cannot_be_scheduled(client, cast, readers):
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    client.force_login(cast.staff)
    answer = client.post(f"{page_of(campaign)}schedule/", {"when": "2099-04-21T09:30"}, follow=True)
    assert "This campaign is sending: it can no longer be changed." in answer.content.decode()
    assert Campaign.objects.get().scheduled_for is None


def test_cancelling_a_schedule_makes_it_a_draft_again(client, cast):
    campaign = spring()
    services.campaign_schedule(campaign=campaign, when=timezone.now() + datetime.timedelta(days=1))
    client.force_login(cast.staff)
    answer = client.post(f"{page_of(campaign)}cancel/", follow=True)
    assert "It is no longer scheduled: it is a draft again." in answer.content.decode()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_for) == (CampaignStatus.DRAFT, None)


def test_stopping_a_campaign_skips_the_messages_not_yet_sent(client, cast, readers, mailbox):
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    first = OutboundEmail.objects.filter(campaign=campaign).order_by("pk").first()
    assert first is not None
    services.emails_send(pks=[first.pk])
    client.force_login(cast.staff)
    answer = client.post(f"{page_of(campaign)}cancel/", follow=True)
    assert "Sending stopped: 2 messages were not sent." in answer.content.decode()
    assert services.emails_send().sent == 0
    assert len(mailbox.messages) == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert campaign.progress()["skipped"] == 2
    again = client.post(f"{page_of(campaign)}cancel/", follow=True)
    assert "Only a scheduled campaign or one being sent can be cancelled." in again.content.decode()


def test_the_progress_is_counted_from_the_outbox_and_polled_while_sending(client, cast, readers):
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    OutboundEmail.objects.filter(to=readers.kenji.email).update(status=EmailStatus.SENT)
    OutboundEmail.objects.filter(to=readers.elena.email).update(status=EmailStatus.FAILED)
    client.force_login(cast.staff)
    fragment = client.get(f"{page_of(campaign)}progress/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert 'hx-trigger="every 2s"' in text
    assert '<progress id="progress-bar" max="3" value="2">' in text
    assert '<dd data-count="queued">1</dd>' in text
    assert '<dd data-count="sent">1</dd>' in text
    assert '<dd data-count="failed">1</dd>' in text
    OutboundEmail.objects.filter(status=EmailStatus.QUEUED).update(status=EmailStatus.SENT)
    services.campaigns_finish()
    done = client.get(f"{page_of(campaign)}progress/").content.decode()
    assert "hx-trigger" not in done  # finished: the page stops asking
    assert 'data-status="sent"' in done
    listing = client.get("/en/mail/campaigns/").content.decode()
    assert "2 of 3 sent" in listing and "1 failed" in listing


# --- Who may, and how ------------------------------------------------------------------


STAFF_PAGES = [
    ("get", "/en/mail/campaigns/"),
    ("get", NEW),
    ("get", "/en/mail/campaigns/{pk}/"),
    ("get", "/en/mail/campaigns/{pk}/progress/"),
    ("get", "/en/mail/campaigns/audience/"),
    ("post", "/en/mail/campaigns/preview/"),
    ("post", "/en/mail/campaigns/{pk}/test/"),
    ("post", "/en/mail/campaigns/{pk}/schedule/"),
    ("post", "/en/mail/campaigns/{pk}/send/"),
    ("post", "/en/mail/campaigns/{pk}/cancel/"),
]


@pytest.mark.parametrize(("method", "url"), STAFF_PAGES)
def test_an_outsider_cannot_reach_the_campaign_pages(client, cast, method, url):
    campaign = spring()
    url = url.format(pk=campaign.pk)
    anonymous = getattr(client, method)(url)
    assert anonymous.status_code == 302 and "/accounts/sign-in/" in anonymous["Location"]
    for who in (cast.outsider, cast.consul):
        client.force_login(who)
        assert getattr(client, method)(url).status_code == 403
    assert OutboundEmail.objects.count() == 0
    assert Campaign.objects.get().status == CampaignStatus.DRAFT


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/en/mail/campaigns/preview/"),
        ("get", "/en/mail/campaigns/{pk}/test/"),
        ("get", "/en/mail/campaigns/{pk}/send/"),
        ("get", "/en/mail/campaigns/{pk}/cancel/"),
        ("get", "/en/mail/campaigns/{pk}/schedule/"),
        ("post", "/en/mail/campaigns/{pk}/progress/"),
        ("post", "/en/mail/campaigns/"),
        ("delete", "/en/mail/campaigns/{pk}/"),
    ],
)
def test_the_wrong_method_is_refused(client, cast, method, url):
    campaign = spring()
    client.force_login(cast.staff)
    assert getattr(client, method)(url.format(pk=campaign.pk)).status_code == 405


def test_an_unknown_campaign_is_a_404(client, cast):
    client.force_login(cast.staff)
    assert client.get("/en/mail/campaigns/999999/").status_code == 404
    assert client.post("/en/mail/campaigns/999999/send/").status_code == 404


def test_the_pages_speak_catalan_under_ca(client, cast, readers):
    campaign = spring()
    client.force_login(cast.staff)
    page = client.get(f"/ca/mail/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    assert '<html lang="ca">' in page.content.decode()


# --- Fast enough: nothing per message but the claim and the send ------------------------


def test_a_batch_asks_the_database_the_same_whatever_its_size(cast, mailbox):
    campaign = spring()
    for number in range(30):
        subscribe(f"reader{number}@example.org", language=("en", "ca")[number % 2])
    services.campaign_queue(campaign=campaign)
    rows = list(OutboundEmail.objects.order_by("pk").values_list("pk", flat=True))

    def reads_for(pks: list[int]) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert services.emails_send(pks=pks).sent == len(pks)
        return sum(1 for q in queries if q["sql"].lstrip().upper().startswith("SELECT"))

    assert reads_for(rows[:5]) == reads_for(rows[5:30])
    assert len(mailbox.messages) == 30


def test_each_language_is_rendered_once_per_change(cast, readers, mailbox, monkeypatch):
    campaign_emails._cache.clear()
    calls: list[str] = []
    real = campaign_emails.render_email

    def counting(template, context, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(context["subject"])
        return real(template, context, **kwargs)

    monkeypatch.setattr(campaign_emails, "render_email", counting)
    for number in range(6):
        subscribe(f"reader{number}@example.org", language="ca")
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    services.emails_send()
    assert sorted(calls) == [SPRING_CA.subject, SPRING_EN.subject]
    assert len(mailbox.messages) == 9


def test_the_throttle_spaces_messages_evenly(settings, monkeypatch):
    settings.MAIL_RATE = 4
    clock = [100.0]
    slept: list[float] = []
    monkeypatch.setattr(services.time, "monotonic", lambda: clock[0])

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(services.time, "sleep", sleep)
    throttle = services._Throttle()
    for _ in range(5):
        throttle.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    settings.MAIL_RATE = 0
    throttle.wait()
    assert len(slept) == 4


def test_the_back_office_lists_campaigns_and_links_their_page(admin_client, cast):
    campaign = spring()
    listing = admin_client.get("/en/admin/mailing/campaign/")
    assert listing.status_code == 200
    assert f'href="/en/mail/campaigns/{campaign.pk}/"' in listing.content.decode()
    assert admin_client.get("/en/admin/mailing/campaign/add/").status_code == 403


def _parsed(raw: bytes):  # type: ignore[no-untyped-def]
    from email import policy
    from email.parser import BytesParser

    return BytesParser(policy=policy.default).parsebytes(raw)


def test_the_message_filled_in_for_each_recipient_is_the_one_django_builds(readers, settings):
    """Campaign messages are built once per language with stand-ins, then filled in:
    the result must be what building each in full gives (but for the Date)."""
    campaign = spring()
    services.campaign_queue(campaign=campaign)
    for row in OutboundEmail.objects.filter(campaign=campaign):
        campaign_emails._prepare([row])
        with translation.override(row.language):
            rendered = campaign_emails._campaign(row)
            assert rendered is not None and rendered.mime
            full = services.message_bytes(email=row, rendered=rendered)
        fast, slow = _parsed(rendered.mime), _parsed(full)
        names = [name for name in slow if name != "Date"]
        assert [name for name in fast if name != "Date"] == names
        for name in names:
            if name.lower() != "content-type":  # the boundary differs
                assert str(fast[name]) == str(slow[name]), name
        assert fast["Date"]
        assert fast["To"] == row.to and fast["Message-ID"] == row.message_id
        for kind in ("plain", "html"):
            assert fast.get_body((kind,)).get_content() == slow.get_body((kind,)).get_content()


def test_a_text_that_needs_encoding_is_built_in_full_and_arrives_whole(readers, mailbox):
    long_line = "word " * 300  # over 998 characters: quoted-printable, no stand-ins
    campaign = spring(texts={"en": services.CampaignText("Long", long_line.strip())})
    services.campaign_queue(campaign=campaign)
    row = OutboundEmail.objects.filter(campaign=campaign).first()
    assert row is not None
    campaign_emails._prepare([row])
    with translation.override(row.language):
        rendered = campaign_emails._campaign(row)
    assert rendered is not None and rendered.mime == b""
    services.emails_send()
    for message in mailbox.messages:
        assert long_line.strip() in " ".join(plain(message).split())
        assert "/mail/unsubscribe/" in message["List-Unsubscribe"]
