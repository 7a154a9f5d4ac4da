"""Where the shop's alerts go while you try them: a webhook receiver and an SMTP server on this
machine, each printing a line for what it receives, until Ctrl-C.

    pip install aiosmtpd        # the SMTP server
    python receivers.py         # http://127.0.0.1:8765 and SMTP on 127.0.0.1:8025

Uncomment the alert channels and rule at the end of legato.toml: they point at these two ports.
``--webhook-port`` and ``--smtp-port`` choose others (then change legato.toml to match).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def say(line: str) -> None:
    print(line, flush=True)  # a line as soon as it arrives, also when the output is a pipe


class Webhook(BaseHTTPRequestHandler):
    """Answers every POST with 200 and prints the alert it carries."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            alert = json.loads(body or b"null")
        except ValueError:
            alert = None
        if isinstance(alert, dict) and "event" in alert:  # Legato's webhook JSON
            say(f"webhook {self.path}: {alert['event']} {alert['kind']} {alert['subject']}")
            say(f"  {alert['summary']}")
        elif isinstance(alert, dict) and "text" in alert:  # a Slack-style message
            say(f"webhook {self.path}: {alert['text'].splitlines()[0]}")
        else:
            say(f"webhook {self.path}: {body[:200]!r}")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:  # the lines above say what arrived
        pass


class Mailbox:
    """An aiosmtpd handler that prints the recipients and subject of each mail."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.original_content)
        subject = " ".join(str(mail["Subject"]).split())  # unfolded: one line
        say(f"mail to {', '.join(envelope.rcpt_tos)}: {subject}")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhook-port", type=int, default=8765)
    parser.add_argument("--smtp-port", type=int, default=8025)
    args = parser.parse_args()
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        raise SystemExit("the SMTP server needs aiosmtpd: pip install aiosmtpd") from None

    webhook = ThreadingHTTPServer(("127.0.0.1", args.webhook_port), Webhook)
    threading.Thread(target=webhook.serve_forever, daemon=True).start()
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=args.smtp_port)
    smtp.start()
    say(
        f"webhook receiver on http://127.0.0.1:{args.webhook_port}, "
        f"SMTP server on 127.0.0.1:{args.smtp_port}; Ctrl-C stops them"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        smtp.stop()
        webhook.shutdown()
        webhook.server_close()


if __name__ == "__main__":
    main()
