"""``{secret = "NAME"}`` in a table of ``legato.toml``: a secret by name, never its value."""

from __future__ import annotations

from typing import Any

from legato.definitions.resources import SecretRef
from legato.errors import ConfigError


def with_secret_refs(value: Any, key: str, source: str) -> Any:
    """``value`` with each ``{secret = "NAME"}`` in it (also inside a table) a ``SecretRef``."""
    if isinstance(value, dict):
        if set(value) == {"secret"}:
            if not isinstance(value["secret"], str) or not value["secret"]:
                raise ConfigError(
                    f"{source}: {key} names no secret",
                    obj=key,
                    source=source,
                    hint='write {secret = "NAME"}',
                )
            return SecretRef(value["secret"])
        return {k: with_secret_refs(v, f"{key}.{k}", source) for k, v in value.items()}
    return value
