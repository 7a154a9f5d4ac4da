"""Sending one alert message to one channel, by the plugin its ``type`` names (entry-point group
``legato.alert_channels``: Legato's ``webhook``, ``slack`` and ``email``, or another package's).

Secrets named in the channel's config are resolved by the plugin, in the sending process, and
masked from then on; whatever a plugin raises becomes a ``DeliveryError`` (and a retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from legato._internal.secrets import redact
from legato.definitions.channels import Channel, DeliveryError, make_channel
from legato.errors import LegatoError

__all__ = ["DeliveryError", "message", "send"]


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
        make_channel(channel).send(payload)
    except DeliveryError:
        raise
    except LegatoError as exc:  # a secret that is not set, a plugin no longer installed
        raise DeliveryError(f"channel {channel.name!r}: {exc}") from None
    except Exception as exc:  # whatever a plugin raises is a failed delivery, retried
        raise DeliveryError(
            f"channel {channel.name!r} ({channel.type}): {type(exc).__name__}: {redact(str(exc))}"
        ) from None


def _at(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
