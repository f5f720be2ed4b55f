"""A campaign sent by real `diplohub worker` processes to a real SMTP server, counted in
the server's log: every recipient gets it exactly once.

The first story: the spring newsletter goes to 60 subscribers; the worker sending it is
killed (SIGKILL) in the middle of the 25th message, a new worker starts, and the
message the dead one held is sent once its lease runs out. The second: two workers
share a campaign of 120 recipients whose send tasks were all asked for twice. The
third: someone unsubscribes after the campaign was queued and before the workers
start; they get nothing, everyone else gets it once.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter

import pytest
from django.test import override_settings

from diplohub.mailing import services
from diplohub.mailing.models import Campaign, CampaignStatus, EmailStatus, OutboundEmail
from diplohub.mailing.tasks import send_emails
from diplohub.mailing.tests.campaign_stories import spring, subscribe
from diplohub.mailing.tests.test_worker import DB_TASKS, settle, start_worker, stop

pytestmark = pytest.mark.django_db(transaction=True)


def subscribers(count: int) -> list[str]:
    addresses = [f"reader{number:03}@network.example" for number in range(count)]
    for number, address in enumerate(addresses):
        subscribe(address, language=("en", "ca", "es")[number % 3])
    return addresses


def queue(campaign: Campaign) -> int:
    """Queue the campaign with the database task backend, as the pages do in production."""
    with override_settings(TASKS=DB_TASKS):
        return services.campaign_queue(campaign=campaign)


def received_by(smtp_server) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(address for mail in smtp_server.received for address in mail.rcpt_tos)


def assert_each_once(smtp_server, addresses: list[str], message_ids: Counter[str]) -> None:  # type: ignore[no-untyped-def]
    recipients = received_by(smtp_server)
    assert set(recipients) == set(addresses), set(addresses) ^ set(recipients)
    assert max(recipients.values()) == 1, [a for a, n in recipients.items() if n > 1]
    assert max(message_ids.values()) == 1
    rows = OutboundEmail.objects.filter(campaign__isnull=False, to__in=addresses)
    assert set(message_ids) == set(rows.values_list("message_id", flat=True))


def test_a_worker_killed_mid_campaign_and_a_new_one_send_each_message_once(smtp_server):
    addresses = subscribers(60)
    campaign = spring()
    workers: list[subprocess.Popen[bytes]] = []
    seen: list[str] = []

    def kill_in_the_middle_of_the_25th(address: str) -> None:
        seen.append(address)
        if len(seen) == 25:
            os.kill(workers[0].pid, signal.SIGKILL)

    smtp_server.on_rcpt = kill_in_the_middle_of_the_25th
    assert queue(campaign) == 60
    try:
        workers.append(start_worker(smtp_server, "first", housekeeping=0))
        assert workers[0].wait(timeout=120) == -signal.SIGKILL
        smtp_server.on_rcpt = None
        assert len(smtp_server.messages) == 24  # the 25th was cut off before its data
        held = OutboundEmail.objects.filter(status=EmailStatus.SENDING).count()
        assert held == 1  # the dead worker's claim, until its lease runs out

        workers.append(start_worker(smtp_server, "second"))
        message_ids = settle(smtp_server, 60)
    finally:
        for worker in workers:
            stop(worker)

    assert_each_once(smtp_server, addresses, message_ids)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert Campaign.objects.get().status == CampaignStatus.SENT


def test_two_workers_on_one_campaign_send_each_message_once(smtp_server):
    addresses = subscribers(120)
    campaign = spring()
    assert queue(campaign) == 120
    # Every message asked for a second time, by other tasks of other sizes.
    rows = list(OutboundEmail.objects.order_by("-pk").values_list("pk", flat=True))
    with override_settings(TASKS=DB_TASKS):
        for start in range(0, len(rows), 7):
            send_emails.enqueue(rows[start : start + 7])
    workers = [start_worker(smtp_server, "left"), start_worker(smtp_server, "right")]
    try:
        message_ids = settle(smtp_server, 120)
    finally:
        for worker in workers:
            stop(worker)
    assert_each_once(smtp_server, addresses, message_ids)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert Campaign.objects.get().status == CampaignStatus.SENT


def test_someone_who_leaves_before_the_workers_reach_them_gets_nothing(smtp_server):
    addresses = subscribers(30)
    campaign = spring()
    assert queue(campaign) == 30
    services.subscriber_unsubscribe(email=addresses[7], source="test")
    workers = [start_worker(smtp_server, "left"), start_worker(smtp_server, "right")]
    try:
        message_ids = settle(smtp_server, 29)
    finally:
        for worker in workers:
            stop(worker)
    assert_each_once(smtp_server, [a for a in addresses if a != addresses[7]], message_ids)
    assert OutboundEmail.objects.get(to=addresses[7]).status == EmailStatus.SKIPPED
