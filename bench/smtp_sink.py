"""A local SMTP server for the campaign benchmark: accepts everything, writes a log.

    python bench/smtp_sink.py PORT LOG

aiosmtpd on 127.0.0.1:PORT, in a process of its own; each message accepted is one line
of LOG: the time it was accepted (Unix seconds), each recipient, and its Message-ID,
separated by tabs. Runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    def __init__(self, log: Any) -> None:
        self.log = log

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        headers = content.split(b"\r\n\r\n", 1)[0]
        found = MESSAGE_ID.search(headers)
        message_id = found.group(1).decode() if found else "-"
        for address in envelope.rcpt_tos:
            self.log.write(f"{time.time():.6f}\t{address}\t{message_id}\n")
        return "250 Message accepted for delivery"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    stop = threading.Event()
    with open(path, "w", buffering=1, encoding="utf-8") as log:
        controller = Controller(Sink(log), hostname="127.0.0.1", port=port)
        controller.start()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        print("ready", flush=True)
        stop.wait()
        controller.stop()


if __name__ == "__main__":
    main()
