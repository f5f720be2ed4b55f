"""A campaign's messages: one per recipient, built when a worker sends it.

The campaign is rendered once per process for each (campaign, language, last change)
with placeholders for the recipient's own links; each message is that rendering with
the recipient's preference and one-click unsubscribe links put in (RFC 8058 headers
included). Before a batch is sent, `_prepare` reads its campaigns and which of its
recipients may still receive a newsletter in two queries, so a message to someone who
unsubscribed or withdrew consent since it was queued is skipped, and sending asks the
database nothing per message.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models.functions import Lower
from django.utils import translation

from diplohub.lib.markdown import render_markdown
from diplohub.mailing import links
from diplohub.mailing.audience import may_receive_campaigns
from diplohub.mailing.models import Campaign, CampaignStatus, OutboundEmail
from diplohub.mailing.services import (
    CAMPAIGN_KIND,
    CAMPAIGN_TEST_KIND,
    Rendered,
    message_bytes,
    render_email,
    renderer,
)

# Stand-ins for the recipient's links in the cached rendering: letters and hyphens
# only, so escaping leaves them as they are in both parts.
PREFERENCES = "diplohub-recipient-preferences-link"
UNSUBSCRIBE = "diplohub-recipient-unsubscribe-link"
_STATE = "_campaign_state"
_CACHE_SIZE = 64

_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()

# Mail clients drop style sheets; these few inline styles keep the sanitised HTML of
# the campaign readable in them (the layout's cell gives the font and colour).
_INLINE_STYLES = {
    "<h2>": '<h2 style="font-size:22px;line-height:1.3;color:#0b3a66;margin:24px 0 8px;">',
    "<h3>": '<h3 style="font-size:18px;line-height:1.3;color:#0b3a66;margin:20px 0 6px;">',
    "<h4>": '<h4 style="font-size:16px;line-height:1.3;margin:16px 0 4px;">',
    "<blockquote>": '<blockquote style="margin:12px 0;padding:4px 14px;'
    'border-left:4px solid #dde3ea;color:#4a5560;">',
    "<pre>": '<pre style="white-space:pre-wrap;background:#f4f5f8;padding:10px;">',
    "<a ": '<a style="color:#0b3a66;" ',
}


def _inline_styles(html: str) -> str:
    for tag, styled in _INLINE_STYLES.items():
        html = html.replace(tag, styled)
    return html


def campaign_html(markdown: str) -> str:
    """The campaign's Markdown as the HTML every message shows: sanitised by
    lib/markdown.py (as the preview and the archive), with inline styles."""
    return _inline_styles(str(render_markdown(markdown)))


def _list_id() -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<newsletter.{domain}>"


def _key(campaign: Campaign, language: str, *, test: bool) -> tuple[Any, ...]:
    """What a rendering in `language` (one it is written in) depends on: a change to
    the campaign changes updated_at; the settings are there for the tests."""
    return (
        campaign.pk,
        language,
        campaign.updated_at,
        test,
        settings.SITE_URL,
        settings.DEFAULT_FROM_EMAIL,
        settings.HUB_CONTACT_EMAIL,
    )


def _rendering(campaign: Campaign, language: str, key: tuple[Any, ...], *, test: bool) -> Rendered:
    """The campaign in `language` (one it is written in) with placeholders for the
    recipient's links, from this process's cache."""
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    subject, body = campaign.text_in(language)
    if test:
        subject = f"[TEST] {subject}"
    context = {
        "subject": subject,
        "body_markdown": body,
        "body_html": campaign_html(body),
        "archive_url": settings.SITE_URL + campaign.get_absolute_url()
        if campaign.in_archive
        else "",
        "unsubscribe_url": UNSUBSCRIBE,
        "preferences_url": PREFERENCES,
        "test": test,
    }
    rendered = render_email("mailing/email/campaign.html", context)
    with _lock:
        _cache[key] = rendered
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return rendered


def _headers(address: str) -> dict[str, str]:
    return {**links.list_unsubscribe_headers(address), "List-Id": _list_id()}


@dataclass(frozen=True)
class _Wire:
    """The message as it goes over SMTP, made once for a stand-in recipient: their
    address, Message-ID, date and links are then replaced by each recipient's."""

    mime: bytes
    links: tuple[bytes, bytes]  # the stand-in's unsubscribe and preference links


_STAND_IN = OutboundEmail(to="recipient@stand-in.invalid", message_id="<stand-in@diplohub.invalid>")
_STAND_IN_DATE = "Thu, 01 Jan 1970 00:00:00 -0000"


def _wire(template: Rendered, language: str, key: tuple[Any, ...]) -> _Wire | None:
    """The stand-in's message, or None when it cannot be filled in safely: a body part
    encoded (quoted-printable, base64: lines too long for 8bit) or a stand-in not found
    exactly where it was put. Then every message is built in full."""
    cache_key = ("wire", *key)
    with _lock:
        if cache_key in _cache:
            return _cache[cache_key]  # type: ignore[return-value]
    address = _STAND_IN.to
    headers = _headers(address)
    unsubscribe = headers["List-Unsubscribe"].strip("<>")
    preferences = links.preferences_url(address)
    stand_in = _fill(template, unsubscribe, preferences, headers)
    stand_in.headers["Date"] = _STAND_IN_DATE
    with translation.override(language):
        mime = message_bytes(email=_STAND_IN, rendered=stand_in)
    expected = {
        unsubscribe: stand_in.text.count(unsubscribe) + stand_in.html.count(unsubscribe) + 1,
        preferences: stand_in.text.count(preferences) + stand_in.html.count(preferences),
        address: 1,
        _STAND_IN.message_id: 1,
        _STAND_IN_DATE: 1,
    }
    lowered = mime.lower()
    encoded = b"quoted-printable" in lowered or b"base64" in lowered
    found = all(mime.count(text.encode()) == n for text, n in expected.items())
    wire = (
        None if encoded or not found else _Wire(mime, (unsubscribe.encode(), preferences.encode()))
    )
    with _lock:
        _cache[cache_key] = wire  # type: ignore[assignment]
    return wire


def _plain(value: str) -> bool:
    """Safe to put into a header or a link as it is: ASCII, no space or line break."""
    return value.isascii() and not any(c.isspace() for c in value)


def _fill(
    template: Rendered, unsubscribe: str, preferences: str, headers: dict[str, str]
) -> Rendered:
    def fill(text: str) -> str:
        return text.replace(UNSUBSCRIBE, unsubscribe).replace(PREFERENCES, preferences)

    return Rendered(
        subject=template.subject,
        text=fill(template.text),
        html=fill(template.html),
        headers=dict(headers),
    )


def _personalised(campaign: Campaign, email: OutboundEmail, *, test: bool = False) -> Rendered:
    language = campaign.language_for(email.language)
    key = _key(campaign, language, test=test)
    template = _rendering(campaign, language, key, test=test)
    headers = _headers(email.to)
    unsubscribe = headers["List-Unsubscribe"].strip("<>")
    preferences = links.preferences_url(email.to)
    rendered = _fill(template, unsubscribe, preferences, headers)
    wire = _wire(template, language, key)
    values = (email.to, email.message_id, unsubscribe, preferences)
    if wire is not None and all(_plain(value) for value in values):
        rendered.mime = (
            wire.mime.replace(wire.links[0], unsubscribe.encode())
            .replace(wire.links[1], preferences.encode())
            .replace(_STAND_IN.to.encode(), email.to.encode())
            .replace(_STAND_IN.message_id.encode(), email.message_id.encode())
            .replace(
                _STAND_IN_DATE.encode(),
                formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode(),
            )
        )
    return rendered


def _prepare(emails: list[OutboundEmail]) -> None:
    """For a batch about to be sent: its campaigns, and which recipients may still
    receive a newsletter (two queries for the batch)."""
    campaigns = Campaign.objects.in_bulk({email.campaign_id for email in emails})
    wanted = {email.to.lower() for email in emails}
    reachable = set(
        may_receive_campaigns()
        .annotate(address=Lower("email"))
        .filter(address__in=wanted)
        .values_list("address", flat=True)
    )
    for email in emails:
        campaign = campaigns.get(email.campaign_id) if email.campaign_id else None
        setattr(email, _STATE, (campaign, email.to.lower() in reachable))


@renderer(CAMPAIGN_KIND, prepare=_prepare)
def _campaign(email: OutboundEmail) -> Rendered | None:
    if getattr(email, _STATE, None) is None:
        _prepare([email])
    campaign, reachable = getattr(email, _STATE)
    if campaign is None or campaign.status == CampaignStatus.CANCELLED or not reachable:
        return None  # unsubscribed, consent withdrawn, or the campaign stopped
    return _personalised(campaign, email)


@renderer(CAMPAIGN_TEST_KIND)
def _campaign_test(email: OutboundEmail) -> Rendered | None:
    campaign = Campaign.objects.filter(pk=email.params.get("campaign")).first()
    if campaign is None:
        return None
    return _personalised(campaign, email, test=True)
