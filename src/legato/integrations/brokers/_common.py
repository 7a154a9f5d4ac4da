"""What every broker source shares: dead-letter headers, content ids, header text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from legato.definitions.messages import Message

REASON_HEADER = "legato-dead-letter-reason"
MESSAGE_ID_HEADER = "legato-message-id"
SOURCE_HEADER = "legato-source"


def dead_letter_headers(message: Message, reason: str, *, limit: int = 1000) -> dict[str, str]:
    """The original headers plus the reason, message id and source, each one printable ASCII line."""
    headers = {k: header_text(v, limit) for k, v in message.headers.items()}
    headers[REASON_HEADER] = header_text(reason, limit)
    headers[MESSAGE_ID_HEADER] = header_text(message.id, limit)
    headers[SOURCE_HEADER] = header_text(message.source, limit)
    return headers


def header_text(text: str, limit: int = 1000) -> str:
    """One printable ASCII line of at most ``limit`` characters (brokers reject newlines)."""
    flat = " ".join(text.split())
    flat = flat.encode("ascii", errors="backslashreplace").decode("ascii")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def as_text(value: object) -> str:
    """A header value from a broker client (bytes, numbers, nested tables) as text."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def content_id(place: str, body: bytes, headers: Mapping[str, str]) -> str:
    """An id for brokers that give none: a hash of where the message was, its body and headers.

    Two messages with the same body and headers at the same place share an id, so the second is
    taken for a redelivery of the first; publishers that may repeat a payload should set an id.
    """
    digest = hashlib.sha256()
    for part in (place.encode(), json.dumps(sorted(headers.items())).encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return "sha256:" + digest.hexdigest()[:40]
