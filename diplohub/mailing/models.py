"""The outbox: every e-mail the hub sends is first a row here.

A workflow writes its messages in the same transaction as the change they announce
(a registration, an invitation), so a message exists exactly when its change does; a
background task sends it after the commit. The row, not the task, is the unit of
work: a worker claims a row with a conditional UPDATE before talking to the SMTP
server and marks it sent after the server accepted it, so two workers never send the
same row and a retried task finds nothing left to do (see services.emails_send).
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("No longer needed")


class OutboundEmailQuerySet(models.QuerySet["OutboundEmail"]):
    def due(self, now: datetime.datetime | None = None) -> OutboundEmailQuerySet:
        """Rows a worker may claim: queued and due, or claimed by a worker whose lease
        ran out (it died mid-send)."""
        now = now or timezone.now()
        return self.filter(
            Q(status=EmailStatus.QUEUED, not_before__lte=now)
            | Q(status=EmailStatus.SENDING, claimed_until__lt=now)
        )


class OutboundEmail(models.Model):
    # Unique per message: callers that may ask twice for the same message (a reminder
    # button pressed twice, a campaign queued again) pass a key that says which.
    key = models.CharField(max_length=200, unique=True)
    # Which renderer builds the message at send time, and what it needs (ids).
    kind = models.CharField(_("kind"), max_length=80)
    params = models.JSONField(default=dict, blank=True)
    to = models.EmailField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=8)
    # Chosen once, so a message sent again after a crash carries the same Message-ID.
    message_id = models.CharField(max_length=200, unique=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    not_before = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mail")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "not_before"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to} ({self.status})"
