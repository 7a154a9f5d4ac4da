"""Secret values: resolved by name where a step runs, and masked in everything that leaves it.

A secret is named, never written: ``SecretRef("WAREHOUSE_PASSWORD")`` resolves, in the process
that runs the step, from the environment variable of that name or from the file of that name in
``$LEGATO_SECRETS_DIR`` (the layout of Docker and Kubernetes secret mounts). Every value resolved
in a process is remembered there, and :func:`redact` replaces it, and its base64, URL, hex, JSON
and repr forms, with ``***``. Every process also remembers the values of the secrets its project
references (:func:`remember_names`), and masks what it prints, logs and stores
(``legato._internal.masking`` and the store), so a value is masked wherever it travels.

Values shorter than :data:`MIN_LENGTH` are refused: masking every ``a`` or ``1234`` would garble
ordinary log lines, and a secret that short protects nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from legato.errors import ConfigError

MIN_LENGTH = 8
MASK = "***"
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None
_shortest = MIN_LENGTH  # the length of the shortest form masked
_lock = threading.Lock()


def resolve(name: str) -> str:
    """The value of the secret ``name``; remembered so that :func:`redact` masks it."""
    value = _lookup(name)
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


def _lookup(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None:
        directory = os.environ.get("LEGATO_SECRETS_DIR")
        path = Path(directory, name) if directory else None
        try:
            if path is not None and path.is_file():
                value = path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError):
            return None
    return value


def remember_names(names: Iterable[str]) -> None:
    """Mask from now on the values of the secrets ``names`` that this process can resolve.

    Every process that runs anything of a project calls this with the names the project
    references before running user code, so a value is masked there even if it arrives by
    another way than ``SecretRef.get()`` (a stored value, a message, an error from elsewhere).
    Names it cannot resolve are skipped: the process that uses them reports that.
    """
    for name in names:
        value = _lookup(name)
        if value is not None:
            remember(value)


def remember(value: str) -> None:
    """Mask ``value`` from now on in this process."""
    global _pattern, _shortest
    if len(value) < MIN_LENGTH:
        return
    with _lock:
        if value in _values:
            return
        _values.add(value)
        forms = {form for v in _values for form in _encodings(v)}
        # Longest first, so that a value containing another is masked whole.
        alternatives = sorted(forms, key=len, reverse=True)
        _shortest = len(alternatives[-1])
        _pattern = re.compile("|".join(re.escape(f) for f in alternatives))


def active() -> bool:
    """Whether any secret is remembered (nothing to mask otherwise)."""
    return _pattern is not None


def redact(text: str) -> str:
    """``text`` with every remembered secret (and its common encodings) replaced by ``***``."""
    pattern = _pattern
    if pattern is None or len(text) < _shortest:  # most text is shorter than any secret's form
        return text
    return pattern.sub(MASK, text)


def redact_data(value: Any) -> Any:
    """``value`` (JSON-like data) with :func:`redact` applied to every string in it, keys too."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_data(v) for v in value)
    return value


def _encodings(value: str) -> set[str]:
    raw = value.encode("utf-8")
    forms = {
        value,
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        raw.hex(),
        json.dumps(value)[1:-1],  # inside JSON text (the store's JSON columns, logged JSON)
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],  # inside a repr (tracebacks, logged containers)
    }
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode("ascii")
        forms.update((encoded, encoded.rstrip("=")))
    return {f for f in forms if len(f) >= MIN_LENGTH}
