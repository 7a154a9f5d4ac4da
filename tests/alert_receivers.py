"""Real receivers for alert channels, started by a test and stopped after it: an HTTP server
recording JSON POSTs (webhooks, Slack) and an SMTP server (aiosmtpd) recording mails."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: Any


class WebhookReceiver:
    """POSTs to ``url`` are recorded in ``posts``; the next ``fail(n)`` of them get a 500."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self._failures = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver._lock:
                    failing = receiver._failures > 0
                    if failing:
                        receiver._failures -= 1
                    else:
                        receiver.posts.append(
                            Post(self.path, dict(self.headers), json.loads(raw or b"null"))
                        )
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if failing else b"ok")

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, n: int) -> None:
        with self._lock:
            self._failures = n

    def bodies(self, path: str | None = None) -> list[Any]:
        with self._lock:
            return [p.body for p in self.posts if path is None or p.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@dataclass
class SmtpReceiver:
    """An SMTP server on ``port`` that accepts the login ``user``/``password`` (if given)."""

    user: str | None = None
    password: str | None = None
    mails: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.mails.append(message_from_bytes(envelope.original_content))
                return "250 OK"

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any):
            ok = (auth.login.decode(), auth.password.decode()) == (self.user, self.password)
            if ok:
                receiver.logins.append(auth.login.decode())
            return AuthResult(success=ok)

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate if self.user else None,
            auth_require_tls=False,
        )
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(user="legato", password="smtp-secret-1234")
    yield receiver
    receiver.close()
