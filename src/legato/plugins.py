"""Plugins: the executors, message sources, IO managers and alert channels Legato can use, found
by name through entry points.

Legato declares its built-ins in its own ``pyproject.toml`` exactly as another package declares
its own, so a third-party executor is chosen by name like ``process`` or ``dask``::

    [project.entry-points."legato.executors"]
    gpu = "acme_legato.gpu:make_executor"     # (ExecutorOptions) -> Executor

    [project.entry-points."legato.message_sources"]
    sqs = "acme_legato.sqs:SqsMessageSource"  # (spec, *, now) -> MessageSource; spec.kind == "sqs"

    [project.entry-points."legato.io_managers"]
    lake = "acme_legato.lake:LakeIOManager.from_config"  # (IOManagerConfig) -> IOManager

    [project.entry-points."legato.alert_channels"]
    pager = "acme_legato.pager:PagerChannel"  # (Channel) -> AlertChannel

Nothing is imported until a plugin is used, so a heavy extra (Dask, a broker client) costs
nothing to the processes that never use it. The installed names are read once per ``sys.path``.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from legato.errors import ConfigError, LegatoError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

EXECUTORS = "legato.executors"
MESSAGE_SOURCES = "legato.message_sources"
IO_MANAGERS = "legato.io_managers"
ALERT_CHANNELS = "legato.alert_channels"
_WHAT = {
    EXECUTORS: "executor",
    MESSAGE_SOURCES: "message source",
    IO_MANAGERS: "IO manager",
    ALERT_CHANNELS: "alert channel",
}


def names(group: str) -> tuple[str, ...]:
    """The names installed in ``group``, sorted."""
    return tuple(sorted(_installed(group, tuple(sys.path))))


def check(group: str, name: str, *, source: str, error: type[LegatoError] = ConfigError) -> None:
    """Raise ``error`` unless a plugin called ``name`` is installed in ``group`` (nothing is
    imported). ``source`` says where the name came from, for the message."""
    found = _installed(group, tuple(sys.path))
    if name in found:
        return
    what = _WHAT.get(group, group)
    choices = ", ".join(sorted(found)) or "none"
    hint = f"use one of them, or install the package that registers {name!r} under the "
    hint += f"entry-point group {group!r}"
    if not any(_distribution(e) == "legato" for points in found.values() for e in points):
        hint = "Legato's own entry points are missing: reinstall it (pip install -e .)"
    place = f"{source}: " if source else ""  # "": the caller names the place itself
    raise error(
        f"{place}{what} {name!r} is not one of the installed {what}s ({choices})",
        obj=name,
        source=source or None,
        hint=hint,
    )


def load(group: str, name: str, *, source: str) -> Any:
    """The object the plugin ``name`` of ``group`` names, imported now.

    Raises:
        ConfigError: no such plugin (naming ``source`` and the installed choices), two packages
            register the name, or the plugin cannot be imported.
    """
    check(group, name, source=source)
    points = _installed(group, tuple(sys.path))[name]
    what = _WHAT.get(group, group)
    if len(points) > 1:
        owners = " and ".join(sorted(_distribution(p) for p in points))
        raise ConfigError(
            f"{source}: {what} {name!r} is registered by {owners}",
            obj=name,
            source=source,
            hint="uninstall one of them",
        )
    try:
        return points[0].load()
    except Exception as exc:  # a broken plugin: name it, not the import machinery
        raise ConfigError(
            f"{source}: {what} {name!r} ({points[0].value}, from {_distribution(points[0])}) "
            f"could not be loaded: {type(exc).__name__}: {exc}",
            obj=name,
            source=source,
            hint="install its extra or fix the package that registers it",
        ) from exc


@lru_cache(maxsize=16)
def _installed(group: str, path: tuple[str, ...]) -> dict[str, list[EntryPoint]]:
    from importlib.metadata import entry_points  # costs tens of ms: only when a name is asked

    found: dict[str, list[EntryPoint]] = {}
    for point in entry_points(group=group):
        found.setdefault(point.name, []).append(point)
    return found


def _distribution(point: EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    return str(dist.name) if dist is not None else "an unknown package"
