"""The IO manager protocol: how a step's value is stored and loaded between steps and runs, and
the table of ``legato.toml`` an IO manager plugin is made from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from legato.definitions.keys import StepKey
from legato.definitions.plugin_table import PluginTable

DEFAULT_IO = "io_manager"  # the name of the project's IO manager for every asset without its own


@dataclass(frozen=True)
class IOContext:
    """Which value is meant: an asset (``asset_key`` set) or a task result of one run."""

    step: StepKey
    run_id: str
    asset_key: str | None = None

    @property
    def partition_key(self) -> str:
        return self.step.partition


@runtime_checkable
class IOManager(Protocol):
    """Stores and loads values. Implementations must write atomically: a reader sees the previous
    complete value or the new complete one, never a partial one."""

    def store(self, context: IOContext, value: Any) -> Mapping[str, Any]:
        """Persist ``value``; return metadata recorded with the materialization (path, bytes…)."""
        ...

    def load(self, context: IOContext) -> Any:
        """Return the value stored for ``context``; raise KeyError-like if there is none."""
        ...

    def exists(self, context: IOContext) -> bool:
        """True if a complete value is stored for ``context``."""
        ...


@dataclass(frozen=True)
class IOManagerConfig(PluginTable):
    """An IO manager's table in ``legato.toml``, as the plugin its ``type`` names receives it.

    ``[io_manager]`` is the project's default for every asset (``name`` is ``"io_manager"``);
    ``[io_managers.NAME]`` is the one an asset with ``io_manager="NAME"`` uses. A plugin is a
    callable ``(IOManagerConfig) -> IOManager`` registered under the entry-point group
    ``legato.io_managers``; it is called where the project's code is loaded, checks its fields
    (``check_fields``, ``error``) and connects nowhere yet. The IO manager it makes is sent to
    worker processes with the project, so it must pickle.
    """

    name: str
    type: str
    options: Mapping[str, Any]  # the fields besides ``type``; ``{secret = "NAME"}`` is a SecretRef
    root: Path  # the project's directory: a relative path in ``options`` is under it
    storage: Path  # the ``storage`` setting: where the default IO manager writes
    source: str = "defaults"
    section: ClassVar[str] = "io_managers"

    @property
    def key(self) -> str:
        return DEFAULT_IO if self.name == DEFAULT_IO else f"io_managers.{self.name}"

    @property
    def noun(self) -> str:
        return "IO manager"

    def path(self, field: str, default: Path) -> Path:
        """The path option ``field`` (absolute, or relative to the project), else ``default``."""
        value = self.options.get(field)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise self.error(
                f"{value!r} is not a path", f'write {field} = "data/values"', field=field
            )
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.root / path
