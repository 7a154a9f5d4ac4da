"""Sending one alert message to one channel: a JSON webhook, a Slack-compatible incoming
webhook, or email over SMTP.

Secrets named in the channel's config are resolved here, in the sending process, and masked
from then on; an error message never carries the channel's URL (a Slack URL is a credential).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from legato._internal.secrets import redact
from legato.definitions.resources import SecretRef
from legato.errors import LegatoError
from legato.loader.alerts import Channel


class DeliveryError(LegatoError):
    """A channel refused a message or could not be reached (the message is retried)."""


def message(
    *,
    alert_id: int | None,
    kind: str,
    event: str,
    subject: str,
    summary: str,
    status: str,
    opened_at: float,
    resolved_at: float | None = None,
    occurrences: int = 1,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON a webhook receives; Slack and email get its ``text``."""
    label = "RESOLVED" if event == "resolved" else "FIRING"
    text = f"[Legato] {label} {kind}: {summary}"
    if event == "resolved" and resolved_at is not None:
        text += f" (resolved at {_at(resolved_at)})"
    elif status == "resolved":
        text += " (recovered since)"
    return {
        "alert_id": alert_id,
        "event": event,
        "kind": kind,
        "subject": subject,
        "status": status,
        "summary": summary,
        "text": text,
        "opened_at": opened_at,
        "resolved_at": resolved_at,
        "occurrences": occurrences,
        "detail": dict(detail or {}),
    }


def send(channel: Channel, payload: Mapping[str, Any]) -> None:
    """Send ``payload`` on ``channel``; raise ``DeliveryError`` saying why it did not go."""
    try:
        if channel.type == "email":
            _email(channel, payload)
        else:
            body = dict(payload) if channel.type == "webhook" else {"text": payload["text"]}
            _post(channel, body)
    except DeliveryError:
        raise
    except LegatoError as exc:  # a secret that is not set
        raise DeliveryError(f"channel {channel.name!r}: {exc}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"channel {channel.name!r} ({channel.type}): {type(exc).__name__}: {redact(str(exc))}"
        ) from None


def _post(channel: Channel, body: Mapping[str, Any]) -> None:
    import httpx2  # loaded when a message is sent, not when the daemon starts

    headers = {str(k): _get(v) for k, v in (channel.options.get("headers") or {}).items()}
    try:
        response = httpx2.post(
            _get(channel.options["url"]), json=body, headers=headers, timeout=channel.timeout
        )
    except httpx2.HTTPError as exc:  # its text may hold the URL: name the failure only
        raise DeliveryError(
            f"channel {channel.name!r} ({channel.type}): {type(exc).__name__}"
        ) from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(
            f"channel {channel.name!r} ({channel.type}) answered HTTP {response.status_code}: "
            f"{redact(response.text[:200])}"
        )


def _email(channel: Channel, payload: Mapping[str, Any]) -> None:
    o = channel.options
    mail = EmailMessage()
    mail["From"] = _get(o["from"])
    mail["To"] = ", ".join(_get(a) for a in o["to"])
    mail["Subject"] = payload["text"][:200]
    detail = "\n".join(f"{k}: {v}" for k, v in payload.get("detail", {}).items())
    mail.set_content(f"{payload['text']}\n\n{detail}\n")
    with smtplib.SMTP(_get(o["host"]), int(o["port"]), timeout=channel.timeout) as smtp:
        if o.get("starttls"):
            smtp.starttls(context=ssl.create_default_context())
        if o.get("user") is not None:
            smtp.login(_get(o["user"]), _get(o["password"]))
        smtp.send_message(mail)


def _get(value: Any) -> str:
    return value.get() if isinstance(value, SecretRef) else str(value)


def _at(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
