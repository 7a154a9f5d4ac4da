"""The ``webhook`` and ``slack`` alert channels: an HTTP POST of the alert as JSON, or of its
``text`` alone for a Slack-compatible incoming webhook.

An error message never carries the URL: a Slack URL is a credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legato._internal.secrets import redact
from legato.definitions.channels import Channel, DeliveryError
from legato.definitions.resources import SecretRef


class WebhookChannel:
    """``type = "webhook"``: ``url`` (or ``{secret = "NAME"}``) and optional ``headers``."""

    optional: frozenset[str] = frozenset({"headers"})

    def __init__(self, channel: Channel) -> None:
        channel.check_fields(required={"url"}, optional=self.optional)
        url = channel.options["url"]
        if not isinstance(url, SecretRef) and not (
            isinstance(url, str) and url.startswith(("http://", "https://"))
        ):
            raise channel.error(
                f"{url!r} is not an http(s) URL", 'url = "https://..."', field="url"
            )
        headers = channel.options.get("headers", {})
        if not isinstance(headers, dict):
            raise channel.error("must be a table", "headers = {X-Token = ...}", field="headers")
        self.channel, self.url, self.headers = channel, url, headers

    def body(self, payload: Mapping[str, Any]) -> Any:
        """What is POSTed: the whole alert."""
        return dict(payload)

    def send(self, payload: Mapping[str, Any]) -> None:
        import httpx2  # loaded when a message is sent, not when the config loads

        channel = self.channel
        headers = {str(k): text(v) for k, v in self.headers.items()}
        try:
            response = httpx2.post(
                text(self.url), json=self.body(payload), headers=headers, timeout=channel.timeout
            )
        except httpx2.HTTPError as exc:  # its text may hold the URL: name the failure only
            raise DeliveryError(
                f"channel {channel.name!r} ({channel.type}): {type(exc).__name__}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(
                f"channel {channel.name!r} ({channel.type}) answered HTTP "
                f"{response.status_code}: {redact(response.text[:200])}"
            )


class SlackChannel(WebhookChannel):
    """``type = "slack"``: ``url`` of an incoming webhook; it receives ``{"text": ...}``."""

    optional: frozenset[str] = frozenset()

    def body(self, payload: Mapping[str, Any]) -> Any:
        return {"text": payload["text"]}


def text(value: Any) -> str:
    """A field's value as text: a ``SecretRef`` is read now (and masked from then on)."""
    return value.get() if isinstance(value, SecretRef) else str(value)
