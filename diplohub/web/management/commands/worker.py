"""`diplohub worker`: the background task worker, with the hub's housekeeping.

It is django-tasks-db's `db_worker` (same options), plus a thread that runs the
periodic jobs below when the worker starts and then every --housekeeping-interval
seconds. Each job is safe to run twice and in several workers at once, so any
number of workers may run; no cron is needed.
"""

from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

logger = logging.getLogger("diplohub.worker")

JOBS = (
    # Messages whose task was lost, retries after a temporary SMTP failure, and rows
    # left 'sending' by a worker that died.
    "diplohub.mailing.services.emails_send_due",
    # Scheduled campaigns whose time has come are queued; finished ones marked sent.
    "diplohub.mailing.services.campaigns_start_due",
    # Seats offered from the waitlist and not confirmed in time go to the next person.
    "diplohub.events.services.registrations_release_expired_offers",
    # A reminder to the people holding a seat, a day (DIPLOHUB_EVENT_REMINDER_HOURS) before.
    "diplohub.events.services.registrations_remind_upcoming",
    # The venue's ID-check notes are not kept after the event.
    "diplohub.events.services.registrations_purge_security_notes",
    # Sign-ups whose address was not confirmed within DIPLOHUB_SIGNUP_PENDING_DAYS.
    "diplohub.mailing.services.subscribers_purge_unconfirmed",
    # Similar initiatives of the initiatives changed since (similar_computed_at cleared),
    # and of those whose list names one no longer published.
    "diplohub.knowledge.services.similar_refresh_due",
)


def run_jobs() -> None:
    for path in JOBS:
        try:
            import_string(path)()
        except Exception:
            logger.exception("Housekeeping job %s failed; it runs again next time", path)
    connections.close_all()


def _housekeeping(interval: float, stop: threading.Event) -> None:
    while True:
        run_jobs()
        if stop.wait(interval):
            return


class Command(DbWorkerCommand):
    help = "Run background tasks (e-mail…) and the hub's periodic housekeeping"

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--housekeeping-interval",
            type=float,
            default=settings.HOUSEKEEPING_SECONDS,
            help="Seconds between housekeeping runs; 0 turns it off (default: %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        housekeeping_interval: float = options.pop("housekeeping_interval")
        stop = threading.Event()
        thread = None
        if housekeeping_interval > 0:
            thread = threading.Thread(
                target=_housekeeping,
                args=(housekeeping_interval, stop),
                name="housekeeping",
                daemon=True,
            )
            thread.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
            if thread is not None:
                # Let a send in progress finish, so its rows are not left 'sending'.
                thread.join(timeout=60)
