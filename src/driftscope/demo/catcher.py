"""A local catcher for the demo's notifications: an SMTP server and a webhook receiver on 127.0.0.1.

Every email lands in ``<inbox>/mail-NNN.eml``; every webhook request in ``<inbox>/webhook-NNN.json``
with its path, headers, body and whether its HMAC signature verified. Requests with a bad
signature get 401, as a real receiver would answer.
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

from driftscope.alerting.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Inbox:
    """Numbered files in one folder, safe to write from several threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.count = {"mail": 0, "webhook": 0}

    def save(self, kind: str, suffix: str, content: bytes) -> None:
        with self._lock:
            self.count[kind] += 1
            (self.folder / f"{kind}-{self.count[kind]:03d}.{suffix}").write_bytes(content)


class _MailHandler:
    def __init__(self, inbox: _Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.save("mail", "eml", envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def _webhook_handler(inbox: _Inbox, secret: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            verified = verify(secret, timestamp=self.headers.get(TIMESTAMP_HEADER, ""), body=body,
                              signature=self.headers.get(SIGNATURE_HEADER, ""))
            record = {"path": self.path, "verified": verified, "headers": dict(self.headers),
                      "body": json.loads(body or b"null")}
            inbox.save("webhook", "json", json.dumps(record, indent=2).encode())
            self.send_response(200 if verified else 401)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the inbox is the log."""

    return Handler


class Catcher:
    """Start both servers on free ports; use as a context manager."""

    def __init__(self, inbox: Path, webhook_secret: str) -> None:
        self.inbox = _Inbox(inbox)
        self.smtp_port = free_port()
        self._smtp = Controller(_MailHandler(self.inbox), hostname="127.0.0.1", port=self.smtp_port)
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _webhook_handler(self.inbox, webhook_secret))
        self.webhook_url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> "Catcher":
        self._smtp.start()
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._smtp.stop()

    @property
    def received(self) -> dict[str, int]:
        """Messages received so far, by kind (``mail``, ``webhook``)."""
        return dict(self.inbox.count)
