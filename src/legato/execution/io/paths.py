"""Where a value lives under a storage root: path segments made safe from keys and run ids."""

from __future__ import annotations

import hashlib
import re

from legato.definitions.io import IOContext
from legato.errors import PartitionError

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_ALL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def path_segment(text: str) -> str:
    """A filesystem-safe, collision-free segment: percent-encode all but ``[A-Za-z0-9_-]``."""
    if not text:
        raise PartitionError("an empty name cannot be a path segment")
    if len(text) > 60:  # stay under NAME_MAX (255) after encoding; longer keys end in a digest
        return _encode(text[:40]) + "~" + hashlib.sha256(text.encode()).hexdigest()[:40]
    return _encode(text)


def storage_parts(context: IOContext, *, where: str) -> list[str]:
    """The path segments a value is stored under: ``assets/<key segments>/<partition>`` or
    ``runs/<run>/<step>``. Every segment is a validated key segment or percent-encoded (no "/",
    no ".."), so the result lies under any root by construction; no lookups are needed."""
    if context.asset_key is not None:
        parts = [
            "assets",
            *context.asset_key.split("."),
            path_segment(context.partition_key) if context.partition_key else "__all__",
        ]
    else:
        parts = ["runs", path_segment(context.run_id), path_segment(str(context.step))]
    if any(p in ("", ".", "..") or "/" in p for p in parts):
        raise PartitionError(f"refusing to store {parts!r}: not a safe path under {where}")
    return parts


def describe_value(context: IOContext) -> tuple[str, str]:
    """The value ``context`` names, and the command that materializes it again (for errors)."""
    if context.asset_key is None:
        return (
            f"the result of step {str(context.step)!r} of run {context.run_id}",
            f"legato rerun {context.run_id}",
        )
    partition = context.partition_key
    if not partition:
        return f"asset {context.asset_key!r}", f"legato run {context.asset_key}"
    return (
        f"asset {context.asset_key!r} partition {partition!r}",
        f"legato run {context.asset_key} --partition {partition}",
    )


def _encode(text: str) -> str:
    if _ALL_SAFE.fullmatch(text):  # run ids and most keys: nothing to encode
        return text
    # urllib's quote() never encodes "." (so ".." would survive); encode every byte ourselves.
    return "".join(chr(b) if chr(b) in _SAFE else f"%{b:02X}" for b in text.encode())
