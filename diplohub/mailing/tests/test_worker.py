"""`diplohub worker` processes, really started, really killed, against a real SMTP server.

The story: the hub queues 40 messages and their send tasks. A worker starts sending
and is killed (SIGKILL, no chance to clean up) in the middle of the 12th message. A
new worker starts, the send tasks are enqueued again (a retry), and the new worker's
housekeeping takes over the message the dead one held once its lease runs out. The
SMTP server's log then holds each of the 40 messages exactly once. Then two workers
share a queue of 80 messages: again, each arrives once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from diplohub.mailing.models import EmailStatus, OutboundEmail
from diplohub.mailing.tasks import send_emails
from diplohub.mailing.tests.test_outbox import queued_rows

ROOT = Path(__file__).resolve().parents[3]
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def start_worker(smtp_server, name: str, housekeeping: float = 0.5) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "EMAIL_URL": f"smtp://{smtp_server.host}:{smtp_server.port}",
        "DIPLOHUB_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "DIPLOHUB_MAIL_LEASE_SECONDS": "2",
        "DIPLOHUB_MAIL_BATCH_SIZE": "10",
    }
    command = [
        sys.executable,
        "-c",
        "from diplohub.manage import main; main()",
        "worker",
        "--interval=0.1",
        "--no-startup-delay",
        f"--housekeeping-interval={housekeeping}",
        f"--worker-id={name}",
        "--verbosity=0",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if it hangs
            worker.kill()
            worker.wait()


def enqueue_tasks(rows: list[OutboundEmail], batch: int = 10) -> None:
    with override_settings(TASKS=DB_TASKS):
        for start in range(0, len(rows), batch):
            send_emails.enqueue([row.pk for row in rows[start : start + batch]])


def settle(smtp_server, count: int) -> Counter[str]:  # type: ignore[no-untyped-def]
    """Wait for `count` messages, then a little longer, so that a duplicate on its way
    would arrive too; the Message-IDs the server received, counted."""
    smtp_server.wait_for(count, timeout=60)
    time.sleep(1.5)
    return Counter(smtp_server.message_ids())


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_and_a_retried_task_send_each_message_once(smtp_server):
    rows = queued_rows(40, kind="mailing.message")
    workers: list[subprocess.Popen[bytes]] = []
    seen: list[str] = []

    def kill_in_the_middle_of_the_twelfth(address: str) -> None:
        seen.append(address)
        if len(seen) == 12:
            os.kill(workers[0].pid, signal.SIGKILL)

    smtp_server.on_rcpt = kill_in_the_middle_of_the_twelfth
    enqueue_tasks(rows)
    try:
        # Tasks only (no housekeeping thread), so that one message is in flight.
        workers.append(start_worker(smtp_server, "first", housekeeping=0))
        assert workers[0].wait(timeout=60) == -signal.SIGKILL
        smtp_server.on_rcpt = None
        sent_before = len(smtp_server.messages)
        assert sent_before == 11  # the 12th message was cut off before its data
        held = OutboundEmail.objects.filter(status=EmailStatus.SENDING).count()
        assert held == 1  # the dead worker's claim, until its lease runs out

        enqueue_tasks(rows)  # the tasks are retried
        workers.append(start_worker(smtp_server, "second"))
        received = settle(smtp_server, 40)
    finally:
        for worker in workers:
            stop(worker)

    assert set(received) == {row.message_id for row in rows}
    assert max(received.values()) == 1, [mid for mid, n in received.items() if n > 1]
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_once(smtp_server):
    rows = queued_rows(80, kind="mailing.message")
    enqueue_tasks(rows)
    enqueue_tasks(rows)  # every message asked for twice, by two tasks
    workers = [start_worker(smtp_server, "left"), start_worker(smtp_server, "right")]
    try:
        received = settle(smtp_server, 80)
    finally:
        for worker in workers:
            stop(worker)
    assert set(received) == {row.message_id for row in rows}
    assert max(received.values()) == 1
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
