"""How a webhook delivery is signed: the scheme the sender and the server share (pure, no I/O).

The sender signs ``<timestamp>.<delivery id>.<raw body>`` with HMAC-SHA256 under the shared
secret and sends two headers::

    X-Legato-Signature: t=<unix seconds>,v1=<hex digest>
    X-Legato-Delivery: <delivery id>

The timestamp bounds how long a captured request can be replayed (the trigger's ``tolerance``),
and the delivery id, being signed, is a safe idempotency key: a replay inside the tolerance starts
no second run, and changing the id breaks the signature. Several ``v1=`` values may be sent while
a secret is rotated; one must match.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

SIGNATURE_HEADER = "X-Legato-Signature"
DELIVERY_HEADER = "X-Legato-Delivery"
DEFAULT_TOLERANCE = 300.0  # seconds a signed delivery stays acceptable

# Letters, digits, '-', '_' and ':' (a UUID, "evt_123", "github:abc"): never '.', the separator
# of the signed string, so no two (delivery, body) pairs sign the same bytes.
DELIVERY_ID = re.compile(r"[A-Za-z0-9_:\-]{1,200}")
_PART = re.compile(r"\s*([a-z0-9]+)=([^,]*)\s*")


def webhook_signature(secret: str, timestamp: int, delivery: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<delivery>.<body>`` under ``secret``."""
    signed = f"{timestamp}.{delivery}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_webhook(
    secret: str, body: bytes, delivery: str, *, timestamp: int | None = None
) -> dict[str, str]:
    """The headers that sign ``body`` as delivery ``delivery`` (now, unless ``timestamp``).

    Send the same ``delivery`` again when a delivery is retried: the server starts one run per
    delivery id.
    """
    if not DELIVERY_ID.fullmatch(delivery):
        raise ValueError(f"delivery id {delivery!r} must be 1-200 letters, digits, '-', '_' or ':'")
    when = int(time.time()) if timestamp is None else int(timestamp)
    digest = webhook_signature(secret, when, delivery, body)
    return {SIGNATURE_HEADER: f"t={when},v1={digest}", DELIVERY_HEADER: delivery}


def parse_signature(header: str) -> tuple[int, list[str]] | None:
    """``(timestamp, [v1 digests])`` from an ``X-Legato-Signature`` value, or None if malformed."""
    timestamp: int | None = None
    digests: list[str] = []
    for part in header.split(",")[:10]:
        match = _PART.fullmatch(part)
        if match is None:
            return None
        name, value = match.groups()
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and re.fullmatch(r"[0-9a-f]{64}", value):
            digests.append(value)
    if timestamp is None or not digests:
        return None
    return timestamp, digests


def signature_matches(
    secret: str, timestamp: int, delivery: str, body: bytes, digests: list[str]
) -> bool:
    """Whether one of ``digests`` signs this delivery (compared in constant time)."""
    expected = webhook_signature(secret, timestamp, delivery, body).encode()
    return any(hmac.compare_digest(expected, d.encode()) for d in digests)
