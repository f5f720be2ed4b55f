"""Test helpers shared across apps: a real SMTP server to send mail to.

    def test_it_mails_a_link(client, smtp_server):
        with mail_to_smtp(smtp_server):
            client.post(...)
        message = smtp_server.messages[0]          # an email.message.EmailMessage
        body = message.get_body(("plain",)).get_content()

The server is aiosmtpd on 127.0.0.1 and a free port, in a thread of its own; Django
talks to it with its ordinary SMTP backend, so what the test reads is what a mail
relay would have received, headers, encoding and all.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[ReceivedMail] = field(default_factory=list)
    # Answers to give to the next messages instead of accepting them, in order
    # (e.g. "451 4.3.0 Try again later", "550 5.1.1 No such mailbox").
    replies: list[str] = field(default_factory=list)
    # Called on every RCPT TO with the address (a test may stop the sender there).
    on_rcpt: Callable[[str], None] | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.received]

    def clear(self) -> None:
        self.received.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages once at least `count` have arrived (for mail sent by another
        thread or process); fails the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"expected {count} messages, the SMTP server got {len(self.received)}")
            time.sleep(0.02)
        return self.messages

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]

    # aiosmtpd handler hooks
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.on_rcpt is not None:
            self.on_rcpt(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            return self.replies.pop(0)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self.received.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
        )
        return "250 Message accepted for delivery"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 for this test; see mail_to_smtp()."""
    host = "127.0.0.1"
    for attempt in range(5):
        server = SmtpServer(host=host, port=_free_port(host))
        controller = Controller(server, hostname=host, port=server.port)
        try:
            controller.start()
        except (OSError, RuntimeError):
            # Another process took the port between our probe and the bind.
            if attempt == 4:
                raise
            continue
        break
    try:
        yield server
    finally:
        controller.stop()


def mail_to_smtp(server: SmtpServer) -> override_settings:
    """Settings that send Django's mail to `server` (a context manager or decorator)."""
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=server.host,
        EMAIL_PORT=server.port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=10,
    )
