"""E-mails to the partners who propose initiatives: the acknowledgement, and the outcome
of the moderation (published, with its address; or rejected, with the reason).

services.initiative_submit and initiative_moderate queue them in their transaction;
the renderers build them at send time, in the submitter's language, from the rows as
they are then: a "published" message for an initiative unpublished since is not sent.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from diplohub.knowledge.models import Initiative, PublicationState
from diplohub.mailing.models import OutboundEmail
from diplohub.mailing.services import Rendered, render_email, renderer


def _initiative(email: OutboundEmail, state: str | None = None) -> Initiative | None:
    """The initiative a message is about, if it was proposed from this address and
    (when given) is still in `state`."""
    initiative = Initiative.objects.filter(pk=email.params.get("initiative")).first()
    if initiative is None:
        return None
    if initiative.submitted_by_email.strip().lower() != email.to.strip().lower():
        return None
    if state is not None and initiative.state != state:
        return None
    return initiative


def _context(initiative: Initiative, **extra: object) -> dict[str, object]:
    return {
        "initiative": initiative,
        "name": initiative.submitted_by_name,
        "hub_name": settings.HUB_NAME,
        "contact_email": settings.HUB_CONTACT_EMAIL,
        **extra,
    }


@renderer("knowledge.submission_received")
def _received(email: OutboundEmail) -> Rendered | None:
    initiative = _initiative(email)
    if initiative is None:
        return None
    return render_email("knowledge/email/submission_received.html", _context(initiative))


@renderer("knowledge.submission_published")
def _published(email: OutboundEmail) -> Rendered | None:
    initiative = _initiative(email, PublicationState.PUBLISHED)
    if initiative is None:
        return None
    with translation.override(email.language):
        url = settings.SITE_URL + initiative.get_absolute_url()
    return render_email(
        "knowledge/email/submission_published.html", _context(initiative, initiative_url=url)
    )


@renderer("knowledge.submission_rejected")
def _rejected(email: OutboundEmail) -> Rendered | None:
    initiative = _initiative(email, PublicationState.REJECTED)
    if initiative is None:
        return None
    context = _context(initiative, reason=str(email.params.get("reason", "")))
    return render_email("knowledge/email/submission_rejected.html", context)
