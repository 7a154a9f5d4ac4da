"""``[io_manager]`` and ``[io_managers.NAME]`` of ``legato.toml``: which IO manager plugin stores
the project's assets.

    [io_manager]                     # every asset without its own (default: files under storage)
    type = "fsspec"
    url = "s3://analytics/legato"

    [io_managers.archive]            # an asset with io_manager="archive"
    type = "filesystem"
    root = "/mnt/archive"

``type`` names a plugin of the entry-point group ``legato.io_managers``: checked when the settings
load (nothing imported), made where the project's code is loaded (``make_io_managers``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from legato import plugins
from legato.definitions.io import DEFAULT_IO, IOManager, IOManagerConfig
from legato.definitions.project import Project
from legato.errors import ConfigError, LegatoError
from legato.loader.secret_fields import with_secret_refs

_TYPES = '"filesystem", "fsspec" or a plugin\'s name'


def parse_io_managers(
    table: Mapping[str, Any], *, root: Path, storage: Path, source: str
) -> dict[str, IOManagerConfig]:
    """The IO managers ``table`` (the whole config) configures, by name; ``io_manager`` is the
    project's default. A table may be written as its type alone: ``io_manager = "fsspec"``."""
    named = table.get("io_managers", {})
    if not isinstance(named, dict):
        raise _error(source, "io_managers", "must be a table", "write [io_managers.NAME] tables")
    if DEFAULT_IO in named:
        fix = "write the project's default as [io_manager]"
        raise _error(source, f"io_managers.{DEFAULT_IO}", "is the default's name", fix)
    entries = dict(named)
    if table.get(DEFAULT_IO) is not None:
        entries[DEFAULT_IO] = table[DEFAULT_IO]
    found: dict[str, IOManagerConfig] = {}
    for name, value in entries.items():
        key = DEFAULT_IO if name == DEFAULT_IO else f"io_managers.{name}"
        values = {"type": value} if isinstance(value, str) else value
        if not isinstance(values, dict):
            raise _error(source, key, "must be a table", f"write [{key}] with type = {_TYPES}")
        kind = values.get("type")
        if not isinstance(kind, str) or not kind:
            problem = "is missing" if kind is None else f"{kind!r} is not a name"
            raise _error(source, f"{key}.type", problem, f"set type = {_TYPES}")
        plugins.check(plugins.IO_MANAGERS, kind, source=f"{source}: {key}.type")
        options = {
            k: with_secret_refs(v, f"{key}.{k}", source) for k, v in values.items() if k != "type"
        }
        found[name] = IOManagerConfig(name, kind, options, root, storage, source)
    return found


def make_io_managers(
    configs: Mapping[str, IOManagerConfig], defined: Mapping[str, str]
) -> tuple[dict[str, IOManager], list[LegatoError]]:
    """Each configured IO manager, made by its plugin, and an error for each that cannot be
    (plugin missing or broken, a bad field, a name a module ``defined`` too: name → module)."""
    made: dict[str, IOManager] = {}
    errors: list[LegatoError] = []
    for name, config in configs.items():
        if name in defined:
            errors.append(
                _error(
                    config.source,
                    config.key,
                    f"and `{name}` of module {defined[name]} both define IO manager {name!r}",
                    "keep one of them",
                )
            )
            continue
        try:
            made[name] = _make(config)
        except LegatoError as exc:
            errors.append(exc)
    return made, errors


def _make(config: IOManagerConfig) -> IOManager:
    factory = plugins.load(
        plugins.IO_MANAGERS, config.type, source=f"{config.source}: {config.key}.type"
    )
    try:
        manager = factory(config)
    except LegatoError:
        raise
    except Exception as exc:  # a plugin's own failure: name the table, not the plugin's internals
        fix = f"fix [{config.key}] or the package that registers {config.type!r}"
        problem = f"could not be made by the {config.type!r} plugin: {type(exc).__name__}: {exc}"
        raise config.error(problem, fix) from exc
    if not isinstance(manager, IOManager):
        fix = f"the {config.type!r} plugin must return an object with store, load and exists"
        raise config.error(f"was made as {manager!r}, which is not an IO manager", fix)
    return manager


def undefined_io_managers(project: Project, configured: Iterable[str]) -> list[LegatoError]:
    """An error for each asset whose ``io_manager=`` names no IO manager and no resource (one
    ``configured`` that could not be made has its own error)."""
    known = {*project.io_managers, *project.resources, *configured}
    errors: list[LegatoError] = []
    for step in project.steps:
        name = step.io_manager
        if name is None or name in known:
            continue
        installed = ", ".join(plugins.names(plugins.IO_MANAGERS))
        errors.append(
            ConfigError(
                f"{step.kind} {step.key!r} ({step.source}) uses io_manager {name!r}, which no "
                f"project module and no [io_managers.{name}] defines",
                obj=step.key,
                source=step.source,
                hint=f"add [io_managers.{name}] with type = one of {installed} to the config, or "
                f"define `{name} = MyIOManager(...)` in a project module",
            )
        )
    return errors


def _error(source: str, key: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{source}: {key} {problem}", obj=key, source=source, hint=fix)
