"""Triggers besides schedules: declarative chaining, sensors and run requests (pure data).

Schedules (``Cron``, ``Every``) live in ``schedules``; message triggers in ``messages``. A trigger
is attached to a pipeline (``Pipeline(..., triggers=[...])``) or to an asset
(``@asset(triggers=[...])``, which makes a one-asset pipeline named after the asset).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from legato.definitions.messages import RunRequest
from legato.errors import DefinitionError

__all__ = [
    "FileArrival",
    "OnUpdate",
    "RunRequest",
    "Sensor",
    "SensorResult",
    "Webhook",
    "sensor",
]


def _caller() -> str:
    frame = sys._getframe(2)
    while frame.f_back is not None and "/legato/definitions/" in frame.f_code.co_filename:
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


@dataclass(frozen=True)
class SensorResult:
    """What a sensor evaluation returns: run requests, the new cursor, or why it skipped."""

    run_requests: Sequence[RunRequest] = ()
    cursor: str | None = None
    skip_reason: str | None = None
    dynamic_partitions: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class OnUpdate:
    """Run the target when its upstream partitions update (declarative chaining).

    For each target partition, the upstream partitions it reads (per its partition mapping) must
    all be materialized (``require="all"``), any one (``"any"``), or at least ``min_count``.
    Adding a downstream pipeline with ``OnUpdate`` changes nothing upstream.
    """

    require: Literal["all", "any"] = "all"
    min_count: int | None = None
    interval: float = 1.0  # seconds between looks at new materializations
    source: str = field(default_factory=_caller, compare=False)

    def __post_init__(self) -> None:
        if self.require not in ("all", "any"):
            raise DefinitionError(
                f"OnUpdate(require={self.require!r}) ({self.source}) is invalid",
                obj="OnUpdate",
                source=self.source,
                hint='use "all" or "any"',
            )
        if self.min_count is not None and (
            not isinstance(self.min_count, int) or self.min_count < 1
        ):
            raise DefinitionError(
                f"OnUpdate(min_count={self.min_count!r}) is invalid",
                obj="OnUpdate",
                source=self.source,
                hint="pass a whole number ≥ 1",
            )

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "on_update",
            "require": self.require,
            "min_count": self.min_count,
            "interval": self.interval,
        }


@dataclass(frozen=True, eq=False)
class Sensor:
    """A user function evaluated every ``interval`` seconds with a durable cursor.

    It receives a ``SensorContext`` (cursor, now, the store's dynamic partitions) and returns a
    ``SensorResult``, a list of ``RunRequest`` or None.
    """

    name: str
    fn: Callable[..., Any]
    interval: float = 30.0
    source: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.interval, int | float) or self.interval <= 0:
            raise DefinitionError(
                f"sensor {self.name!r} ({self.source}): interval is invalid",
                obj=self.name,
                source=self.source,
                hint="pass seconds > 0",
            )

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "sensor",
            "name": self.name,
            "interval": self.interval,
            "source": self.source,
        }


def sensor(
    fn: Callable[..., Any] | None = None, /, *, interval: float = 30.0, name: str | None = None
) -> Any:
    """Declare a sensor; attach it to a pipeline with ``Pipeline(..., triggers=[my_sensor])``.

    Example:
        >>> @sensor(interval=60)
        ... def new_files(context):
        ...     return [RunRequest(partition=p) for p in find_new(context.cursor)]
    """

    def decorate(f: Callable[..., Any]) -> Sensor:
        code = getattr(f, "__code__", None)
        where = f"{code.co_filename}:{code.co_firstlineno}" if code else None
        return Sensor(name or f.__name__, f, interval, where)

    return decorate(fn) if fn is not None else decorate


@dataclass(frozen=True)
class FileArrival:
    """A built-in sensor: request runs when a batch of files has fully arrived.

    Args:
        path: the landing directory (local path or fsspec URL).
        pattern: a path template under ``path`` whose ``{fields}`` become partition values,
            e.g. ``"{tenant}/{batch}/*.csv"``.
        expected: file names a batch must contain to be complete (``"manifest"`` in it: the
            manifest file lists them), or a callable ``fields -> list of names``.
        stable_for: seconds a batch's file sizes must stay unchanged.
        archive_to: copy each complete batch to ``archive_to/<timestamp>/...`` before requesting.
        dynamic_set: add the value of this field (e.g. ``tenant``) to the dynamic set of that name.
        partition: a template of the run's partition key from the fields, e.g. ``"{tenant}"``.
    """

    path: str
    pattern: str
    expected: Sequence[str] | Callable[[Mapping[str, str]], Sequence[str]] = ()
    stable_for: float = 0.0
    archive_to: str | None = None
    dynamic_set: str | None = None
    partition: str | None = None
    interval: float = 5.0
    name: str | None = None
    source: str = field(default_factory=_caller, compare=False)

    def __post_init__(self) -> None:
        if "{" not in self.pattern:
            raise DefinitionError(
                f"FileArrival pattern {self.pattern!r} ({self.source}) has no {{field}}",
                obj="FileArrival",
                source=self.source,
                hint='name the parts of the path, e.g. "{tenant}/{batch}/*.csv"',
            )
        if self.stable_for < 0 or self.interval <= 0:
            raise DefinitionError(
                f"FileArrival ({self.source}): stable_for and interval must be positive",
                obj="FileArrival",
                source=self.source,
            )

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "file_arrival",
            "path": self.path,
            "pattern": self.pattern,
            "stable_for": self.stable_for,
            "archive_to": self.archive_to,
            "dynamic_set": self.dynamic_set,
            "partition": self.partition,
            "interval": self.interval,
            "expected": list(self.expected) if not callable(self.expected) else "<function>",
        }


@dataclass(frozen=True)
class Webhook:
    """Start a run for each HMAC-signed HTTP POST to ``/api/v1/webhooks/<pipeline>``.

    The sender signs the raw body with a shared secret: header ``X-Legato-Signature:
    sha256=<hex HMAC-SHA256>``. The secret is read by the server from the environment variable
    ``secret_env`` and is never stored. The JSON object body becomes the run config; with
    ``partition_field`` its value names the partition. ``X-Legato-Delivery`` (the sender's
    delivery id) makes a retried delivery start no second run.
    """

    secret_env: str
    partition_field: str | None = None
    source: str = field(default_factory=_caller, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret_env, str) or not self.secret_env.replace("_", "").isalnum():
            raise DefinitionError(
                f"Webhook(secret_env={self.secret_env!r}) ({self.source}) is not an environment "
                "variable name",
                obj="Webhook",
                source=self.source,
                hint='name the variable holding the secret, e.g. Webhook(secret_env="ORDERS_HOOK")',
            )

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "webhook",
            "secret_env": self.secret_env,
            "partition_field": self.partition_field,
        }
