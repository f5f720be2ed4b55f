"""The Circle programme: events, their agenda, invitations, registrations and feedback.

Seats are the scarce thing. An event has a capacity and, optionally, a quota of seats
per organisation (e.g. at most 2 per mission). Registrations beyond either limit wait
in a single ordered waitlist; when a seat frees up, the first waiting person whose
organisation is under its quota is promoted (services.registration_promote_waiting).
All changes to registrations go through services.py, one transaction each, with the
event row locked, so the invariants hold under parallel requests.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from diplohub.directory.models import Organization, Person

# Addresses under /programme/ that an event's slug would hide.
RESERVED_SLUGS = frozenset({"mine", "feeds", "invitations", "r"})


def validate_event_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("'%(slug)s' is the address of another page; choose another slug."),
            params={"slug": value},
        )


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Series(models.Model):
    """A recurring programme, e.g. "Diplomatic Circle" with numbered editions."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    VISIT = "visit", _("Institutional visit")
    ENCOUNTER = "encounter", _("Encounter")
    BRIEFING = "briefing", _("Policy briefing")
    THEMATIC = "thematic", _("Thematic event")
    WORKING_GROUP = "working_group", _("Working-group meeting")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    MEMBERS = "members", _("Members only")
    INVITATION = "invitation", _("Invitation only")


class EventStatus(models.TextChoices):
    """Stored states; "past" is derived from the end time (Event.is_past)."""

    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


class EventQuerySet(models.QuerySet["Event"]):
    def published(self) -> EventQuerySet:
        return self.filter(status__in=(EventStatus.PUBLISHED, EventStatus.CANCELLED))

    def public(self) -> EventQuerySet:
        return self.published().filter(visibility=Visibility.PUBLIC)

    def upcoming(self) -> EventQuerySet:
        return self.filter(end__gte=timezone.now()).order_by("start", "pk")

    def past(self) -> EventQuerySet:
        return self.filter(end__lt=timezone.now()).order_by("-start", "-pk")


class Event(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(max_length=120, unique=True, validators=[validate_event_slug])
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    description = models.TextField(_("description (Markdown)"), blank=True)
    series = models.ForeignKey(
        Series,
        verbose_name=_("series"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    edition = models.PositiveSmallIntegerField(_("edition"), null=True, blank=True)
    host = models.ForeignKey(
        Organization,
        verbose_name=_("host"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hosted_events",
    )
    co_organisers = models.ManyToManyField(
        Organization,
        verbose_name=_("jointly organised by"),
        blank=True,
        related_name="co_organised_events",
    )
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))
    languages = models.JSONField(
        _("languages spoken"),
        default=list,
        blank=True,
        help_text=_("ISO 639-1 codes, e.g. ['en', 'es']."),
    )
    practical_notes = models.TextField(
        _("practical notes"),
        blank=True,
        help_text=_("Security check at the venue, accessibility, dress code…"),
    )
    visibility = models.CharField(
        _("visibility"), max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    status = models.CharField(
        _("status"), max_length=12, choices=EventStatus.choices, default=EventStatus.DRAFT
    )
    capacity = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1)])
    quota_per_organization = models.PositiveSmallIntegerField(
        _("seats per organisation"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Empty: no limit per organisation."),
    )
    registration_opens = models.DateTimeField(_("registration opens"), null=True, blank=True)
    registration_closes = models.DateTimeField(_("registration closes"), null=True, blank=True)
    cancellation_deadline = models.DateTimeField(_("cancellation deadline"), null=True, blank=True)
    promotion_hours = models.PositiveSmallIntegerField(
        _("hours to confirm a seat offered from the waitlist"),
        default=48,
    )
    # iCalendar identity: a UID that never changes, a SEQUENCE bumped on every change.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="event_ends_after_it_starts"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", kwargs={"slug": self.slug})

    @property
    def is_past(self) -> bool:
        return self.end < timezone.now()

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    def registration_is_open(self, now=None) -> bool:  # type: ignore[no-untyped-def]
        now = now or timezone.now()
        if self.status != EventStatus.PUBLISHED or now >= self.start:
            return False
        if self.registration_opens and now < self.registration_opens:
            return False
        return not (self.registration_closes and now >= self.registration_closes)


class AgendaItem(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="agenda")
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    speakers = models.ManyToManyField(
        Person, verbose_name=_("speakers"), blank=True, related_name="agenda_items"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda")
        ordering = ["event", "starts_at", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.starts_at:%H:%M} {self.title}"


class InvitationStatus(models.TextChoices):
    INVITED = "invited", _("No answer yet")
    REGISTERED = "registered", _("Registered")
    DECLINED = "declined", _("Declined")


class Invitation(models.Model):
    """A personal invitation; its token lets the person answer without a password."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="invitations")
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
        help_text=_("The mission the person was invited for."),
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    status = models.CharField(
        max_length=12, choices=InvitationStatus.choices, default=InvitationStatus.INVITED
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(fields=["event", "person"], name="one_invitation_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.event}"


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("Waitlisted")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")


# Statuses that hold a seat.
SEATED = (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW)


class RegistrationQuerySet(models.QuerySet["Registration"]):
    def seated(self) -> RegistrationQuerySet:
        return self.filter(status__in=SEATED)

    def waiting(self) -> RegistrationQuerySet:
        return self.filter(status=RegistrationStatus.WAITLISTED).order_by("waitlist_number")


class Registration(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="registrations")
    # The organisation whose seat this is (a mission's quota); kept through substitutions.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="registrations"
    )
    status = models.CharField(max_length=12, choices=RegistrationStatus.choices)
    # A ticket number drawn when joining the waitlist (increasing per event). The
    # position shown to people is its rank among those waiting, so promotions never
    # renumber rows and positions are always 1..n without gaps.
    waitlist_number = models.PositiveIntegerField(null=True, blank=True)
    # Set when a seat is offered from the waitlist: the person confirms before this time.
    confirm_by = models.DateTimeField(null=True, blank=True)
    substitute_for = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The delegate this person replaced."),
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    id_check_note = models.CharField(_("ID-check note"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["event", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "person"], name="one_registration_per_person"),
            models.UniqueConstraint(
                fields=["event", "waitlist_number"], name="one_person_per_waitlist_number"
            ),
            models.CheckConstraint(
                condition=Q(status="waitlisted", waitlist_number__isnull=False)
                | (~Q(status="waitlisted") & Q(waitlist_number__isnull=True)),
                name="waitlist_number_only_while_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.event} ({self.status})"


class Feedback(models.Model):
    registration = models.OneToOneField(
        Registration, on_delete=models.CASCADE, related_name="feedback"
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comments = models.TextField(_("comments"), blank=True, max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")

    def __str__(self) -> str:
        return f"{self.rating}/5 — {self.registration}"


class CalendarFeed(models.Model):
    """A person's private iCalendar feed of the events they are registered for."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.person}'s calendar"
