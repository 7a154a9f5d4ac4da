"""A JSON response encoded with msgspec, for large payloads (the layout of 10,000 nodes)."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import Response

_encoder = msgspec.json.Encoder()


def fast_json(content: Any, status_code: int = 200) -> Response:
    return Response(
        _encoder.encode(content), status_code=status_code, media_type="application/json"
    )
