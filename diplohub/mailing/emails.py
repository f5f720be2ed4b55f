"""Messages whose whole text is given when they are queued (a note from the hub team,
a test message): the kind `mailing.message`, params `subject` and `text`."""

from __future__ import annotations

from django.utils.html import escape, linebreaks

from diplohub.mailing.models import OutboundEmail
from diplohub.mailing.services import Rendered, render_email, renderer


@renderer("mailing.message")
def _message(email: OutboundEmail) -> Rendered:
    text = str(email.params.get("text", ""))
    context = {
        "subject": str(email.params.get("subject", "")),
        "text": text,
        "paragraphs": linebreaks(escape(text)),
    }
    return render_email("mailing/message.html", context)
