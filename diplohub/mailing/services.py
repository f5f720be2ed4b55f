"""Sending mail through the outbox (see models.py).

`email_enqueue` writes a row in the caller's transaction and, once that transaction
commits, asks a background task to send it. `emails_send` sends rows over one SMTP
connection, each one in four steps:

1. claim it: UPDATE … SET status='sending', claimed_until=now+lease, attempts+=1
   WHERE pk=… AND it is due; only one worker's UPDATE can match, and it commits at
   once, so no other worker sends the same row meanwhile;
2. build it in the recipient's language with the renderer registered for its kind
   (None from a renderer: the message is no longer needed, e.g. the registration it
   confirms was cancelled in between);
3. send it; on the server's 250, mark it sent;
4. on a temporary failure (4xx, connection lost) put it back in the queue with a
   backoff; on a permanent one (5xx) mark it failed with the server's answer.

A worker killed between steps 1 and 3 leaves the row 'sending' until its lease runs
out; the housekeeping loop of `diplohub worker` (emails_send_due) then sends it.
The one case in which a message can arrive twice is a worker killed after the server
said 250 and before step 3 committed (the window RFC 1047 describes); the second copy
carries the same Message-ID, which lets mail systems recognise it.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from email.mime.image import MIMEImage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from diplohub.mailing.models import EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)


@dataclass
class Attachment:
    filename: str
    content: bytes | str
    mimetype: str
    # Set for an image the HTML part shows inline, as <img src="cid:…">.
    content_id: str = ""


@dataclass
class Rendered:
    subject: str
    text: str
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


Renderer = Callable[[OutboundEmail], Rendered | None]
_renderers: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the function that builds messages of `kind` (called in the
    recipient's language, at send time)."""

    def register(function: Renderer) -> Renderer:
        _renderers[kind] = function
        return function

    return register


def _render_plain(name: str, context: dict[str, Any]) -> str:
    """A template rendered without HTML escaping (subjects and plain-text parts)."""
    return get_template(name).template.render(Context(context, autoescape=False))  # type: ignore[attr-defined]


def render_email(
    template: str,
    context: dict[str, Any],
    *,
    attachments: Iterable[Attachment] = (),
    headers: dict[str, str] | None = None,
    reply_to: list[str] | None = None,
) -> Rendered:
    """A message from one template with three partials: `subject`, `text` (the plain
    part; write it with autoescape off) and `html` (the body of mailing/email.html,
    the layout every HTML message shares)."""
    context = {"hub_name": settings.HUB_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(_render_plain(f"{template}#subject", context).split())
    text = _render_plain(f"{template}#text", context).strip()
    body = render_to_string(f"{template}#html", context)
    layout = {**context, "subject": subject, "body": mark_safe(body)}
    return Rendered(
        subject=subject,
        text=_render_plain("mailing/email.txt", {**context, "body": text}),
        html=render_to_string("mailing/email.html", layout),
        attachments=list(attachments),
        reply_to=reply_to or [],
        headers=headers or {},
    )


@dataclass
class SendReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --- Queueing ---------------------------------------------------------------------

_pending = threading.local()


def _message_id() -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return make_msgid(domain=domain)


@contextmanager
def no_mail() -> Iterator[None]:
    """Queue nothing while inside: the demo builder registers its fictitious people
    through the real workflows, and they get no mail."""
    previous = getattr(_pending, "suppressed", False)
    _pending.suppressed = True
    try:
        yield
    finally:
        _pending.suppressed = previous


def email_enqueue(
    *, kind: str, to: str, language: str, params: dict[str, Any], key: str = ""
) -> OutboundEmail | None:
    """Queue one message; it is sent once the current transaction commits.

    With a `key`, asking again for the same key gives back the first row and sends
    nothing more. No address, no message (None)."""
    if kind not in _renderers:
        raise ValueError(f"No renderer is registered for e-mail of kind {kind!r}.")
    to = (to or "").strip()
    if not to or getattr(_pending, "suppressed", False):
        return None
    values = {
        "kind": kind,
        "params": params,
        "to": to,
        "language": language,
        "message_id": _message_id(),
    }
    if key:
        email, created = OutboundEmail.objects.get_or_create(key=key, defaults=values)
        if not created:
            return email
    else:
        email = OutboundEmail.objects.create(key=f"{kind}:{uuid.uuid4().hex}", **values)
    _schedule(email.pk)
    return email


def _schedule(pk: int) -> None:
    """Ask for a send task after the commit: one task per batch of the transaction's
    messages, not one per message. Ids of a rolled-back transaction may ride along
    with the next batch; the task finds no such rows and skips them."""
    pks = getattr(_pending, "pks", None)
    if pks is None:
        pks = _pending.pks = []
    pks.append(pk)
    transaction.on_commit(_flush)


def _flush() -> None:
    from diplohub.mailing.tasks import send_emails

    pks = getattr(_pending, "pks", None) or []
    _pending.pks = []
    batch = settings.MAIL_BATCH_SIZE
    for start in range(0, len(pks), batch):
        send_emails.enqueue(pks[start : start + batch])


# --- Sending ----------------------------------------------------------------------


def _claim(pk: int, now: datetime.datetime) -> OutboundEmail | None:
    lease = datetime.timedelta(seconds=settings.MAIL_LEASE_SECONDS)
    claimed = (
        OutboundEmail.objects.due(now)
        .filter(pk=pk, attempts__lt=settings.MAIL_MAX_ATTEMPTS)
        .update(status=EmailStatus.SENDING, claimed_until=now + lease, attempts=F("attempts") + 1)
    )
    return OutboundEmail.objects.get(pk=pk) if claimed else None


def _finish(email: OutboundEmail, **fields: Any) -> None:
    """Record the outcome, unless another worker took the row over meanwhile (our
    lease ran out): then the outcome is theirs to record."""
    OutboundEmail.objects.filter(
        pk=email.pk, status=EmailStatus.SENDING, attempts=email.attempts
    ).update(claimed_until=None, **fields)


def _backoff(attempts: int) -> datetime.timedelta:
    seconds = settings.MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, 6 * 3600))


def _build(email: OutboundEmail, rendered: Rendered, connection: Any) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=" ".join(rendered.subject.split()),
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        reply_to=rendered.reply_to or [settings.HUB_CONTACT_EMAIL],
        headers={"Message-ID": email.message_id, **rendered.headers},
        connection=connection,
    )
    if rendered.html:
        message.attach_alternative(rendered.html, "text/html")
    for attachment in rendered.attachments:
        if attachment.content_id:
            content = attachment.content
            image = MIMEImage(content if isinstance(content, bytes) else content.encode())
            image.add_header("Content-ID", f"<{attachment.content_id}>")
            image.add_header("Content-Disposition", "inline", filename=attachment.filename)
            message.attach(image)
        else:
            message.attach(attachment.filename, attachment.content, attachment.mimetype)
    return message


def _smtp_code(error: Exception) -> int | None:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return max(codes) if codes else None
    if isinstance(error, smtplib.SMTPResponseException):
        return int(error.smtp_code)
    return None


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )[:500]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


def emails_send(*, pks: Iterable[int] | None = None, limit: int = 500) -> SendReport:
    """Send due messages (those in `pks`, or any), at most `limit`, over one SMTP
    connection. Safe to run in several workers at once and to run again."""
    now = timezone.now()
    due = OutboundEmail.objects.due(now)
    if pks is not None:
        due = due.filter(pk__in=list(pks))
    ids = list(due.order_by("not_before", "pk").values_list("pk", flat=True)[:limit])
    report = SendReport()
    connection: Any = None
    try:
        for pk in ids:
            email = _claim(pk, timezone.now())
            if email is None:
                continue  # another worker has it, or it is out of attempts
            if connection is None:
                connection = get_connection(fail_silently=False)
            outcome = _send_one(email, connection)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if outcome == "retry":
                # The connection may be dead: start the next message on a new one.
                connection.close()
                connection = None
    finally:
        if connection is not None:
            connection.close()
    return report


def _send_one(email: OutboundEmail, connection: Any) -> str:
    """Steps 2 to 4 for one claimed row; returns the outcome's name."""
    try:
        with translation.override(email.language):
            build = _renderers.get(email.kind)
            if build is None:
                raise LookupError(f"No renderer is registered for e-mail of kind {email.kind!r}.")
            rendered = build(email)
            if rendered is None:
                _finish(email, status=EmailStatus.SKIPPED)
                return "skipped"
            message = _build(email, rendered, connection)
            message.message()  # refuses header injection before anything is sent
    except (BadHeaderError, ValueError, LookupError) as error:
        logger.warning("E-mail %s cannot be built: %s", email.pk, error)
        _finish(email, status=EmailStatus.FAILED, last_error=_describe(error))
        return "failed"
    except Exception as error:
        logger.exception("E-mail %s cannot be built", email.pk)
        _finish(email, status=EmailStatus.FAILED, last_error=_describe(error))
        return "failed"
    subject = message.subject[:300]
    try:
        connection.send_messages([message])
    except (smtplib.SMTPException, OSError) as error:
        code = _smtp_code(error)
        if code is not None and code >= 500:
            _finish(email, status=EmailStatus.FAILED, subject=subject, last_error=_describe(error))
            return "failed"
        if email.attempts >= settings.MAIL_MAX_ATTEMPTS:
            _finish(email, status=EmailStatus.FAILED, subject=subject, last_error=_describe(error))
            return "failed"
        retry_at = timezone.now() + _backoff(email.attempts)
        _finish(
            email,
            status=EmailStatus.QUEUED,
            not_before=retry_at,
            subject=subject,
            last_error=_describe(error),
        )
        logger.info("E-mail %s will be tried again at %s: %s", email.pk, retry_at, error)
        return "retry"
    _finish(email, status=EmailStatus.SENT, sent_at=timezone.now(), subject=subject, last_error="")
    return "sent"


def emails_send_due(*, now: datetime.datetime | None = None) -> SendReport:
    """The housekeeping sweep: give up on rows out of attempts, then send whatever is
    due (messages whose task was lost, retries, rows left by a killed worker)."""
    now = now or timezone.now()
    OutboundEmail.objects.due(now).filter(attempts__gte=settings.MAIL_MAX_ATTEMPTS).update(
        status=EmailStatus.FAILED,
        claimed_until=None,
        last_error="Gave up: the worker stopped while sending it on its last attempt, "
        "so it may have arrived.",
    )
    total = SendReport()
    while True:
        report = emails_send(limit=settings.MAIL_BATCH_SIZE)
        for name, value in report.as_dict().items():
            setattr(total, name, getattr(total, name) + value)
        if not any(report.as_dict().values()):
            return total


def email_retry(*, email: OutboundEmail) -> OutboundEmail:
    """Staff send a failed message again (fresh attempts)."""
    OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.FAILED).update(
        status=EmailStatus.QUEUED, attempts=0, not_before=timezone.now(), last_error=""
    )
    email.refresh_from_db()
    if email.status == EmailStatus.QUEUED:
        _schedule(email.pk)
    return email
