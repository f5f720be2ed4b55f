"""The outbox, told as the hub's mail going out to a real SMTP server (aiosmtpd).

Every message is queued in a transaction and sent after it commits; a temporary
refusal is tried again later, a permanent one recorded; running the sender twice, or
in several threads at once, sends each message once.
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from diplohub.lib.testing import mail_to_smtp
from diplohub.mailing import services
from diplohub.mailing.models import EmailStatus, OutboundEmail
from diplohub.mailing.services import Rendered, renderer


@renderer("tests.note")
def _note(email: OutboundEmail) -> Rendered | None:
    if email.params.get("gone"):
        return None
    return Rendered(
        subject=email.params.get("subject", "A note"),
        text="Plain words.",
        html="<p>Rich words.</p>",
        headers=email.params.get("headers", {}),
    )


def _queue(to: str = "kenji@mission.example", **params) -> OutboundEmail:  # type: ignore[no-untyped-def]
    email = services.email_enqueue(kind="tests.note", to=to, language="en", params=params)
    assert email is not None
    return email


@pytest.mark.django_db
class TestSending:
    def test_it_sends_a_message_once_the_transaction_commits(
        self, smtp_server, django_capture_on_commit_callbacks, settings
    ):
        with mail_to_smtp(smtp_server), django_capture_on_commit_callbacks(execute=True):
            email = services.email_enqueue(
                kind="mailing.message",
                to="kenji@mission.example",
                language="en",
                params={"subject": "Welcome", "text": "First line.\n\nSecond <b>line</b>."},
            )
            assert smtp_server.messages == []  # not before the commit
        (message,) = smtp_server.messages
        email.refresh_from_db()
        assert email.status == EmailStatus.SENT
        assert email.sent_at is not None and email.attempts == 1
        assert message["Message-ID"] == email.message_id
        assert message["Subject"] == "Welcome"
        assert message["From"] == settings.DEFAULT_FROM_EMAIL
        assert message["Reply-To"] == settings.HUB_CONTACT_EMAIL
        assert message["To"] == "kenji@mission.example"
        assert message["Date"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "First line." in text and settings.SITE_URL in text
        assert "Second &lt;b&gt;line&lt;/b&gt;." in html  # the text is escaped in HTML
        assert "<html" in html and settings.HUB_NAME.replace("&", "&amp;") in html

    def test_nothing_is_sent_when_the_transaction_rolls_back(
        self, smtp_server, django_capture_on_commit_callbacks
    ):
        class Refused(Exception):
            pass

        with (
            mail_to_smtp(smtp_server),
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(Refused),
            transaction.atomic(),
        ):
            _queue()
            raise Refused
        assert OutboundEmail.objects.count() == 0
        assert smtp_server.messages == []

    def test_sending_again_sends_nothing_twice(self, smtp_server):
        email = _queue()
        with mail_to_smtp(smtp_server):
            first = services.emails_send(pks=[email.pk])
            second = services.emails_send(pks=[email.pk])
            services.emails_send_due()
        assert (first.sent, second.sent) == (1, 0)
        assert len(smtp_server.messages) == 1

    def test_a_key_queues_one_message_however_often_it_is_asked_for(self):
        one = services.email_enqueue(
            kind="tests.note", to="a@example.org", language="en", params={}, key="reminder:7"
        )
        two = services.email_enqueue(
            kind="tests.note", to="a@example.org", language="en", params={}, key="reminder:7"
        )
        assert one == two
        assert OutboundEmail.objects.count() == 1

    def test_no_address_no_message(self):
        assert services.email_enqueue(kind="tests.note", to="  ", language="en", params={}) is None

    def test_an_unknown_kind_is_refused_when_queued(self):
        with pytest.raises(ValueError, match="No renderer"):
            services.email_enqueue(kind="tests.nothing", to="a@b.org", language="en", params={})

    def test_a_temporary_refusal_is_tried_again_later(self, smtp_server, settings):
        settings.MAIL_RETRY_SECONDS = 60
        smtp_server.replies = ["451 4.3.0 Mailbox busy, try again later"]
        email = _queue()
        with mail_to_smtp(smtp_server):
            report = services.emails_send(pks=[email.pk])
            email.refresh_from_db()
            assert report.retry == 1
            assert email.status == EmailStatus.QUEUED
            assert "451" in email.last_error
            assert email.not_before > timezone.now() + datetime.timedelta(seconds=50)
            assert services.emails_send_due().sent == 0  # not due yet
            OutboundEmail.objects.filter(pk=email.pk).update(not_before=timezone.now())
            assert services.emails_send_due().sent == 1
        email.refresh_from_db()
        assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 2, "")
        assert len(smtp_server.messages) == 1

    def test_a_permanent_refusal_is_recorded_and_not_tried_again(self, smtp_server):
        smtp_server.replies = ["550 5.1.1 No such mailbox here"]
        email = _queue(to="nobody@mission.example")
        with mail_to_smtp(smtp_server):
            report = services.emails_send(pks=[email.pk])
            assert services.emails_send_due().sent == 0
        email.refresh_from_db()
        assert report.failed == 1
        assert email.status == EmailStatus.FAILED
        assert email.last_error.startswith("550 5.1.1 No such mailbox")

    def test_it_gives_up_after_the_last_attempt(self, smtp_server, settings):
        settings.MAIL_MAX_ATTEMPTS = 2
        smtp_server.replies = ["421 4.7.0 Too busy", "421 4.7.0 Still too busy"]
        email = _queue()
        with mail_to_smtp(smtp_server):
            services.emails_send(pks=[email.pk])
            OutboundEmail.objects.filter(pk=email.pk).update(not_before=timezone.now())
            services.emails_send(pks=[email.pk])
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.FAILED, 2)
        assert "Still too busy" in email.last_error

    def test_a_server_that_does_not_answer_is_a_temporary_failure(self, settings):
        email = _queue()
        closed_port = 9  # discard: nothing listens there on this machine
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=closed_port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_TIMEOUT=2,
        ):
            report = services.emails_send(pks=[email.pk])
        email.refresh_from_db()
        assert report.retry == 1
        assert email.status == EmailStatus.QUEUED
        assert "ConnectionRefusedError" in email.last_error

    def test_a_message_no_longer_needed_is_not_sent(self, smtp_server):
        email = _queue(gone=True)
        with mail_to_smtp(smtp_server):
            assert services.emails_send(pks=[email.pk]).skipped == 1
        email.refresh_from_db()
        assert email.status == EmailStatus.SKIPPED
        assert smtp_server.messages == []

    def test_a_line_break_in_a_subject_cannot_add_a_header(self, smtp_server):
        email = _queue(subject="Hello\r\nBcc: everyone@example.org")
        with mail_to_smtp(smtp_server):
            services.emails_send(pks=[email.pk])
        (message,) = smtp_server.messages
        assert message["Subject"] == "Hello Bcc: everyone@example.org"
        assert message["Bcc"] is None
        assert smtp_server.received[0].rcpt_tos == ["kenji@mission.example"]

    def test_a_header_with_a_line_break_is_refused_with_a_reason(self, smtp_server):
        email = _queue(headers={"X-Campaign": "spring\nBcc: everyone@example.org"})
        with mail_to_smtp(smtp_server):
            assert services.emails_send(pks=[email.pk]).failed == 1
        email.refresh_from_db()
        assert email.status == EmailStatus.FAILED
        assert "newlines" in email.last_error.lower() or "header" in email.last_error.lower()
        assert smtp_server.messages == []

    def test_a_row_left_sending_by_a_dead_worker_is_taken_over_after_its_lease(self, smtp_server):
        email = _queue()
        soon = timezone.now() + datetime.timedelta(minutes=5)
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=EmailStatus.SENDING, claimed_until=soon, attempts=1
        )
        with mail_to_smtp(smtp_server):
            assert services.emails_send_due().sent == 0  # its worker may still be at it
            OutboundEmail.objects.filter(pk=email.pk).update(
                claimed_until=timezone.now() - datetime.timedelta(seconds=1)
            )
            assert services.emails_send_due().sent == 1
        assert smtp_server.message_ids() == [email.message_id]

    def test_staff_send_a_failed_message_again(
        self, smtp_server, django_capture_on_commit_callbacks
    ):
        email = _queue()
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=EmailStatus.FAILED, attempts=8, last_error="550 gone"
        )
        with mail_to_smtp(smtp_server), django_capture_on_commit_callbacks(execute=True):
            services.email_retry(email=email)
        email.refresh_from_db()
        assert email.status == EmailStatus.SENT
        assert len(smtp_server.messages) == 1

    def test_one_transaction_asks_for_one_task_per_batch(
        self, smtp_server, django_capture_on_commit_callbacks, settings
    ):
        settings.MAIL_BATCH_SIZE = 10
        with mail_to_smtp(smtp_server), django_capture_on_commit_callbacks(execute=True):
            for number in range(25):
                _queue(to=f"person{number}@example.org")
        assert len(smtp_server.messages) == 25


def queued_rows(count: int, kind: str = "tests.note") -> list[OutboundEmail]:
    """Rows as email_enqueue writes them, but with no send task asked for (as if the
    tasks were lost), so that only the senders under test send them."""
    return OutboundEmail.objects.bulk_create(
        OutboundEmail(
            key=f"test:{number}",
            kind=kind,
            params={"subject": f"Message {number}", "text": "Hello."},
            to=f"person{number}@example.org",
            language="en",
            message_id=f"<test-{number}@hub.example.org>",
        )
        for number in range(count)
    )


@pytest.mark.django_db(transaction=True)
def test_senders_in_parallel_send_every_message_exactly_once(smtp_server):
    """Four threads sweep the same 120 messages at once (each its own database
    connection): each message reaches the server once."""
    emails = queued_rows(120)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweep() -> None:
        from django.db import connection

        try:
            start.wait()
            services.emails_send_due()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    with mail_to_smtp(smtp_server):
        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    received = Counter(smtp_server.message_ids())
    assert set(received) == {email.message_id for email in emails}
    assert max(received.values()) == 1
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db
def test_the_claim_takes_exactly_the_rows_due_says_are_claimable():
    """The claim is written in SQL for speed; it must mean what due() means."""
    now = timezone.now()
    minute = datetime.timedelta(minutes=1)
    cases = {
        "queued, due": {"status": EmailStatus.QUEUED, "not_before": now - minute},
        "queued, later": {"status": EmailStatus.QUEUED, "not_before": now + minute},
        "sending, lease running": {"status": EmailStatus.SENDING, "claimed_until": now + minute},
        "sending, lease over": {"status": EmailStatus.SENDING, "claimed_until": now - minute},
        "sent": {"status": EmailStatus.SENT},
        "failed": {"status": EmailStatus.FAILED},
        "skipped": {"status": EmailStatus.SKIPPED},
    }
    rows = {}
    for number, (case, fields) in enumerate(cases.items()):
        rows[case] = OutboundEmail.objects.create(
            key=f"case:{number}",
            kind="tests.note",
            to="a@example.org",
            language="en",
            message_id=f"<case-{number}@hub.example.org>",
            **fields,
        )
    due = set(OutboundEmail.objects.due(now).values_list("pk", flat=True))
    claimed = {case for case, row in rows.items() if services._claim(row, now)}
    assert claimed == {case for case, row in rows.items() if row.pk in due}
    assert claimed == {"queued, due", "sending, lease over"}
    # A row changed by someone else since it was read (attempts moved on) is left alone.
    stale = OutboundEmail.objects.get(pk=rows["queued, due"].pk)
    OutboundEmail.objects.filter(pk=stale.pk).update(status=EmailStatus.QUEUED)
    stale.attempts = 0
    assert services._claim(stale, now) is False
