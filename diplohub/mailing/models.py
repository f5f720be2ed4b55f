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

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from diplohub.directory.models import Person, Topic


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", pgettext_lazy("e-mail", "Sent")
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
    # Set for a newsletter's messages: its progress is counted from these rows.
    campaign = models.ForeignKey(
        "Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "not_before"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to} ({self.status})"


# --- Policies, subscribers and the consent ledger ----------------------------------


class PolicyKind(models.TextChoices):
    PRIVACY = "privacy", _("Privacy policy")
    TERMS = "terms", _("Terms of service")


class PolicyDocumentQuerySet(models.QuerySet["PolicyDocument"]):
    def published(self) -> PolicyDocumentQuerySet:
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())

    def current(self, kind: str) -> PolicyDocument | None:
        """The version of `kind` people agree to today."""
        return self.published().filter(kind=kind).order_by("-version").first()


class PolicyDocument(models.Model):
    """One version of the privacy policy or the terms. A published version is never
    changed: a new text is a new version, and every consent names the version the
    person agreed to."""

    kind = models.CharField(_("document"), max_length=10, choices=PolicyKind.choices)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    published_at = models.DateTimeField(
        _("in force from"),
        null=True,
        blank=True,
        help_text=_("Empty while it is a draft. Once published, the text can no longer change."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PolicyDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("policy document")
        verbose_name_plural = _("policy documents")
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="one_policy_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse(
            "mailing:policy-version", kwargs={"kind": self.kind, "version": self.version}
        )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Purpose(models.TextChoices):
    """What a person agrees to; one ledger for all of them."""

    NEWSLETTER = "newsletter", _("The newsletter")
    EVENTS = "events", _("Event communications")
    ATTENDEE_LISTS = "attendee_lists", _("Appearing on attendee lists")


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    ACTIVE = "active", _("Subscribed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class SubscriberQuerySet(models.QuerySet["Subscriber"]):
    def with_address(self, email: str) -> SubscriberQuerySet:
        """The subscriber with this address, whatever its case (the unique index's
        expression, so the index answers)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.strip().lower())

    def reachable(self) -> SubscriberQuerySet:
        """Those a newsletter may be sent to: confirmed, wanting the newsletter, and
        whose latest newsletter row in the ledger is a grant. An unsubscribed address
        stays out until the person opts in again with fresh consent."""
        latest = (
            Consent.objects.filter(email=Lower(OuterRef("email")), purpose=Purpose.NEWSLETTER)
            .order_by("-at", "-pk")
            .values("granted")[:1]
        )
        return (
            self.filter(status=SubscriberStatus.ACTIVE, wants_newsletter=True)
            .alias(standing_newsletter=Subquery(latest))
            .filter(standing_newsletter=True)
        )


class Subscriber(models.Model):
    """Someone on the hub's mailing list: from the sign-up form (after confirming their
    address), or a directory member who agreed to the newsletter.

    The address is stored normalised (email-validator) and unique whatever its case,
    so the same person signing up twice is one subscriber."""

    email = models.EmailField(_("e-mail"), max_length=254)
    first_name = models.CharField(_("first name"), max_length=120, blank=True)
    last_name = models.CharField(_("last name"), max_length=120, blank=True)
    organization_name = models.CharField(_("organisation"), max_length=255, blank=True)
    country = CountryField(_("country"), blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    topics = models.ManyToManyField(
        Topic, verbose_name=_("topics of interest"), blank=True, related_name="subscribers"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    # Which kinds of mail they want (the preference centre); sending also needs the
    # standing consent in the ledger.
    wants_newsletter = models.BooleanField(_("the newsletter"), default=True)
    wants_events = models.BooleanField(_("invitations and news of events"), default=True)
    person = models.ForeignKey(
        Person,
        verbose_name=_("directory entry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriptions",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=SubscriberStatus.choices,
        default=SubscriberStatus.PENDING,
    )
    source = models.CharField(_("signed up through"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("signed up"), auto_now_add=True)
    request_ip_hash = models.CharField(max_length=64, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmation_ip_hash = models.CharField(max_length=64, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="one_subscriber_per_address"),
        ]
        indexes = [models.Index(fields=["status", "language"], name="subscriber_status")]

    def __str__(self) -> str:
        return self.email

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def ledger_address(email: str) -> str:
    """How an address is written in the ledger: lower case, so that one person's rows
    are found together whatever case each form was typed in."""
    return email.strip().lower()


class ConsentQuerySet(models.QuerySet["Consent"]):
    def of_address(self, email: str) -> ConsentQuerySet:
        return self.filter(email=ledger_address(email))

    def standing(self, *, email: str, purpose: str) -> bool | None:
        """Whether the latest row of the ledger for `email` and `purpose` is a grant
        (None: the ledger has no row for them)."""
        return (
            self.of_address(email)
            .filter(purpose=purpose)
            .order_by("-at", "-pk")
            .values_list("granted", flat=True)
            .first()
        )


class Consent(models.Model):
    """The consent ledger: one row per grant or withdrawal, never changed afterwards.

    Who (the address, and the subscriber or directory entry it belonged to), what (the
    purpose), under which versions of the policy and the terms, when, through which
    form, and a salted hash of the address the request came from. For a double opt-in
    the row is written when the address is confirmed, and keeps both moments: the
    request (requested_at, request_ip_hash) and the confirmation (at, ip_hash)."""

    email = models.EmailField(_("e-mail"), max_length=254, db_index=True)
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="consents"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    granted = models.BooleanField(_("granted"), help_text=_("Unticked: the consent was withdrawn."))
    privacy_policy = models.ForeignKey(
        PolicyDocument,
        verbose_name=_("privacy policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    terms = models.ForeignKey(
        PolicyDocument,
        verbose_name=_("terms of service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("through"), max_length=40)
    at = models.DateTimeField(_("when"), default=timezone.now)
    ip_hash = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    request_ip_hash = models.CharField(max_length=64, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The staff member who recorded it, when it was not the person."),
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consent ledger")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["email", "purpose", "at"], name="consent_standing")]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrew"
        return f"{self.email} {verb} {self.purpose} ({self.at:%Y-%m-%d})"


class Erasure(models.Model):
    """The record that a person's data was erased: not who (that is what was erased),
    but a salted hash of the address, what was removed, when and by whom."""

    email_hash = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.JSONField(default=dict, help_text=_("How many rows of each kind."))

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"erasure {self.at:%Y-%m-%d %H:%M}"


# --- Campaigns ---------------------------------------------------------------------


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", pgettext_lazy("campaign", "Sent")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def archived(self) -> CampaignQuerySet:
        """The public archive: newsletters meant to be shown, from the moment they
        start going out (their messages link their page), not stopped ones."""
        return self.filter(
            status__in=(CampaignStatus.SENDING, CampaignStatus.SENT),
            in_archive=True,
            started_at__isnull=False,
        )

    def with_counts(self) -> CampaignQuerySet:
        """Each campaign's messages counted by status, in the same query (see
        Campaign.progress)."""
        return self.annotate(
            **{
                f"emails_{status}": models.Count("emails", filter=Q(emails__status=status))
                for status in EmailStatus.values
            }
        )


class Campaign(models.Model):
    """A newsletter: written in Markdown in one or more languages (each subscriber gets
    theirs, else the hub's default), sent to a segment of the consenting subscribers,
    one outbox row per recipient."""

    slug = models.SlugField(max_length=120, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    # The segment (mailing.audience.Audience): {"topics": [slugs], "countries": [codes],
    # "kinds": [organisation kinds], "languages": [codes], "groups": ["subscribers",
    # "members"]}; an empty list means any, an empty segment everyone.
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    scheduled_for = models.DateTimeField(_("send at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    in_archive = models.BooleanField(
        _("show in the public archive"), default=True, help_text=_("Once it has been sent.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("mailing:newsletter", kwargs={"slug": self.slug})

    def text_in(self, language: str) -> tuple[str, str]:
        """Subject and Markdown body in `language`, as written (empty if not)."""
        subject = getattr(self, f"subject_{language}", None) or ""
        body = getattr(self, f"body_{language}", None) or ""
        return subject.strip(), body.strip()

    @property
    def languages(self) -> list[str]:
        """The languages it is written in (subject and body), the default first."""
        codes = [code for code, _name in settings.LANGUAGES]
        codes.sort(key=lambda code: code != settings.LANGUAGE_CODE)
        return [code for code in codes if all(self.text_in(code))]

    def language_for(self, wanted: str) -> str:
        """What a reader of `wanted` gets: that language if it is written, else the
        hub's default (modeltranslation's fallback, for the subject and body together)."""
        return wanted if wanted in self.languages else settings.LANGUAGE_CODE

    @property
    def is_editable(self) -> bool:
        return self.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)

    def progress(self) -> dict[str, int]:
        """Its messages by status (EmailStatus values), with `total` and `done` (sent,
        failed or skipped): from with_counts() if the row came with them."""
        if hasattr(self, "emails_queued"):
            counts = {status: getattr(self, f"emails_{status}") for status in EmailStatus.values}
        else:
            counts = dict.fromkeys(EmailStatus.values, 0)
            by_status = self.emails.order_by().values_list("status").annotate(n=models.Count("pk"))
            counts.update(dict(by_status.values_list("status", "n")))
        counts["total"] = sum(counts.values())
        finished = (EmailStatus.SENT, EmailStatus.FAILED, EmailStatus.SKIPPED)
        counts["done"] = sum(counts[status] for status in finished)
        return counts
