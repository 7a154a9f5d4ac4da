"""Secret values: resolved by name where a step runs, and masked in everything that leaves it.

A secret is named, never written: ``SecretRef("WAREHOUSE_PASSWORD")`` resolves, in the process
that runs the step, from the environment variable of that name or from the file of that name in
``$LEGATO_SECRETS_DIR`` (the layout of Docker and Kubernetes secret mounts). Every value resolved
in a process is remembered there, and :func:`redact` replaces it, and its base64, URL and hex
encodings, with ``***`` in step logs and error messages before they are recorded anywhere.

Values shorter than :data:`MIN_LENGTH` are refused: masking every ``a`` or ``1234`` would garble
ordinary log lines, and a secret that short protects nothing.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import urllib.parse
from pathlib import Path

from legato.errors import ConfigError

MIN_LENGTH = 8
MASK = "***"
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def resolve(name: str) -> str:
    """The value of the secret ``name``; remembered so that :func:`redact` masks it."""
    value = os.environ.get(name)
    if value is None:
        directory = os.environ.get("LEGATO_SECRETS_DIR")
        path = Path(directory, name) if directory else None
        if path is not None and path.is_file():
            value = path.read_text(encoding="utf-8").rstrip("\r\n")
    if value is None:
        where = "the environment"
        if os.environ.get("LEGATO_SECRETS_DIR"):
            where += " or $LEGATO_SECRETS_DIR"
        raise ConfigError(
            f"secret {name!r} is not set in {where}",
            obj=name,
            hint=f"export {name}=... where steps run, or put it in a file named {name} in the "
            "directory $LEGATO_SECRETS_DIR names",
        )
    if len(value) < MIN_LENGTH:
        raise ConfigError(
            f"secret {name!r} is {len(value)} characters long; Legato refuses secrets shorter "
            f"than {MIN_LENGTH} characters (masking them would garble ordinary log text)",
            obj=name,
            hint="use a longer, random value",
        )
    remember(value)
    return value


def remember(value: str) -> None:
    """Mask ``value`` from now on in this process."""
    global _pattern
    if len(value) < MIN_LENGTH:
        return
    with _lock:
        if value in _values:
            return
        _values.add(value)
        forms = {form for v in _values for form in _encodings(v)}
        # Longest first, so that a value containing another is masked whole.
        alternatives = sorted(forms, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(f) for f in alternatives))


def redact(text: str) -> str:
    """``text`` with every remembered secret (and its common encodings) replaced by ``***``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def _encodings(value: str) -> set[str]:
    raw = value.encode("utf-8")
    forms = {
        value,
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        raw.hex(),
    }
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode("ascii")
        forms.update((encoded, encoded.rstrip("=")))
    return {f for f in forms if len(f) >= MIN_LENGTH}
