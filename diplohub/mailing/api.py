"""Mailing endpoints of the API: subscribe (public, the sign-up form's rules and double
opt-in), and for staff the subscribers and the consent ledger.

No `from __future__ import annotations` here: ninja reads the parameter annotations
at import time (see directory/api.py).
"""

import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from diplohub.accounts.api import ApiError, staff_token_auth
from diplohub.accounts.ratelimit import request_ip, too_many_attempts
from diplohub.directory.api import LANGUAGE_CODES, ContentLanguage
from diplohub.directory.models import Topic
from diplohub.lib.pagination import Pages
from diplohub.mailing import services
from diplohub.mailing.forms import SignUpForm
from diplohub.mailing.models import (
    Campaign,
    CampaignStatus,
    Consent,
    ConsentQuerySet,
    EmailStatus,
    OutboundEmail,
    Purpose,
    Subscriber,
    SubscriberStatus,
)

router = Router(tags=["mailing"])

# === Joining the network: subscribe; subscribers and the consent ledger (staff) ======


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut]


STAFF_ERRORS: dict[int, Any] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}


class SubscribeIn(Schema):
    """The sign-up form's fields. Everything is checked by the form's own rules, so a
    wrong value is a 422 naming the field as the form does (not a type error)."""

    email: str = Field("", max_length=1000, description="Validated and normalised as on the form.")
    first_name: str = Field("", max_length=1000)
    last_name: str = Field("", max_length=1000)
    organization: str = Field("", max_length=1000)
    country: str = Field("", max_length=10, description="ISO 3166-1 alpha-2 code, e.g. 'JP'.")
    position: str = Field("", max_length=1000)
    topics: list[str] = Field(default_factory=list, description="Topic slugs, from /topics.")
    language: str = Field(
        "",
        description="Language of the e-mails; without it, the request's language.",
        json_schema_extra={"enum": ["", *LANGUAGE_CODES]},
    )
    events: bool = Field(False, description="Also invitations and news of events.")
    consent: bool = Field(
        False,
        description="The person agrees to the privacy policy and terms in force: must be true.",
    )


class AcceptedOut(Schema):
    detail: str


@router.post(
    "/subscribe",
    response={
        202: AcceptedOut,
        422: ValidationErrorOut,
        429: ErrorOut,
        503: ErrorOut,
    },
    summary="Subscribe to the newsletter (double opt-in)",
)
def subscribe(request: HttpRequest, body: SubscribeIn) -> Status[Any]:
    """The sign-up form's rules: the fields DIPLOHUB_SIGNUP_REQUIRED names are required,
    `consent` must be true, the same rate limit (DIPLOHUB_SIGNUP_RATE, per IP and per
    address). The person gets an e-mail with a link to confirm; the answer is the same
    `202` whether or not the address was subscribed already."""
    if too_many_attempts(request, "mailing.sign-up", body.email[:254], rate=settings.SIGNUP_RATE):
        return Status(429, {"detail": _("Too many sign-ups from here. Wait a few minutes.")})
    topics = dict(Topic.objects.filter(slug__in=body.topics).values_list("slug", "pk"))
    unknown = sorted(set(body.topics) - set(topics))
    data: dict[str, Any] = {
        "email": body.email,
        "first_name": body.first_name,
        "last_name": body.last_name,
        "organization": body.organization,
        "country": body.country,
        "position": body.position,
        "topics": [str(pk) for pk in topics.values()],
        "language": body.language,
        "wants_events": "on" if body.events else "",
        "consent": "on" if body.consent else "",
    }
    form = SignUpForm(data)
    valid = form.is_valid()
    if unknown:
        form.add_error("topics", _("Unknown topics: %(slugs)s.") % {"slugs": ", ".join(unknown)})
    if not valid or unknown:
        problems = [
            {"field": field, "message": str(message)}
            for field, messages in form.errors.items()
            for message in messages
        ]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return Status(422, {"detail": f"Invalid request — {summary}", "errors": problems})
    try:
        services.subscriber_sign_up(
            **form.sign_up_arguments(), source=services.SOURCE_API, ip=request_ip(request)
        )
    except services.SignUpClosed:
        return Status(
            503,
            {
                "detail": _(
                    "Sign-up opens once the hub has published its privacy policy "
                    "and terms of service."
                )
            },
        )
    return Status(
        202,
        {
            "detail": _(
                "If the address can receive mail, we have sent it a link to confirm the "
                "subscription. Nothing else is sent to it until it is confirmed."
            )
        },
    )


# --- Staff ------------------------------------------------------------------------------


class SubscriberOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    organization: str = Field(alias="organization_name")
    country: str
    position: str
    language: str
    topics: list[str] = Field(description="Topic slugs.")
    status: SubscriberStatus
    wants_newsletter: bool
    wants_events: bool
    source: str = Field(description="The form they signed up through: join, join-compact, api…")
    person_id: int | None = Field(description="Their directory entry, if any.")
    created_at: datetime.datetime
    confirmed_at: datetime.datetime | None
    unsubscribed_at: datetime.datetime | None

    @staticmethod
    def resolve_country(obj: Subscriber) -> str:
        return obj.country.code or ""

    @staticmethod
    def resolve_topics(obj: Subscriber) -> list[str]:
        return [topic.slug for topic in obj.topics.all()]


class ConsentOut(Schema):
    id: int
    email: str = Field(description="Lower case; an erased address shows as <hash>@erased.invalid.")
    purpose: Purpose
    granted: bool = Field(description="False: a withdrawal.")
    privacy_policy_version: int | None
    terms_version: int | None
    source: str
    at: datetime.datetime = Field(description="When it took effect (for a sign-up: confirmed).")
    ip_hash: str = Field(description="Salted HMAC-SHA256 of the IP address, never the address.")
    requested_at: datetime.datetime | None = Field(description="A sign-up's request.")
    request_ip_hash: str
    subscriber_id: int | None
    person_id: int | None
    recorded_by: str | None = Field(description="The staff member who recorded it, if any.")

    @staticmethod
    def resolve_privacy_policy_version(obj: Consent) -> int | None:
        return obj.privacy_policy.version if obj.privacy_policy else None

    @staticmethod
    def resolve_terms_version(obj: Consent) -> int | None:
        return obj.terms.version if obj.terms else None

    @staticmethod
    def resolve_recorded_by(obj: Consent) -> str | None:
        return obj.by.get_username() if obj.by else None


class SubscriberFilters(Schema):
    q: str | None = Field(None, max_length=100, description="Part of the address or the name.")
    status: SubscriberStatus | None = None
    language: ContentLanguage | None = Field(None, description="Language of their e-mails.")
    topic: str | None = Field(None, description="A topic slug.")
    country: str | None = Field(None, max_length=2, description="ISO 3166-1 alpha-2 code.")
    reachable: bool | None = Field(
        None, description="true: only those a newsletter would reach today."
    )


@router.get(
    "/subscribers",
    response={200: list[SubscriberOut], **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="Subscribers (staff)",
)
@paginate(Pages)
def subscriber_list(
    request: HttpRequest, filters: Query[SubscriberFilters]
) -> QuerySet[Subscriber]:
    subscribers = Subscriber.objects.prefetch_related("topics").order_by("-created_at", "-pk")
    if filters.reachable:
        subscribers = subscribers.reachable()
    if filters.q:
        for word in filters.q.split():
            subscribers = subscribers.filter(
                Q(email__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
            )
    if filters.status:
        subscribers = subscribers.filter(status=filters.status)
    if filters.language:
        subscribers = subscribers.filter(language=filters.language)
    if filters.topic:
        if not Topic.objects.filter(slug=filters.topic).exists():
            raise ApiError(422, f"No topic has the slug '{filters.topic}'.")
        subscribers = subscribers.filter(topics__slug=filters.topic)
    if filters.country:
        subscribers = subscribers.filter(country=filters.country.upper())
    return subscribers


def _ledger() -> ConsentQuerySet:
    return Consent.objects.select_related("privacy_policy", "terms", "by").order_by("-at", "-pk")


@router.get(
    "/subscribers/{subscriber_id}/consents",
    response={200: list[ConsentOut], **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="One subscriber's consent history (staff)",
)
@paginate(Pages)
def subscriber_consents(request: HttpRequest, subscriber_id: int) -> QuerySet[Consent]:
    """Every grant and withdrawal of the subscriber's address, newest first, also
    those recorded before the subscription (e.g. as a directory member)."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        raise ApiError(404, f"No subscriber has the id {subscriber_id}.")
    return _ledger().filter(Q(subscriber=subscriber) | Q(email=subscriber.email.lower()))


class ConsentFilters(Schema):
    email: str | None = Field(None, max_length=254, description="One address, any case.")
    purpose: Purpose | None = None
    granted: bool | None = Field(None, description="true: grants only; false: withdrawals.")


@router.get(
    "/consents",
    response={200: list[ConsentOut], **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="The consent ledger, by address (staff)",
)
@paginate(Pages)
def consent_list(request: HttpRequest, filters: Query[ConsentFilters]) -> QuerySet[Consent]:
    """The ledger, newest first: every grant and withdrawal, for the newsletter, event
    communications and attendee lists alike."""
    ledger = _ledger()
    if filters.email:
        ledger = ledger.of_address(filters.email)
    if filters.purpose:
        ledger = ledger.filter(purpose=filters.purpose)
    if filters.granted is not None:
        ledger = ledger.filter(granted=filters.granted)
    return ledger


# === Campaigns (staff): newsletters and the delivery of each message ================


class DeliveryCountsOut(Schema):
    queued: int = Field(description="Waiting to be sent (also those to be tried again later).")
    sending: int = Field(description="Being sent by a worker at this moment.")
    sent: int = Field(description="Accepted by the mail server.")
    failed: int = Field(description="Refused for good; last_error says why.")
    skipped: int = Field(
        description="Not sent: the person left or withdrew consent after it was queued, "
        "or the campaign was stopped."
    )
    total: int
    done: int = Field(description="sent + failed + skipped.")


class CampaignTextOut(Schema):
    subject: str
    body: str = Field(description="Markdown.")


class CampaignOut(Schema):
    id: int
    slug: str
    subject: str = Field(description="In the hub's default language.")
    status: CampaignStatus
    languages: list[str] = Field(description="Languages it is written in, the default first.")
    audience: dict[str, list[str]] = Field(
        description="The segment: topics, countries, kinds, languages, groups "
        "(subscribers, members); an empty object is everyone who agreed."
    )
    scheduled_for: datetime.datetime | None
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    in_archive: bool
    archive_url: str | None = Field(
        description="Its public page, from when it starts being sent, if archived."
    )
    deliveries: DeliveryCountsOut

    @staticmethod
    def resolve_subject(obj: Campaign) -> str:
        return obj.text_in(settings.LANGUAGE_CODE)[0]

    @staticmethod
    def resolve_archive_url(obj: Campaign) -> str | None:
        archived = obj.in_archive and obj.status in (CampaignStatus.SENDING, CampaignStatus.SENT)
        return settings.SITE_URL + obj.get_absolute_url() if archived else None

    @staticmethod
    def resolve_deliveries(obj: Campaign) -> dict[str, int]:
        return obj.progress()


class CampaignDetailOut(CampaignOut):
    texts: dict[str, CampaignTextOut] = Field(description="Subject and body per language.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_texts(obj: Campaign) -> dict[str, dict[str, str]]:
        return {
            code: dict(zip(("subject", "body"), obj.text_in(code), strict=True))
            for code in obj.languages
        }


class DeliveryOut(Schema):
    id: int
    to: str
    language: str
    status: EmailStatus
    attempts: int
    message_id: str
    sent_at: datetime.datetime | None
    last_error: str = Field(description="The mail server's last answer to a failure.")


class CampaignFilters(Schema):
    status: CampaignStatus | None = None


class DeliveryFilters(Schema):
    status: EmailStatus | None = None
    to: str | None = Field(None, max_length=254, description="One address, any case.")


def _staff_campaign(campaign_id: int) -> Campaign:
    campaign = Campaign.objects.with_counts().filter(pk=campaign_id).first()
    if campaign is None:
        raise ApiError(404, f"No campaign has the id {campaign_id}.")
    return campaign


@router.get(
    "/campaigns",
    response={200: list[CampaignOut], **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="Campaigns with their delivery counts (staff)",
)
@paginate(Pages)
def campaign_list(request: HttpRequest, filters: Query[CampaignFilters]) -> QuerySet[Campaign]:
    """Newest first, each with its messages counted by status."""
    campaigns = Campaign.objects.with_counts().order_by("-created_at", "-pk")
    if filters.status:
        campaigns = campaigns.filter(status=filters.status)
    return campaigns


@router.get(
    "/campaigns/{campaign_id}",
    response={200: CampaignDetailOut, **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="One campaign: its texts, audience and delivery counts (staff)",
)
def campaign_detail(request: HttpRequest, campaign_id: int) -> Campaign:
    return _staff_campaign(campaign_id)


@router.get(
    "/campaigns/{campaign_id}/deliveries",
    response={200: list[DeliveryOut], **STAFF_ERRORS},
    auth=staff_token_auth,
    summary="The delivery of a campaign to each recipient (staff)",
)
@paginate(Pages)
def campaign_deliveries(
    request: HttpRequest, campaign_id: int, filters: Query[DeliveryFilters]
) -> QuerySet[OutboundEmail]:
    """One row per recipient, in the order they were queued."""
    campaign = _staff_campaign(campaign_id)
    deliveries = OutboundEmail.objects.filter(campaign=campaign).order_by("pk")
    if filters.status:
        deliveries = deliveries.filter(status=filters.status)
    if filters.to:
        deliveries = deliveries.filter(to__iexact=filters.to.strip())
    return deliveries
