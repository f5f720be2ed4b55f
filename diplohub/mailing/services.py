"""Sending mail through the outbox (see models.py).

`email_enqueue` writes a row in the caller's transaction and, once that transaction
commits, asks a background task to send it. `emails_send` sends rows over one SMTP
connection, each one in four steps:

1. claim it: UPDATE … SET status='sending', claimed_until=now+lease, attempts+=1
   WHERE pk=… AND it is due AND attempts is what it was when the batch was read;
   only one worker's UPDATE can match, and it commits before the message is sent, so
   no other worker sends the same row meanwhile;
2. build it in the recipient's language with the renderer registered for its kind
   (None from a renderer: the message is no longer needed, e.g. the registration it
   confirms was cancelled in between);
3. send it; on the server's 250, mark it sent;
4. on a temporary failure (4xx, connection lost) put it back in the queue with a
   backoff; on a permanent one (5xx) mark it failed with the server's answer.

The outcome of one message (step 3 or 4) is committed in the same transaction as the
claim of the next: one commit per message, and each outcome is recorded before the
next message goes out. A batch is read in one query, a kind may prepare what its
renderer needs for the whole batch at once (see `renderer`), and the messages are
paced to DIPLOHUB_MAIL_RATE per process.

A worker killed between steps 1 and 3 leaves the row 'sending' until its lease runs
out; the housekeeping loop of `diplohub worker` (emails_send_due) then sends it.
The one case in which a message can arrive twice is a worker killed after the server
said 250 and before step 3 committed (the window RFC 1047 describes); the second copy
carries the same Message-ID, which lets mail systems recognise it.
"""

from __future__ import annotations

import datetime
import enum
import functools
import hashlib
import hmac
import logging
import smtplib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from email.mime.image import MIMEImage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

from diplohub.directory.models import Person, Topic
from diplohub.mailing.audience import Audience, AudienceError, recipients
from diplohub.mailing.models import (
    Campaign,
    CampaignStatus,
    Consent,
    EmailStatus,
    Erasure,
    OutboundEmail,
    PolicyDocument,
    PolicyKind,
    Purpose,
    Subscriber,
    SubscriberStatus,
    ledger_address,
)

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
    # The whole message as it goes over SMTP, when the renderer made it itself (see
    # message_bytes): the SMTP backend sends these bytes as they are, skipping the
    # MIME building that is most of a message's cost; other backends (the console,
    # the tests' memory) get the fields above. The renderer answers for what is in it.
    mime: bytes = b""


Renderer = Callable[[OutboundEmail], Rendered | None]
Preparer = Callable[[list[OutboundEmail]], None]
_renderers: dict[str, Renderer] = {}
_preparers: dict[str, Preparer] = {}


def renderer(kind: str, *, prepare: Preparer | None = None) -> Callable[[Renderer], Renderer]:
    """Register the function that builds messages of `kind` (called in the
    recipient's language, at send time).

    `prepare`, if given, is called once with all the rows of that kind a sender is
    about to send, before any is claimed: it may load in one query what the renderer
    would otherwise ask for message by message (a newsletter's recipients' standing)."""

    def register(function: Renderer) -> Renderer:
        _renderers[kind] = function
        if prepare is not None:
            _preparers[kind] = prepare
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
    recipient_email: str = "",
) -> Rendered:
    """A message from one template with three partials: `subject`, `text` (the plain
    part; write it with autoescape off) and `html` (the body of mailing/email.html,
    the layout every HTML message shares).

    With `recipient_email`, the layout's footer links that address's preference centre
    (`preferences_url` in the context)."""
    context = {"hub_name": settings.HUB_NAME, "site_url": settings.SITE_URL, **context}
    if recipient_email:
        from diplohub.mailing.links import preferences_url

        context.setdefault("preferences_url", preferences_url(recipient_email))
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


# The outcome of a message just sent, recorded together with the next claim.
Outcome = tuple[OutboundEmail, dict[str, Any]]


def _claim(email: OutboundEmail, now: datetime.datetime, *, done: Outcome | None = None) -> bool:
    """Step 1 for `email`, as read when the batch was fetched: it is claimed only if
    it is still due and nobody has touched it since (same attempts), so its attempts
    are known without reading the row again. The previous message's outcome (`done`)
    is committed in the same transaction: one commit per message, and a message's
    outcome is still on disk before the next one is sent."""
    if email.attempts >= settings.MAIL_MAX_ATTEMPTS:
        if done is not None:
            _finish(done[0], **done[1])
        return False
    until = now + datetime.timedelta(seconds=settings.MAIL_LEASE_SECONDS)
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        if done is not None:
            _finish(done[0], **done[1])
        claimed = _execute(
            _CLAIM_SQL,
            [
                EmailStatus.SENDING,
                until,
                email.attempts + 1,
                email.pk,
                email.attempts,
                EmailStatus.QUEUED,
                now,
                EmailStatus.SENDING,
                now,
            ],
        )
    if claimed:
        email.status = EmailStatus.SENDING
        email.claimed_until = until
        email.attempts += 1
    return bool(claimed)


def _finish(email: OutboundEmail, **fields: Any) -> None:
    """Record the outcome, unless another worker took the row over meanwhile (our
    lease ran out): then the outcome is theirs to record."""
    fields = {"claimed_until": None, **fields}
    columns = ", ".join(f"{OutboundEmail._meta.get_field(name).column} = %s" for name in fields)
    sql = f"UPDATE {_TABLE} SET {columns} WHERE id = %s AND status = %s AND attempts = %s"  # noqa: S608
    _execute(sql, [*fields.values(), email.pk, EmailStatus.SENDING, email.attempts])


# The claim and the outcome are one UPDATE each per message, written in SQL: the same
# statements through the ORM cost about 0.4 ms of CPU each to build, against 0.06 ms
# to run. The claim's condition is OutboundEmail.objects.due(), for one row.
_TABLE = OutboundEmail._meta.db_table
_CLAIM_SQL = f"""
UPDATE {_TABLE} SET status = %s, claimed_until = %s, attempts = %s
WHERE id = %s AND attempts = %s
  AND ((status = %s AND not_before <= %s) OR (status = %s AND claimed_until < %s))
"""  # noqa: S608 (values are parameters)


def _commit_without_waiting_for_disk() -> None:
    """On PostgreSQL, let this transaction's COMMIT return before its WAL is flushed
    (synchronous_commit off, for this transaction only): a worker sends the next
    message about a millisecond sooner. A worker killed at any point loses nothing,
    since the commit has happened; only a crash of the database server itself could
    lose the last fraction of a second of records, and then those messages would be
    sent again (never lost)."""
    connection = connections[router.db_for_write(OutboundEmail)]
    if connection.vendor == "postgresql" and settings.MAIL_ASYNC_COMMIT:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _execute(sql: str, params: list[Any]) -> int:
    """Run an UPDATE on the outbox; the number of rows it changed."""
    connection = connections[router.db_for_write(OutboundEmail)]
    adapt = connection.ops.adapt_datetimefield_value
    values = [adapt(v) if isinstance(v, datetime.datetime) else v for v in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return int(cursor.rowcount)


def _backoff(attempts: int) -> datetime.timedelta:
    seconds = settings.MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, 6 * 3600))


class _BuiltOnce(EmailMultiAlternatives):
    """Django builds the MIME message again for every call of message(): once to
    refuse a header injection before anything is sent, once more to send it. The
    second time is the same message."""

    _built: Any = None

    def message(self, *args: Any, **kwargs: Any) -> Any:
        if self._built is None:
            self._built = super().message(*args, **kwargs)
        return self._built


def _build(email: OutboundEmail, rendered: Rendered, connection: Any) -> EmailMultiAlternatives:
    message = _BuiltOnce(
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


def message_bytes(*, email: OutboundEmail, rendered: Rendered) -> bytes:
    """`rendered`, for `email`, exactly as the SMTP backend would send it: a renderer
    may make it once with stand-ins and fill them in for each recipient (Rendered.mime).
    Refuses header injection as sending does (BadHeaderError)."""
    built = _build(email, rendered, None).message().as_bytes(linesep="\r\n")
    return bytes(built)


@functools.cache
def _envelope_sender(from_email: str, encoding: str) -> str:
    return str(sanitize_address(from_email, encoding))


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
    connection. Safe to run in several workers at once and to run again.

    The batch is read in one query and each kind's `prepare` hook sees it whole; then
    each message is claimed, built, sent and recorded in turn (the record of one
    shares its transaction with the claim of the next)."""
    now = timezone.now()
    due = OutboundEmail.objects.due(now).filter(attempts__lt=settings.MAIL_MAX_ATTEMPTS)
    if pks is not None:
        due = due.filter(pk__in=list(pks))
    emails = list(due.order_by("not_before", "pk")[:limit])
    _prepare(emails)
    report = SendReport()
    connection: Any = None
    done: Outcome | None = None
    try:
        for email in emails:
            claimed = _claim(email, timezone.now(), done=done)
            done = None
            if not claimed:
                continue  # another worker has it, or it changed since the batch was read
            if connection is None:
                connection = get_connection(fail_silently=False)
            outcome, fields = _send_one(email, connection)
            done = (email, fields)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if outcome == "retry":
                # The connection may be dead: start the next message on a new one.
                connection.close()
                connection = None
    finally:
        try:
            if done is not None:
                _finish(done[0], **done[1])
        finally:
            if connection is not None:
                connection.close()
    return report


def _prepare(emails: list[OutboundEmail]) -> None:
    kinds: dict[str, list[OutboundEmail]] = {}
    for email in emails:
        kinds.setdefault(email.kind, []).append(email)
    for kind, batch in kinds.items():
        prepare = _preparers.get(kind)
        if prepare is not None:
            prepare(batch)


class _Throttle:
    """At most DIPLOHUB_MAIL_RATE messages a second from this process, all its threads
    together (a worker's tasks and its housekeeping), evenly spaced; 0: no limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        rate = settings.MAIL_RATE
        if rate <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + 1 / rate
        if start > now:
            time.sleep(start - now)


_throttle = _Throttle()


def _send_one(email: OutboundEmail, connection: Any) -> tuple[str, dict[str, Any]]:
    """Steps 2 to 4 for one claimed row: the outcome's name, and the fields to record
    it with (see _finish)."""
    try:
        with translation.override(email.language):
            build = _renderers.get(email.kind)
            if build is None:
                raise LookupError(f"No renderer is registered for e-mail of kind {email.kind!r}.")
            rendered = build(email)
            if rendered is None:
                return "skipped", {"status": EmailStatus.SKIPPED}
            raw = rendered.mime if isinstance(connection, SMTPBackend) else b""
            if not raw:
                message = _build(email, rendered, connection)
                message.message()  # refuses header injection before anything is sent
    except (BadHeaderError, ValueError, LookupError) as error:
        logger.warning("E-mail %s cannot be built: %s", email.pk, error)
        return "failed", {"status": EmailStatus.FAILED, "last_error": _describe(error)}
    except Exception as error:
        logger.exception("E-mail %s cannot be built", email.pk)
        return "failed", {"status": EmailStatus.FAILED, "last_error": _describe(error)}
    subject = " ".join(rendered.subject.split())[:300]
    _throttle.wait()
    try:
        connection.open()  # once: the connection then serves every message of the batch
        if raw:
            sender = _envelope_sender(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET)
            connection.connection.sendmail(sender, [email.to], raw)
        else:
            connection.send_messages([message])
    except (smtplib.SMTPException, OSError) as error:
        code = _smtp_code(error)
        failed = {"status": EmailStatus.FAILED, "subject": subject, "last_error": _describe(error)}
        if code is not None and code >= 500:
            return "failed", failed
        if email.attempts >= settings.MAIL_MAX_ATTEMPTS:
            return "failed", failed
        retry_at = timezone.now() + _backoff(email.attempts)
        logger.info("E-mail %s will be tried again at %s: %s", email.pk, retry_at, error)
        return "retry", {
            "status": EmailStatus.QUEUED,
            "not_before": retry_at,
            "subject": subject,
            "last_error": _describe(error),
        }
    return "sent", {
        "status": EmailStatus.SENT,
        "sent_at": timezone.now(),
        "subject": subject,
        "last_error": "",
    }


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


# === Joining the network: sign-up, the consent ledger, preferences, personal data =====
#
# The sign-up is a double opt-in: `subscriber_sign_up` keeps a pending subscriber and
# mails a confirmation link; `subscriber_confirm` activates it and writes the ledger
# rows. Every change of a kind of mail anyone asks for (the preference centre, the
# one-click unsubscribe, a member's consents page) goes through `_purposes_change`, so
# each grant and withdrawal is one Consent row. Campaigns reach
# Subscriber.objects.reachable().


class SignUpClosed(Exception):
    """No privacy policy or no terms of service are published: nobody can agree to them."""


class ConsentRequired(ValueError):
    """A kind of mail was turned on without ticking the consent box."""


class ErasureRefused(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignUpOutcome(enum.Enum):
    # Never shown to the person signing up: the answer is the same for all three.
    NEW = "new"
    CONFIRM_AGAIN = "confirm_again"
    ALREADY_SUBSCRIBED = "already_subscribed"


class ConfirmOutcome(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_FOUND = "not_found"


# What the ledger says about a purpose, and where the request came from.
SOURCE_JOIN = "join"
SOURCE_JOIN_COMPACT = "join-compact"
SOURCE_API = "api"
SOURCE_PREFERENCES = "preferences"
SOURCE_UNSUBSCRIBE = "unsubscribe"
SOURCE_ONE_CLICK = "one-click"
SOURCE_MY_CONSENTS = "my-consents"
SOURCE_STAFF = "staff"

ERASED_NAME = "[erased]"
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never receive mail


def _salted(kind: str, value: str) -> str:
    secret = settings.HASH_SALT.encode()
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def ip_hash(ip: str) -> str:
    """The salted hash the ledger keeps instead of an IP address ("" for none)."""
    return _salted("ip", ip.strip()) if ip and ip.strip() else ""


def email_hash(email: str) -> str:
    """The salted hash an erasure keeps instead of the address it erased."""
    return _salted("email", ledger_address(email))


def address_normalize(email: str) -> str:
    """The address as the hub keeps it (email-validator, no DNS lookup: the domain in
    lower case, Unicode domains normalised), or ValidationError with a message to show.
    Non-ASCII before the @ is refused: most mail relays cannot deliver to it."""
    email = (email or "").strip()
    if not email:
        raise ValidationError(_("Enter your e-mail address."), code="required")
    if len(email) > 254:
        raise ValidationError(
            _("An e-mail address has at most 254 characters (this one has %(length)d)."),
            code="max_length",
            params={"length": len(email)},
        )
    try:
        valid = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValidationError(
            _("Enter a valid e-mail address, such as name@example.org."), code="invalid"
        ) from None
    return str(valid.normalized)


def policies_current() -> tuple[PolicyDocument, PolicyDocument] | None:
    """The privacy policy and the terms people agree to today, or None while either
    is missing."""
    privacy = PolicyDocument.objects.current(PolicyKind.PRIVACY)
    terms = PolicyDocument.objects.current(PolicyKind.TERMS)
    if privacy is None or terms is None:
        return None
    return privacy, terms


def _person_with_address(email: str) -> Person | None:
    """The directory entry of an address, when exactly one person has it."""
    people = list(Person.objects.filter(email__iexact=ledger_address(email))[:2])
    return people[0] if len(people) == 1 else None


def _queue_confirmation(subscriber: Subscriber) -> None:
    email_enqueue(
        kind="mailing.confirm_subscription",
        to=subscriber.email,
        language=subscriber.language,
        params={"subscriber": subscriber.pk},
    )


@transaction.atomic
def subscriber_sign_up(
    *,
    email: str,
    language: str,
    source: str,
    ip: str = "",
    first_name: str = "",
    last_name: str = "",
    organization_name: str = "",
    country: str = "",
    position: str = "",
    topics: Iterable[Topic] = (),
    wants_events: bool = False,
) -> SignUpOutcome:
    """Someone asks to join the newsletter (the double opt-in's first step).

    1. A new address becomes a pending subscriber and gets the confirmation link.
    2. A pending or unsubscribed one takes the details just given and gets a new
       confirmation link; nothing is sent to it but that until it is confirmed.
    3. An active one is left as it is and gets a note with its preference link.

    Each case queues one message, so the answer (and its time) does not tell whether
    the address was known; never show the outcome to the person. Two sign-ups of one
    address at once make one subscriber: the unique index on the address decides, and
    the loser carries on as case 2."""
    if policies_current() is None:
        raise SignUpClosed
    email = address_normalize(email)
    now = timezone.now()
    details = {
        "first_name": first_name,
        "last_name": last_name,
        "organization_name": organization_name,
        "country": country,
        "position": position,
        "language": language,
        "wants_events": wants_events,
    }
    topics = list(topics)
    request_hash = ip_hash(ip)
    subscriber = Subscriber.objects.select_for_update().with_address(email).first()
    if subscriber is None:
        try:
            with transaction.atomic():  # a savepoint: the other sign-up may win the race
                subscriber = Subscriber.objects.create(
                    email=email,
                    status=SubscriberStatus.PENDING,
                    wants_newsletter=True,
                    source=source,
                    request_ip_hash=request_hash,
                    confirmation_sent_at=now,
                    **details,
                )
        except IntegrityError:
            subscriber = Subscriber.objects.select_for_update().with_address(email).get()
        else:
            subscriber.topics.set(topics)
            _queue_confirmation(subscriber)
            return SignUpOutcome.NEW
    if subscriber.status == SubscriberStatus.ACTIVE:
        email_enqueue(
            kind="mailing.already_subscribed",
            to=subscriber.email,
            language=subscriber.language,
            params={"subscriber": subscriber.pk},
        )
        return SignUpOutcome.ALREADY_SUBSCRIBED
    for name, value in details.items():
        setattr(subscriber, name, value)
    subscriber.status = SubscriberStatus.PENDING
    subscriber.wants_newsletter = True
    subscriber.source = source
    subscriber.request_ip_hash = request_hash
    subscriber.confirmation_sent_at = now
    subscriber.save()
    subscriber.topics.set(topics)
    _queue_confirmation(subscriber)
    return SignUpOutcome.CONFIRM_AGAIN


def _consent_write(
    *,
    email: str,
    purpose: str,
    granted: bool,
    source: str,
    at: datetime.datetime,
    ip_hash: str,
    policies: tuple[PolicyDocument, PolicyDocument] | None,
    subscriber: Subscriber | None = None,
    person: Person | None = None,
    by: Any = None,
    requested_at: datetime.datetime | None = None,
    request_ip_hash: str = "",
) -> Consent:
    privacy, terms = policies if policies is not None else (None, None)
    return Consent.objects.create(
        email=ledger_address(email),
        subscriber=subscriber,
        person=person,
        purpose=purpose,
        granted=granted,
        privacy_policy=privacy,
        terms=terms,
        source=source,
        at=at,
        ip_hash=ip_hash,
        requested_at=requested_at,
        request_ip_hash=request_ip_hash,
        by=by if getattr(by, "pk", None) else None,
    )


@transaction.atomic
def subscriber_confirm(*, email: str, ip: str = "") -> ConfirmOutcome:
    """The confirmation link was followed (and its button pressed): the subscription
    is active and the ledger has one grant per purpose the person chose, naming the
    policy versions in force, with both moments: the request and this confirmation."""
    subscriber = Subscriber.objects.select_for_update().with_address(email).first()
    if subscriber is None or subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return ConfirmOutcome.NOT_FOUND
    if subscriber.status == SubscriberStatus.ACTIVE:
        return ConfirmOutcome.ALREADY_CONFIRMED
    policies = policies_current()
    if policies is None:
        raise SignUpClosed
    now = timezone.now()
    confirmation_hash = ip_hash(ip)
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.wants_newsletter = True
    subscriber.confirmed_at = now
    subscriber.confirmation_ip_hash = confirmation_hash
    subscriber.unsubscribed_at = None
    if subscriber.person_id is None:
        subscriber.person = _person_with_address(subscriber.email)
    subscriber.save()
    purposes = [Purpose.NEWSLETTER] + ([Purpose.EVENTS] if subscriber.wants_events else [])
    for purpose in purposes:
        _consent_write(
            email=subscriber.email,
            purpose=purpose,
            granted=True,
            source=subscriber.source,
            at=now,
            ip_hash=confirmation_hash,
            policies=policies,
            subscriber=subscriber,
            person=subscriber.person,
            requested_at=subscriber.confirmation_sent_at or subscriber.created_at,
            request_ip_hash=subscriber.request_ip_hash,
        )
    return ConfirmOutcome.CONFIRMED


def standing_purposes(*, email: str) -> dict[str, bool]:
    """What an address receives today, by purpose: the newsletter only while it is a
    reachable subscriber; the other purposes as the ledger's latest row says (no row:
    not granted)."""
    subscriber = Subscriber.objects.with_address(email).first()
    return {
        Purpose.NEWSLETTER: subscriber is not None
        and Subscriber.objects.reachable().filter(pk=subscriber.pk).exists(),
        Purpose.EVENTS: bool(Consent.objects.standing(email=email, purpose=Purpose.EVENTS)),
        Purpose.ATTENDEE_LISTS: bool(
            Consent.objects.standing(email=email, purpose=Purpose.ATTENDEE_LISTS)
        ),
    }


def _purposes_change(
    *,
    email: str,
    wanted: dict[str, bool],
    consent: bool,
    source: str,
    ip: str,
    person: Person | None,
    by: Any,
    language: str,
) -> tuple[Subscriber | None, list[Consent]]:
    """Make the purposes in `wanted` so, one ledger row for each that changes. A grant
    needs `consent` (the box ticked), else ConsentRequired and nothing is written.
    Turning the newsletter on makes the address an active subscriber (the link or the
    signed-in session proves the address); turning it off unsubscribes it."""
    email = ledger_address(email)
    subscriber = Subscriber.objects.select_for_update().with_address(email).first()
    standing = standing_purposes(email=email)
    changes = {purpose: want for purpose, want in wanted.items() if bool(want) != standing[purpose]}
    if any(changes.values()) and not consent:
        raise ConsentRequired
    if not changes:
        return subscriber, []
    policies = policies_current()
    if any(changes.values()) and policies is None:
        raise SignUpClosed
    now = timezone.now()
    hashed = ip_hash(ip)
    person = person or (subscriber.person if subscriber else None) or _person_with_address(email)
    newsletter = changes.get(Purpose.NEWSLETTER)
    if newsletter and subscriber is None:
        try:
            with transaction.atomic():  # a savepoint: a sign-up of the address may win
                subscriber = Subscriber.objects.create(
                    email=email,
                    status=SubscriberStatus.ACTIVE,
                    language=language or settings.LANGUAGE_CODE,
                    wants_events=wanted.get(Purpose.EVENTS, standing[Purpose.EVENTS]),
                    person=person,
                    source=source,
                    confirmed_at=now,
                    confirmation_ip_hash=hashed,
                )
                newsletter = None  # done
        except IntegrityError:
            subscriber = Subscriber.objects.select_for_update().with_address(email).get()
    if subscriber is not None:
        if newsletter is True:
            subscriber.status = SubscriberStatus.ACTIVE
            subscriber.wants_newsletter = True
            subscriber.confirmed_at = subscriber.confirmed_at or now
            subscriber.unsubscribed_at = None
        elif newsletter is False:
            subscriber.status = SubscriberStatus.UNSUBSCRIBED
            subscriber.wants_newsletter = False
            subscriber.unsubscribed_at = now
        if Purpose.EVENTS in wanted:
            subscriber.wants_events = bool(wanted[Purpose.EVENTS])
        subscriber.save()
    rows = [
        _consent_write(
            email=email,
            purpose=purpose,
            granted=granted,
            source=source,
            at=now,
            ip_hash=hashed,
            policies=policies,
            subscriber=subscriber,
            person=person,
            by=by,
        )
        for purpose, granted in changes.items()
    ]
    return subscriber, rows


@transaction.atomic
def consents_update(
    *,
    email: str,
    wanted: dict[str, bool],
    consent: bool,
    source: str,
    ip: str = "",
    person: Person | None = None,
    by: Any = None,
    language: str = "",
) -> list[Consent]:
    """Grant or withdraw purposes for an address (a member's consents page, staff
    recording a written request with `by`); the rows written, one per change."""
    _subscriber, rows = _purposes_change(
        email=email,
        wanted=wanted,
        consent=consent,
        source=source,
        ip=ip,
        person=person,
        by=by,
        language=language,
    )
    return rows


@transaction.atomic
def subscriber_preferences_update(
    *,
    email: str,
    newsletter: bool,
    events: bool,
    consent: bool,
    language: str,
    topics: Iterable[Topic] | None = None,
    ip: str = "",
    source: str = SOURCE_PREFERENCES,
) -> tuple[Subscriber | None, list[Consent]]:
    """The preference centre: the kinds of mail (ledger rows for each change; turning
    one on needs the consent box), then the subscriber's language and topics."""
    subscriber, rows = _purposes_change(
        email=email,
        wanted={Purpose.NEWSLETTER: newsletter, Purpose.EVENTS: events},
        consent=consent,
        source=source,
        ip=ip,
        person=None,
        by=None,
        language=language,
    )
    if subscriber is not None:
        if language and subscriber.language != language:
            subscriber.language = language
            subscriber.save(update_fields=["language"])
        if topics is not None:
            subscriber.topics.set(list(topics))
    return subscriber, rows


@transaction.atomic
def subscriber_unsubscribe(*, email: str, source: str, ip: str = "", by: Any = None) -> bool:
    """Leave the newsletter at once (RFC 8058 one-click, the unsubscribe page, staff):
    the subscriber is unsubscribed and the ledger has a withdrawal. True if anything
    changed; an address that was not subscribed is answered the same."""
    email = ledger_address(email)
    subscriber = Subscriber.objects.select_for_update().with_address(email).first()
    changed = False
    now = timezone.now()
    if subscriber is not None and subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.wants_newsletter = False
        subscriber.unsubscribed_at = now
        subscriber.save()
        changed = True
    if Consent.objects.standing(email=email, purpose=Purpose.NEWSLETTER):
        _consent_write(
            email=email,
            purpose=Purpose.NEWSLETTER,
            granted=False,
            source=source,
            at=now,
            ip_hash=ip_hash(ip),
            policies=policies_current(),
            subscriber=subscriber,
            person=(subscriber.person if subscriber else None) or _person_with_address(email),
            by=by,
        )
        changed = True
    return changed


def subscribers_purge_unconfirmed(*, now: datetime.datetime | None = None) -> int:
    """Housekeeping: delete sign-ups whose address was not confirmed within
    DIPLOHUB_SIGNUP_PENDING_DAYS of the latest request; how many. A sign-up being
    confirmed at this moment is locked by its confirmation and skipped."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.SIGNUP_PENDING_DAYS)
    stale = Subscriber.objects.filter(status=SubscriberStatus.PENDING).filter(
        Q(confirmation_sent_at__lt=cutoff)
        | Q(confirmation_sent_at__isnull=True, created_at__lt=cutoff)
    )
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                stale.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:500]
            )
            if not ids:
                return total
            _deleted, per_model = Subscriber.objects.filter(pk__in=ids).delete()
            total += per_model.get(Subscriber._meta.label, 0)


# --- Policies ------------------------------------------------------------------------


class PolicyError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def policy_document_publish(
    *, document: PolicyDocument, at: datetime.datetime | None = None
) -> PolicyDocument:
    """Put a draft in force (now, or at `at`). It must be newer than every published
    version of its kind; once published its text never changes."""
    document = PolicyDocument.objects.select_for_update().get(pk=document.pk)
    if document.is_published:
        raise PolicyError(
            _("%(document)s is already published; write a new version instead.")
            % {"document": document}
        )
    newest = (
        PolicyDocument.objects.filter(kind=document.kind, published_at__isnull=False)
        .order_by("-version")
        .first()
    )
    if newest is not None and newest.version >= document.version:
        raise PolicyError(
            _("%(document)s cannot be published after %(newest)s: give it a higher version.")
            % {"document": document, "newest": newest}
        )
    document.published_at = at or timezone.now()
    document.save(update_fields=["published_at"])
    return document


@transaction.atomic
def policy_document_new_version(*, kind: str) -> PolicyDocument:
    """A draft of the next version of `kind`, starting from the newest version's text."""
    newest = (
        PolicyDocument.objects.select_for_update().filter(kind=kind).order_by("-version").first()
    )
    draft = PolicyDocument(kind=kind, version=(newest.version + 1) if newest else 1)
    for field_name in ("title", "body"):
        for code in settings.MODELTRANSLATION_LANGUAGES:
            column = f"{field_name}_{code}"
            setattr(draft, column, getattr(newest, column) if newest else "")
    if newest is None:
        draft.title = str(PolicyKind(kind).label)
    draft.save()
    return draft


# --- Personal data: export and erasure --------------------------------------------------


@dataclass
class _Held:
    """The rows the hub holds about one address."""

    subscribers: Any
    consents: Any
    people: Any
    users: Any
    registrations: Any
    invitations: Any
    feedback: Any
    calendar_feeds: Any
    outbox: Any


def _held(email: str) -> _Held:
    from diplohub.accounts.models import User
    from diplohub.events.models import CalendarFeed, Feedback, Invitation, Registration

    address = ledger_address(email)
    people = Person.objects.filter(Q(email__iexact=address) | Q(user__email__iexact=address))
    person_ids = list(people.values_list("pk", flat=True))
    subscriber_ids = list(
        Subscriber.objects.with_address(address).values_list("pk", flat=True)
    ) + list(Subscriber.objects.filter(person__in=person_ids).values_list("pk", flat=True))
    subscribers = Subscriber.objects.filter(pk__in=subscriber_ids)
    users = User.objects.filter(Q(email__iexact=address) | Q(person__in=person_ids)).distinct()
    return _Held(
        subscribers=subscribers,
        consents=Consent.objects.filter(
            Q(email=address) | Q(person__in=person_ids) | Q(subscriber__in=subscriber_ids)
        ).order_by("at", "pk"),
        people=Person.objects.filter(pk__in=person_ids),
        users=users,
        registrations=Registration.objects.filter(person__in=person_ids),
        invitations=Invitation.objects.filter(person__in=person_ids),
        feedback=Feedback.objects.filter(registration__person__in=person_ids),
        calendar_feeds=CalendarFeed.objects.filter(person__in=person_ids),
        outbox=OutboundEmail.objects.filter(to__iexact=address),
    )


def personal_data_summary(*, email: str) -> dict[str, int]:
    """How many rows of each kind the hub holds about an address (the staff page)."""
    held = _held(email)
    return {name: rows.count() for name, rows in vars(held).items()}


def _when(moment: datetime.datetime | datetime.date | None) -> str | None:
    return moment.isoformat() if moment else None


def personal_data_export(*, email: str) -> dict[str, Any]:
    """Everything the hub holds about an address, as plain JSON-ready data: the
    subscription, the consent history, the directory entry and its posts, event
    invitations, registrations and feedback, the account, and the messages sent to it."""
    held = _held(email)
    address = ledger_address(email)

    def policy(document: PolicyDocument | None) -> str | None:
        return f"{document.kind} v{document.version}" if document else None

    subscribers = [
        {
            "email": s.email,
            "first_name": s.first_name,
            "last_name": s.last_name,
            "organization": s.organization_name,
            "country": s.country.code or "",
            "position": s.position,
            "topics": sorted(t.slug for t in s.topics.all()),
            "language": s.language,
            "status": s.status,
            "wants_newsletter": s.wants_newsletter,
            "wants_events": s.wants_events,
            "signed_up_through": s.source,
            "signed_up_at": _when(s.created_at),
            "confirmation_sent_at": _when(s.confirmation_sent_at),
            "confirmed_at": _when(s.confirmed_at),
            "unsubscribed_at": _when(s.unsubscribed_at),
            "request_ip_hash": s.request_ip_hash,
            "confirmation_ip_hash": s.confirmation_ip_hash,
        }
        for s in held.subscribers.prefetch_related("topics")
    ]
    consents = [
        {
            "email": c.email,
            "purpose": c.purpose,
            "granted": c.granted,
            "privacy_policy": policy(c.privacy_policy),
            "terms": policy(c.terms),
            "source": c.source,
            "at": _when(c.at),
            "ip_hash": c.ip_hash,
            "requested_at": _when(c.requested_at),
            "request_ip_hash": c.request_ip_hash,
            "recorded_by_staff": c.by_id is not None,
        }
        for c in held.consents.select_related("privacy_policy", "terms")
    ]
    people = [
        {
            "honorific_prefix": p.honorific_prefix,
            "given_name": p.given_name,
            "family_name": p.family_name,
            "form_of_address": p.form_of_address,
            "languages": p.languages,
            "email": p.email,
            "phone": p.phone,
            "posts": [
                {
                    "post": m.post.label,
                    "organization": m.post.organization.name,
                    "start_date": _when(m.start_date),
                    "end_date": _when(m.end_date),
                }
                for m in p.memberships.select_related("post__organization").order_by(
                    "start_date", "pk"
                )
            ],
        }
        for p in held.people
    ]
    registrations = [
        {
            "event": r.event.title,
            "event_start": _when(r.event.start),
            "status": r.status,
            "organization": r.organization.name if r.organization else None,
            "registered_at": _when(r.created_at),
            "checked_in_at": _when(r.checked_in_at),
            "id_check_note": r.id_check_note,
        }
        for r in held.registrations.select_related("event", "organization")
    ]
    invitations = [
        {
            "event": i.event.title,
            "status": i.status,
            "invited_at": _when(i.created_at),
            "answered_at": _when(i.answered_at),
        }
        for i in held.invitations.select_related("event")
    ]
    feedback = [
        {
            "event": f.registration.event.title,
            "rating": f.rating,
            "comments": f.comments,
            "given_at": _when(f.created_at),
        }
        for f in held.feedback.select_related("registration__event")
    ]
    accounts = [
        {
            "username": u.username,
            "email": u.email,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "language": u.language,
            "roles": sorted(g.name for g in u.groups.all()),
            "date_joined": _when(u.date_joined),
            "last_login": _when(u.last_login),
        }
        for u in held.users.prefetch_related("groups")
    ]
    outbox = [
        {
            "kind": m.kind,
            "subject": m.subject,
            "language": m.language,
            "status": m.status,
            "queued_at": _when(m.created_at),
            "sent_at": _when(m.sent_at),
        }
        for m in held.outbox.order_by("created_at", "pk")
    ]
    erasures = [
        _when(at)
        for at in Erasure.objects.filter(email_hash=email_hash(address)).values_list(
            "at", flat=True
        )
    ]
    return {
        "email": address,
        "exported_at": _when(timezone.now()),
        "hub": settings.HUB_NAME,
        "subscriptions": subscribers,
        "consents": consents,
        "directory": people,
        "accounts": accounts,
        "invitations": invitations,
        "registrations": registrations,
        "feedback": feedback,
        "calendar_feeds": held.calendar_feeds.count(),
        "messages": outbox,
        "earlier_erasures": erasures,
    }


@transaction.atomic
def personal_data_erase(*, email: str, by: Any = None) -> Erasure | None:
    """Erase what the hub holds about an address, keeping the figures it feeds.

    1. consent rows stay (the proof of what was agreed and withdrawn) with the address
       replaced by a salted hash marker and the IP hashes blanked;
    2. the subscriber is deleted;
    3. directory entries are anonymised, their history deleted; their registrations,
       invitations and feedback ratings stay, feedback comments and ID-check notes go;
       their private calendar feeds are deleted;
    4. accounts are anonymised and deactivated (a staff account is refused);
    5. the outbox keeps its rows without the address; what was still queued is dropped;
    6. an Erasure row records the hash, the counts, who and when.

    None when the hub holds nothing about the address."""
    from diplohub.accounts.models import ApiToken
    from diplohub.events.models import Registration
    from diplohub.lib import pagecache

    address = ledger_address(email)
    held = _held(address)
    summary = {name: rows.count() for name, rows in vars(held).items()}
    if not any(summary.values()):
        return None
    if held.users.filter(Q(is_staff=True) | Q(is_superuser=True)).exists():
        raise ErasureRefused(
            _("This address belongs to a staff account: take its staff rights away first.")
        )
    hashed = email_hash(address)
    person_ids = list(held.people.values_list("pk", flat=True))
    registration_ids = list(held.registrations.values_list("pk", flat=True))

    held.consents.update(email=f"{hashed}@{ERASED_DOMAIN}", ip_hash="", request_ip_hash="")
    held.subscribers.delete()
    held.feedback.update(comments="")
    held.registrations.update(id_check_note="")
    Registration.history.model.objects.filter(id__in=registration_ids).update(  # type: ignore[attr-defined]
        id_check_note=""
    )
    held.calendar_feeds.delete()
    history = Person.history.model.objects.filter(id__in=person_ids)  # type: ignore[attr-defined]
    summary["history"] = history.count()
    history.delete()
    held.people.update(
        honorific_prefix="",
        given_name=ERASED_NAME,
        family_name="",
        form_of_address="",
        languages=[],
        email="",
        phone="",
    )
    for user in list(held.users):
        ApiToken.objects.filter(user=user).delete()
        user.username = f"erased-{user.pk}"
        user.email = ""
        user.first_name = ""
        user.last_name = ""
        user.language = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
    held.outbox.filter(status=EmailStatus.QUEUED).update(status=EmailStatus.SKIPPED)
    held.outbox.update(to="")
    transaction.on_commit(pagecache.invalidate)
    return Erasure.objects.create(
        email_hash=hashed, by=by if getattr(by, "pk", None) else None, summary=summary
    )


# === Campaigns: newsletters written by staff, sent to a segment ========================
# Compose (campaign_create / campaign_update), try (campaign_send_test), schedule or send
# (campaign_schedule / campaign_queue, campaigns_start_due for the scheduled ones),
# stop (campaign_cancel). Each recipient gets one outbox row of kind mailing.campaign,
# built at send time by mailing/campaign_emails.py; its key makes queueing twice
# harmless. Who may receive one at all: mailing.audience.may_receive_campaigns.

CAMPAIGN_KIND = "mailing.campaign"
CAMPAIGN_TEST_KIND = "mailing.campaign_test"
# Characters of Markdown per language: far beyond any newsletter, well below a size
# that would make every message of a campaign a burden on the relay.
CAMPAIGN_BODY_MAX = 100_000
CAMPAIGN_SUBJECT_MAX = 200
_QUEUE_BATCH = 1000


class CampaignError(Exception):
    """A campaign workflow refused: `message` is for a person, `code` for scripts,
    `field` names the input at fault when there is one."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass(frozen=True)
class CampaignText:
    subject: str = ""
    body: str = ""


def _language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


def _campaign_texts_check(texts: dict[str, CampaignText]) -> dict[str, CampaignText]:
    """Texts with their whitespace tidied, or CampaignError naming the field at fault:
    subject and body come together, within their sizes, and the default language is
    written (it is what every reader of a language not written gets)."""
    spoken = [code for code, _name in settings.LANGUAGES]
    unknown = sorted(set(texts) - set(spoken))
    if unknown:
        raise CampaignError(
            _("The hub does not write in: %(codes)s.") % {"codes": ", ".join(unknown)},
            code="language",
            field="language",
        )
    cleaned: dict[str, CampaignText] = {}
    for code in spoken:
        text = texts.get(code, CampaignText())
        # One line: a subject is a header, and a line break would end it.
        subject = " ".join(text.subject.split())
        body = text.body.replace("\r\n", "\n").strip()
        language = _language_name(code)
        if len(subject) > CAMPAIGN_SUBJECT_MAX:
            raise CampaignError(
                _("The subject in %(language)s is too long: at most %(max)d characters.")
                % {"language": language, "max": CAMPAIGN_SUBJECT_MAX},
                code="too_long",
                field=f"subject_{code}",
            )
        if len(body) > CAMPAIGN_BODY_MAX:
            raise CampaignError(
                _("The text in %(language)s is too long: %(length)d characters, at most %(max)d.")
                % {"language": language, "length": len(body), "max": CAMPAIGN_BODY_MAX},
                code="too_long",
                field=f"body_{code}",
            )
        if subject and not body:
            raise CampaignError(
                _("Write the text in %(language)s too, or leave its subject empty.")
                % {"language": language},
                code="incomplete",
                field=f"body_{code}",
            )
        if body and not subject:
            raise CampaignError(
                _("Give the %(language)s text a subject, or leave it empty.")
                % {"language": language},
                code="incomplete",
                field=f"subject_{code}",
            )
        cleaned[code] = CampaignText(subject, body)
    if not cleaned[settings.LANGUAGE_CODE].subject:
        raise CampaignError(
            _(
                "Write the campaign in %(language)s at least: readers of a language "
                "it is not written in get that text."
            )
            % {"language": _language_name(settings.LANGUAGE_CODE)},
            code="no_default_text",
            field=f"subject_{settings.LANGUAGE_CODE}",
        )
    return cleaned


def _campaign_audience_check(audience: Audience) -> Audience:
    try:
        return audience.check()
    except AudienceError as error:
        raise CampaignError(error.message, code="audience", field=error.field) from None


def _campaign_slug(wanted: str, subject: str, *, exclude: int | None = None) -> str:
    """The campaign's address in the archive: the one asked for (refused if taken),
    else one made from the subject, numbered if that is taken."""
    taken = Campaign.objects.exclude(pk=exclude) if exclude else Campaign.objects.all()
    if wanted:
        slug = slugify(wanted)[:100]
        if not slug:
            raise CampaignError(
                _("Use letters, digits and hyphens for the address."), code="slug", field="slug"
            )
        if taken.filter(slug=slug).exists():
            raise CampaignError(
                _("Another campaign already has the address “%(slug)s”.") % {"slug": slug},
                code="slug",
                field="slug",
            )
        return slug
    base = slugify(subject)[:100] or "newsletter"
    slug, number = base, 1
    while taken.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def _campaign_apply(campaign: Campaign, texts: dict[str, CampaignText]) -> None:
    for code, text in texts.items():
        setattr(campaign, f"subject_{code}", text.subject)
        setattr(campaign, f"body_{code}", text.body)


def campaign_create(
    *,
    texts: dict[str, CampaignText],
    audience: Audience,
    in_archive: bool = True,
    slug: str = "",
    by: Any = None,
) -> Campaign:
    """A draft campaign: texts per language code, the segment it goes to."""
    texts = _campaign_texts_check(texts)
    audience = _campaign_audience_check(audience)
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        campaign = Campaign(
            slug=_campaign_slug(slug, texts[settings.LANGUAGE_CODE].subject),
            audience=audience.as_json(),
            in_archive=in_archive,
            created_by=by if getattr(by, "pk", None) else None,
        )
        _campaign_apply(campaign, texts)
        campaign.save()
    return campaign


def campaign_update(
    *,
    campaign: Campaign,
    texts: dict[str, CampaignText],
    audience: Audience,
    in_archive: bool = True,
    slug: str = "",
) -> Campaign:
    """Change a draft or a scheduled campaign (not one being sent or sent)."""
    texts = _campaign_texts_check(texts)
    audience = _campaign_audience_check(audience)
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not locked.is_editable:
            raise campaign_not_editable(locked)
        if slug and slugify(slug) != locked.slug:
            locked.slug = _campaign_slug(slug, "", exclude=locked.pk)
        locked.audience = audience.as_json()
        locked.in_archive = in_archive
        _campaign_apply(locked, texts)
        locked.save()
    return locked


def campaign_not_editable(campaign: Campaign) -> CampaignError:
    """The refusal to change a campaign that is being sent, sent or cancelled."""
    return CampaignError(
        _("This campaign is %(status)s: it can no longer be changed.")
        % {"status": campaign.get_status_display().lower()},
        code="not_editable",
    )


def campaign_send_test(*, campaign: Campaign, user: Any) -> list[OutboundEmail]:
    """The campaign to the staff member's own address, once in each language it is
    written in, marked [TEST], exactly as a recipient of that language gets it."""
    address = (getattr(user, "email", "") or "").strip()
    if not address:
        raise CampaignError(
            _("Your account has no e-mail address to send the test to."), code="no_address"
        )
    sent = []
    with transaction.atomic():
        for language in campaign.languages:
            email = email_enqueue(
                kind=CAMPAIGN_TEST_KIND,
                to=address,
                language=language,
                params={"campaign": campaign.pk},
            )
            if email is not None:
                sent.append(email)
    return sent


def campaign_schedule(
    *, campaign: Campaign, when: datetime.datetime, now: datetime.datetime | None = None
) -> Campaign:
    """Send the campaign at `when` (a worker's housekeeping starts it then)."""
    now = now or timezone.now()
    if timezone.is_naive(when):
        raise CampaignError(_("Give the time with its time zone."), code="naive", field="when")
    if when <= now:
        raise CampaignError(
            _("That time has passed: choose one in the future, or send it now."),
            code="past",
            field="when",
        )
    with transaction.atomic():
        updated = Campaign.objects.filter(
            pk=campaign.pk, status__in=(CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
        ).update(status=CampaignStatus.SCHEDULED, scheduled_for=when)
        if not updated:
            campaign.refresh_from_db()
            raise campaign_not_editable(campaign)
    campaign.refresh_from_db()
    return campaign


def campaign_queue(*, campaign: Campaign, scheduled: bool = False) -> int:
    """Send the campaign now: one outbox row per recipient; returns how many.

    1. Take it from draft (or scheduled) to sending with one conditional UPDATE: of
       two calls at once only one goes on, the other is refused (CampaignError).
       `scheduled`: only if it is scheduled and due (the housekeeping job).
    2. Write a row per recipient, in their language if the campaign is written in
       it, else the default, in batches that skip a key already there, so even a
       second writer could not add anyone twice.
    3. Once committed, ask for send tasks, a batch of rows each.
    """
    now = timezone.now()
    with transaction.atomic():
        startable = Campaign.objects.filter(pk=campaign.pk)
        if scheduled:
            startable = startable.filter(status=CampaignStatus.SCHEDULED, scheduled_for__lte=now)
        else:
            startable = startable.filter(
                status__in=(CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
            )
        if not startable.update(status=CampaignStatus.SENDING, started_at=now):
            campaign.refresh_from_db()
            raise CampaignError(
                _("This campaign is %(status)s: it cannot be sent again.")
                % {"status": campaign.get_status_display().lower()},
                code="not_sendable",
            )
        campaign.refresh_from_db()
        written = set(campaign.languages)
        default = settings.LANGUAGE_CODE
        audience = Audience.from_json(campaign.audience)
        batch: list[OutboundEmail] = []
        found = recipients(audience).order_by("pk").values_list("email", "language")
        for address, language in found.iterator(chunk_size=_QUEUE_BATCH):
            batch.append(
                OutboundEmail(
                    key=f"campaign:{campaign.pk}:{address.lower()}",
                    kind=CAMPAIGN_KIND,
                    params={"campaign": campaign.pk},
                    to=address,
                    language=language if language in written else default,
                    message_id=_message_id(),
                    campaign=campaign,
                    not_before=now,
                )
            )
            if len(batch) >= _QUEUE_BATCH:
                OutboundEmail.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        if batch:
            OutboundEmail.objects.bulk_create(batch, ignore_conflicts=True)
        queued = OutboundEmail.objects.filter(campaign=campaign).count()
        if not queued:
            # Nobody was in the audience: the campaign is done.
            Campaign.objects.filter(pk=campaign.pk).update(
                status=CampaignStatus.SENT, finished_at=now
            )
        pk = campaign.pk
        transaction.on_commit(lambda: _campaign_ask_for_sending(pk))
    campaign.refresh_from_db()
    return queued


def _campaign_ask_for_sending(campaign_pk: int) -> None:
    from diplohub.mailing.tasks import send_emails

    pks = list(
        OutboundEmail.objects.filter(campaign_id=campaign_pk, status=EmailStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    size = settings.MAIL_BATCH_SIZE
    for start in range(0, len(pks), size):
        send_emails.enqueue(pks[start : start + size])


def campaign_cancel(*, campaign: Campaign) -> int:
    """Stop a campaign: a scheduled one goes back to draft (its texts kept); one being
    sent is cancelled, and its messages not yet sent are skipped (how many: the
    answer). A message a worker is sending at that moment still goes out."""
    now = timezone.now()
    with transaction.atomic():
        if Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
            status=CampaignStatus.DRAFT, scheduled_for=None
        ):
            campaign.refresh_from_db()
            return 0
        if not Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.CANCELLED, finished_at=now
        ):
            campaign.refresh_from_db()
            raise CampaignError(
                _("Only a scheduled campaign or one being sent can be cancelled."),
                code="not_cancellable",
            )
        skipped = OutboundEmail.objects.filter(campaign=campaign, status=EmailStatus.QUEUED).update(
            status=EmailStatus.SKIPPED, last_error="The campaign was cancelled."
        )
    campaign.refresh_from_db()
    return skipped


def campaigns_finish(*, now: datetime.datetime | None = None) -> int:
    """Campaigns being sent with no message left to send (all sent, failed or
    skipped) are sent; how many."""
    left = OutboundEmail.objects.filter(
        campaign=OuterRef("pk"), status__in=(EmailStatus.QUEUED, EmailStatus.SENDING)
    )
    return (
        Campaign.objects.filter(status=CampaignStatus.SENDING)
        .exclude(Exists(left))
        .update(status=CampaignStatus.SENT, finished_at=now or timezone.now())
    )


def campaigns_start_due(*, now: datetime.datetime | None = None) -> int:
    """The housekeeping job: start the scheduled campaigns whose time has come (each
    in its own transaction; another worker may start one first), and mark finished
    the ones with nothing left to send. Returns how many were started."""
    now = now or timezone.now()
    started = 0
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_for__lte=now)
    for campaign in due.order_by("scheduled_for", "pk"):
        try:
            campaign_queue(campaign=campaign, scheduled=True)
        except CampaignError:
            continue  # started by another worker meanwhile
        started += 1
    campaigns_finish()
    return started
