"""JSON for what crosses to and from remote workers: step specs and outcomes. Never pickle.

Decoding is typed (msgspec builds exactly ``StepSpec``/``StepOutcome`` and the plain values in
them, and rejects anything else), so a hostile worker or database row can at worst produce a
malformed outcome, never run code in the engine (RELIABILITY S-09).
"""

from __future__ import annotations

from typing import Any

import msgspec

from legato.execution.capture import LogRecordTuple
from legato.execution.spec import StepOutcome, StepSpec

_encoder = msgspec.json.Encoder(enc_hook=lambda value: str(value))  # odd metadata → its text
_spec = msgspec.json.Decoder(StepSpec)
_outcome = msgspec.json.Decoder(StepOutcome)
_lines = msgspec.json.Decoder(list[tuple[float, str, str, str]])


class MalformedMessage(ValueError):
    """A spec, outcome or log chunk from the queue could not be decoded."""


def encode(value: Any) -> str:
    return _encoder.encode(value).decode()


def decode_spec(text: str | bytes) -> StepSpec:
    try:
        return _spec.decode(text)
    except msgspec.DecodeError as exc:
        raise MalformedMessage(f"malformed step spec: {exc}") from None


def decode_outcome(text: str | bytes) -> StepOutcome:
    try:
        return _outcome.decode(text)
    except msgspec.DecodeError as exc:
        raise MalformedMessage(f"malformed step outcome: {exc}") from None


def decode_lines(text: str | bytes) -> list[LogRecordTuple]:
    try:
        return _lines.decode(text)
    except msgspec.DecodeError as exc:
        raise MalformedMessage(f"malformed log chunk: {exc}") from None
