"""Project settings from ``legato.toml`` or ``pyproject.toml [tool.legato]``, then the environment.

Environment variables override files: ``LEGATO_DATABASE_URL``, ``LEGATO_STORAGE``,
``LEGATO_EXECUTOR``, ``LEGATO_MAX_CONCURRENCY``, ``LEGATO_API_TOKEN_EXPIRY``,
``LEGATO_DURABILITY``, and
``LEGATO_RESOURCE__<NAME>__<FIELD>`` for one field of a resource (e.g.
``LEGATO_RESOURCE__WAREHOUSE__URL``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legato import plugins
from legato._internal.durations import parse_duration
from legato.definitions.io import IOManagerConfig
from legato.definitions.retention import Retention
from legato.errors import ConfigError
from legato.loader.alerts import AlertSettings, parse_alerts
from legato.loader.io_managers import parse_io_managers
from legato.store.engine import DURABILITY, Store
from legato.store.snapshots import DEFAULT_LOCATION

_KNOWN = {
    "pools",
    "run_queue",
    "modules",
    "paths",
    "database_url",
    "storage",
    "io_manager",
    "io_managers",
    "executor",
    "max_concurrency",
    "resources",
    "project",
    "secrets",
    "alerts",
    "retention",
    "api_token_expiry",
    "name",
    "durability",
}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
# How much lower the CPU priority of the daemon's run workers (user code) is than the daemon's
# (a Unix nice increment): on a busy machine the daemon's loops come first, so schedules tick on
# time however much user work runs.
WORKER_NICE = 10


@dataclass(frozen=True)
class RunQueueSettings:
    """``[tool.legato.run_queue]``: how many runs the daemon executes at once (in all, per
    pipeline and per tag, ``"team=finance"``), and how much lower its run workers' CPU priority
    is than its own."""

    max_concurrent_runs: int = 4
    worker_nice: int = WORKER_NICE
    pipelines: Mapping[str, int] = field(default_factory=dict)
    tags: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Where the project's code is, where its state lives, and how it runs by default."""

    root: Path
    name: str = DEFAULT_LOCATION  # its code location in the store: what it records, what it reads
    modules: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    database_url: str = ""
    durability: str = "normal"  # "strict": commit and fsync every state change (store.engine)
    storage: Path = Path()
    io_managers: Mapping[str, IOManagerConfig] = field(default_factory=dict)  # [io_manager] too
    executor: str = "process"
    max_concurrency: int = 0
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    pools: Mapping[str, int] = field(default_factory=dict)
    run_queue: RunQueueSettings = field(default_factory=RunQueueSettings)
    secrets: tuple[str, ...] = ()  # secret names to mask that no SecretRef at module level names
    alerts: AlertSettings = field(default_factory=AlertSettings)
    retention: Retention | None = None  # the project's default; a pipeline's own comes first
    api_token_expiry: float = 90 * 86400.0  # seconds a new API token lasts unless told otherwise
    source: str = "defaults"

    def open_store(self) -> Store:
        """The project's store, with its durability."""
        return Store(self.database_url, durability=self.durability)

    @property
    def state_dir(self) -> Path:
        return self.root / ".legato"


def find_config(start: Path) -> tuple[Path, dict[str, Any], str] | None:
    """The nearest directory at or above ``start`` with Legato config: (dir, table, file)."""
    for directory in (start, *start.parents):
        toml = directory / "legato.toml"
        if toml.is_file():
            data = _read(toml)
            return directory, data.get("tool", {}).get("legato", data), str(toml)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read(pyproject)
            table = data.get("tool", {}).get("legato")
            if table is not None:
                return directory, table, str(pyproject)
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}",
            source=str(path),
            hint="fix the syntax error at the line shown",
        ) from None


def load_settings(start: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings for the project containing ``start`` (default: the current directory)."""
    env = os.environ if env is None else env
    start = (start or Path.cwd()).resolve()
    found = find_config(start)
    root, table, source = found if found else (start, {}, "defaults")
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise ConfigError(
            f"{source}: unknown setting(s) {unknown} in [tool.legato]",
            source=source,
            hint=f"known settings are {sorted(_KNOWN)}",
        )
    modules = _strings(table.get("modules", []), "modules", source)
    paths = _strings(table.get("paths", []), "paths", source)
    db = env.get("LEGATO_DATABASE_URL") or table.get("database_url") or ""
    if not isinstance(db, str):
        raise ConfigError(f"{source}: database_url must be a string", source=source)
    storage = Path(env.get("LEGATO_STORAGE") or table.get("storage") or ".legato/storage")
    executor = env.get("LEGATO_EXECUTOR") or table.get("executor") or "process"
    if not isinstance(executor, str):
        raise ConfigError(f"{source}: executor must be a name", source=source)
    if env.get("LEGATO_EXECUTOR") or table.get("executor"):  # one the user named: installed?
        where = "LEGATO_EXECUTOR" if env.get("LEGATO_EXECUTOR") else source
        plugins.check(plugins.EXECUTORS, executor, source=where)
    raw_conc = env.get("LEGATO_MAX_CONCURRENCY") or table.get("max_concurrency") or 0
    try:
        concurrency = int(raw_conc)
        if concurrency < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(
            f"{source}: max_concurrency {raw_conc!r} is not a whole number ≥ 0",
            source=source,
            hint="set max_concurrency = 4 (0 means one per CPU)",
        ) from None
    resources = _resources(table.get("resources", {}), env, source)
    pools = table.get("pools", {})
    if not isinstance(pools, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in pools.values()
    ):
        raise ConfigError(
            f"{source}: [tool.legato.pools] must map names to sizes ≥ 1",
            source=source,
            hint="write warehouse = 4",
        )
    storage = storage if storage.is_absolute() else root / storage
    return Settings(
        root=root,
        name=_name(table.get("name", DEFAULT_LOCATION), source),
        modules=modules,
        paths=paths,
        database_url=db or f"sqlite:///{root / '.legato' / 'legato.db'}",
        durability=_durability(env, table, source),
        storage=storage,
        io_managers=parse_io_managers(table, root=root, storage=storage, source=source),
        executor=executor,
        max_concurrency=concurrency,
        resources=resources,
        pools=dict(pools),
        run_queue=_run_queue(table.get("run_queue", {}), source),
        secrets=_strings(table.get("secrets", []), "secrets", source),
        alerts=parse_alerts(table.get("alerts", {}), source),
        retention=_retention(table.get("retention"), source),
        api_token_expiry=_token_expiry(env, table, source),
        source=source,
    )


def _durability(env: Mapping[str, str], table: Mapping[str, Any], source: str) -> str:
    """``durability``: "normal" (commit per wave of steps, SQLite ``synchronous=NORMAL``) or
    "strict" (commit every state change, SQLite ``synchronous=FULL``)."""
    where = "LEGATO_DURABILITY" if env.get("LEGATO_DURABILITY") else source
    value = env.get("LEGATO_DURABILITY") or table.get("durability", "normal")
    if value not in DURABILITY:
        raise ConfigError(
            f"{where}: durability {value!r} is not one of {', '.join(DURABILITY)}",
            source=where,
            hint='write durability = "strict" to commit and fsync every state change, or '
            '"normal" (the default) to commit once per wave of steps',
        )
    return str(value)


def _name(value: Any, source: str) -> str:
    """``name``: the project's name in a store that several projects share."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ConfigError(
            f"{source}: name {value!r} is not a project name",
            source=source,
            hint='write name = "sales": up to 100 letters, digits, "_", "-" or "."',
        )
    return value


def _token_expiry(env: Mapping[str, str], table: Mapping[str, Any], source: str) -> float:
    """``api_token_expiry``: how long a new API token lasts, e.g. ``"90d"`` (the default)."""
    where = "LEGATO_API_TOKEN_EXPIRY" if env.get("LEGATO_API_TOKEN_EXPIRY") else source
    value = env.get("LEGATO_API_TOKEN_EXPIRY") or table.get("api_token_expiry", "90d")
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(
            f"{where}: api_token_expiry: {exc}",
            source=where,
            hint='write a duration such as api_token_expiry = "30d"',
        ) from None
    if not 60 <= seconds <= 3650 * 86400:
        raise ConfigError(
            f"{where}: api_token_expiry must be from 1 minute to 3650 days",
            source=where,
            hint='write a duration such as api_token_expiry = "30d"',
        )
    return seconds


def _strings(value: Any, name: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"{source}: {name} must be a list of strings",
            source=source,
            hint=f'write {name} = ["..."]',
        )
    return tuple(value)


def _resources(table: Any, env: Mapping[str, str], source: str) -> dict[str, dict[str, Any]]:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [tool.legato.resources] must be a table", source=source)
    out: dict[str, dict[str, Any]] = {}
    for name, values in table.items():
        if not isinstance(values, dict):
            raise ConfigError(
                f"{source}: resources.{name} must be a table of fields",
                source=source,
                hint=f"write [tool.legato.resources.{name}] with fields",
            )
        out[name] = dict(values)
    prefix = "LEGATO_RESOURCE__"
    for key, value in env.items():
        if key.startswith(prefix) and key.count("__") == 2:
            name, field_name = key[len(prefix) :].split("__")
            out.setdefault(name.lower(), {})[field_name.lower()] = value
    return out


def _run_queue(table: Any, source: str) -> RunQueueSettings:
    """``[tool.legato.run_queue]``, checked."""
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [tool.legato.run_queue] must be a table", source=source)
    unknown = sorted(set(table) - {"max_concurrent_runs", "pipelines", "tags", "worker_nice"})
    if unknown:
        raise ConfigError(
            f"{source}: unknown run_queue setting(s) {unknown}",
            source=source,
            hint="use max_concurrent_runs, pipelines, tags and worker_nice",
        )
    for name in ("pipelines", "tags"):
        limits = table.get(name, {})
        if not isinstance(limits, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in limits.values()
        ):
            raise ConfigError(
                f"{source}: run_queue.{name} must map names to limits ≥ 1",
                source=source,
                hint=f"write {name} = {{ nightly = 1 }}",
            )
    total = table.get("max_concurrent_runs", 4)
    if not isinstance(total, int) or isinstance(total, bool) or total < 1:
        raise ConfigError(
            f"{source}: run_queue.max_concurrent_runs must be a whole number ≥ 1",
            source=source,
            hint="write max_concurrent_runs = 4",
        )
    nice = table.get("worker_nice", WORKER_NICE)
    if not isinstance(nice, int) or isinstance(nice, bool) or not 0 <= nice <= 19:
        raise ConfigError(
            f"{source}: run_queue.worker_nice must be a whole number from 0 to 19",
            source=source,
            hint=f"write worker_nice = {WORKER_NICE} (0: the run workers run at the daemon's "
            "priority)",
        )
    return RunQueueSettings(
        max_concurrent_runs=total,
        worker_nice=nice,
        pipelines=dict(table.get("pipelines", {})),
        tags=dict(table.get("tags", {})),
    )


def _retention(table: Any, source: str) -> Retention | None:
    """``[retention]``: ``days`` and ``runs``, the default of every pipeline without its own."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(
            f"{source}: retention must be a table", source=source, hint="write [retention]"
        )
    unknown = sorted(set(table) - {"days", "runs"})
    if unknown:
        raise ConfigError(
            f"{source}: unknown retention setting(s) {unknown}",
            source=source,
            hint="use days (runs older are deleted) and runs (the newest kept per pipeline)",
        )
    policy = Retention(days=table.get("days"), runs=table.get("runs"))
    if policy.problem:
        what, fix = policy.problem
        raise ConfigError(
            f"{source}: [retention] {what}", source=source, hint=f"{fix} under [retention]"
        )
    return policy
