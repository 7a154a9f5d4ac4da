"""The error a failed step or run records (type, message, traceback), read back whatever its shape.

Steps record ``{"type", "message", "traceback"}``; runs record ``{"message"}``; older records or
other writers may hold a bare string, or that object encoded as JSON text. Readers (the CLI, the
API, the UI) show all of them the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorInfo:
    type: str = ""
    message: str = ""
    traceback: str = ""

    @classmethod
    def of(cls, value: Any) -> ErrorInfo | None:
        """The recorded ``value`` as an ErrorInfo; None if nothing was recorded."""
        if value is None or value == "" or value == {}:
            return None
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except ValueError:
                return cls(message=value)
            if not isinstance(decoded, (dict, str)):
                return cls(message=value)
            return cls.of(decoded)
        if isinstance(value, dict):
            return cls(
                type=_text(value.get("type")),
                message=_text(value.get("message")),
                traceback=_text(value.get("traceback")),
            )
        return cls(message=str(value))

    @property
    def headline(self) -> str:
        """``Type: message`` (or whichever of the two was recorded)."""
        return ": ".join(part for part in (self.type, self.message) if part)


def _text(value: Any) -> str:
    return "" if value is None else str(value)
