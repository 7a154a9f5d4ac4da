"""A plugin's table in ``legato.toml`` as the plugin sees it: its ``type``, its other fields, the
file they came from, and errors that name that file, the key and the fix.

An IO manager (``[io_managers.NAME]``) and an alert channel (``[alerts.channels.NAME]``) are
each made by the plugin their ``type`` names; the plugin checks its own fields with
:meth:`PluginTable.check_fields` and refuses a bad value with :meth:`PluginTable.error`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from legato.errors import ConfigError


class PluginTable:
    """What :class:`~legato.definitions.channels.Channel` and
    :class:`~legato.definitions.io.IOManagerConfig` share (both frozen dataclasses)."""

    name: str
    type: str
    options: Mapping[str, Any]  # the fields besides ``type`` (and ``common``); secrets as SecretRef
    source: str
    section: ClassVar[str] = ""  # the table its entries sit in, e.g. "alerts.channels"
    common: ClassVar[frozenset[str]] = frozenset({"type"})  # fields Legato reads itself

    @property
    def key(self) -> str:
        """Where the table is in its file, e.g. ``alerts.channels.ops``."""
        return f"{self.section}.{self.name}"

    def error(self, problem: str, fix: str, *, field: str | None = None) -> ConfigError:
        """The error for a bad field (or the whole table): ``FILE: KEY.FIELD PROBLEM; FIX``."""
        key = f"{self.key}.{field}" if field else self.key
        return ConfigError(f"{self.source}: {key} {problem}", obj=key, source=self.source, hint=fix)

    def check_fields(self, required: Iterable[str] = (), optional: Iterable[str] = ()) -> None:
        """Refuse a field that is neither ``required`` nor ``optional`` (suggesting the nearest
        known one), then a ``required`` field that is missing."""
        needed = set(required)
        known = needed | set(optional) | self.common
        for field in sorted(set(self.options) - known):
            close = difflib.get_close_matches(field, sorted(known), n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"known keys are {sorted(known)}"
            raise self.error("is not a setting", fix, field=field)
        for field in sorted(needed - set(self.options)):
            raise self.error("is missing", f"a {self.type} {self.noun} needs {field}", field=field)

    @property
    def noun(self) -> str:
        """What the table configures, for messages (``channel``, ``IO manager``)."""
        return "plugin"
