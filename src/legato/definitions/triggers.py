"""Triggers besides schedules: declarative chaining, sensors and run requests (pure data).

Schedules (``Cron``, ``Every``) live in ``schedules``; message triggers in ``messages``. A trigger
is attached to a pipeline (``Pipeline(..., triggers=[...])``) or to an asset
(``@asset(triggers=[...])``, which makes a one-asset pipeline named after the asset).
"""

from __future__ import annotations

import os
import re
import string
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any, Literal

from legato._internal.durations import parse_duration
from legato.definitions.messages import RunRequest
from legato.definitions.trigger_specs import (
    FileArrivalSpec,
    OnUpdateSpec,
    SensorSpec,
    WebhookSpec,
    describe,
)
from legato.definitions.webhooks import DEFAULT_TOLERANCE
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
    since: str | float | timedelta | datetime = "now"
    source: str = field(default_factory=_caller, compare=False)

    def __post_init__(self) -> None:
        self.catch_up_from(datetime.now(UTC))  # refuses a bad ``since`` at definition time
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

    def catch_up_from(self, now: datetime) -> float | None:
        """Where a new trigger starts: the time (epoch seconds) from which materializations
        already in the store count, or None to start from the first look (``since="now"``).

        ``since="all"`` catches up on every upstream partition already materialized; a
        duration (``"7d"``, seconds, a ``timedelta``) on those of that window before the first
        look; a time zone-aware ``datetime`` (or ISO string) on those since then. Target
        partitions already materialized are not requested again while catching up."""
        since = self.since
        if isinstance(since, str) and since in ("now", "all"):
            return None if since == "now" else 0.0
        if isinstance(since, str) and re.match(r"\d{4}-\d\d-\d\d", since):
            try:
                since = datetime.fromisoformat(since)
            except ValueError:
                raise self._bad_since("it is not an ISO 8601 date-time") from None
        if isinstance(since, datetime):
            if since.tzinfo is None:
                raise self._bad_since("a datetime without a time zone is ambiguous")
            return since.timestamp()
        try:
            return now.timestamp() - parse_duration(since)
        except ValueError as exc:
            raise self._bad_since(str(exc)) from None

    def _bad_since(self, why: str) -> DefinitionError:
        return DefinitionError(
            f"OnUpdate(since={self.since!r}) ({self.source}) is invalid: {why}",
            obj="OnUpdate",
            source=self.source,
            hint='use "now" (the default), "all", a duration such as "7d", or an aware '
            'datetime such as "2026-01-01T00:00:00+00:00"',
        )

    def describe(self) -> dict[str, Any]:
        since = self.since.isoformat() if isinstance(self.since, datetime) else self.since
        if isinstance(since, timedelta):
            since = since.total_seconds()
        return describe(OnUpdateSpec(self.require, self.min_count, self.interval, since))


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
        return describe(SensorSpec(self.name, self.interval, self.source))


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
        path: the local landing directory (relative to the project directory, or absolute).
        pattern: a path template under ``path`` whose ``{fields}`` become partition values,
            e.g. ``"{tenant}/{batch}/*.csv"``. Files with the same field values form a batch.
        expected: file names a batch must contain to be complete (``"manifest"`` in it: the
            manifest file lists them), or a callable ``fields -> list of names``.
        stable_for: seconds the size and modification time of every file of a complete batch
            must stay unchanged (checked on two evaluations at least) before it is requested;
            0 requests a complete batch at once, for producers that move files into place whole.
        archive_to: copy each batch, once, before requesting its run: a template such as
            ``"archive/{tenant}/{ts}/"`` (the pattern's fields, ``{ts}``: when the batch arrived,
            ``{batch_id}``: a digest of its fields), or a plain directory (each batch then goes to
            ``<archive_to>/<ts>-<batch_id>/`` with its path under the landing directory).
        dynamic_set: add the value of this field (e.g. ``tenant``) to the dynamic set of that name.
        partition: a template of the run's partition key from the fields, e.g. ``"{tenant}"``.
        follow_links: symbolic links are refused unless this is True; even then, a link that
            leaves the landing directory is refused.
        quarantine_to: move refused batches there (with a ``refused.txt`` saying why); without
            it, a refused batch stays where it is and is left alone until its files change.
    """

    path: str
    pattern: str
    expected: Sequence[str] | Callable[[Mapping[str, str]], Sequence[str]] = ()
    stable_for: float = 5.0
    archive_to: str | None = None
    dynamic_set: str | None = None
    partition: str | None = None
    interval: float = 5.0
    name: str | None = None
    follow_links: bool = False
    quarantine_to: str | None = None
    source: str = field(default_factory=_caller, compare=False)

    def __post_init__(self) -> None:
        if not _PATTERN_FIELD.search(self.pattern):
            raise self._error(
                f"pattern {self.pattern!r} has no {{field}}",
                'name the parts of the path, e.g. "{tenant}/{batch}/*.csv"',
            )
        if self.stable_for < 0 or self.interval <= 0:
            raise self._error(
                "stable_for and interval must be positive",
                "pass seconds: stable_for >= 0 (0: no waiting), interval > 0",
            )
        if "://" in self.path:
            raise self._error(
                f"path {self.path!r} is a URL; file arrival watches a local directory",
                "give the directory's path (a mounted bucket is one), or list a bucket in a "
                "@lg.sensor",
            )
        names = self.fields
        if self.dynamic_set is not None and self.dynamic_set not in names:
            raise self._error(
                f"dynamic_set {self.dynamic_set!r} is not a field of the pattern {self.pattern!r}",
                f"name one of its fields: {_listed(names)}",
            )
        self._check_template("partition", self.partition, names)
        self._check_template("archive_to", self.archive_to, (*names, *ARCHIVE_FIELDS))
        if self.quarantine_to is not None and ("{" in self.quarantine_to):
            raise self._error(
                f"quarantine_to {self.quarantine_to!r} is a template",
                'name a plain directory, e.g. quarantine_to="quarantine"',
            )
        for option in ("archive_to", "quarantine_to"):
            target = getattr(self, option)
            if target is not None and _inside(target.split("{", 1)[0], self.path):
                raise self._error(
                    f"{option} {target!r} is inside the landing directory {self.path!r}",
                    f'put it beside the landing directory, e.g. {option}="{option[:-3]}"',
                )

    @property
    def fields(self) -> tuple[str, ...]:
        """The pattern's field names, in order."""
        return tuple(dict.fromkeys(_PATTERN_FIELD.findall(self.pattern)))

    def _check_template(self, option: str, template: str | None, allowed: Sequence[str]) -> None:
        if template is None:
            return
        example = {"partition": '"{tenant}"', "archive_to": '"archive/{tenant}/{ts}/"'}[option]
        try:
            used = template_fields(template)
        except ValueError as exc:
            raise self._error(
                f"{option} {template!r} is not a valid template ({exc})",
                f"write fields as {{name}}, e.g. {option}={example}",
            ) from None
        unknown = [name for name in used if name not in allowed]
        if unknown:
            raise self._error(
                f"{option} {template!r} names {_listed(unknown)}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not a field of the pattern "
                f"{self.pattern!r}",
                f"use {_listed(allowed)}, e.g. {option}={example}",
            )

    def _error(self, problem: str, hint: str) -> DefinitionError:
        return DefinitionError(
            f"FileArrival ({self.source}): {problem}",
            obj="FileArrival",
            source=self.source,
            hint=hint,
        )

    def describe(self) -> dict[str, Any]:
        return describe(
            FileArrivalSpec(
                path=self.path,
                pattern=self.pattern,
                stable_for=self.stable_for,
                archive_to=self.archive_to,
                dynamic_set=self.dynamic_set,
                partition=self.partition,
                interval=self.interval,
                follow_links=self.follow_links,
                quarantine_to=self.quarantine_to,
                expected=list(self.expected) if not callable(self.expected) else "<function>",
            )
        )


ARCHIVE_FIELDS = ("ts", "batch_id")  # besides the pattern's fields
_PATTERN_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_fields(template: str) -> list[str]:
    """The ``{names}`` of a str.format template; ValueError if it does not parse or a field is
    not a plain name (``{0}``, ``{}``, ``{a.b}``, ``{a[0]}``)."""
    names = []
    for _, name, _, _ in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(f"{{{name}}} is not a field name")
        names.append(name)
    return names


def _listed(names: Sequence[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in names)


def _inside(target: str, root: str) -> bool:
    """Whether the local path ``target`` is ``root`` or below it (as written, not resolved)."""
    target_path, root_path = (
        PurePath(os.path.normpath(target or ".")),
        PurePath(os.path.normpath(root)),
    )
    if target_path.is_absolute() != root_path.is_absolute():
        return False
    return target_path == root_path or root_path in target_path.parents


@dataclass(frozen=True)
class Webhook:
    """Start a run for each HMAC-signed HTTP POST to ``/api/v1/webhooks/<pipeline>``.

    The sender signs ``<timestamp>.<delivery id>.<raw body>`` with a shared secret and sends
    ``X-Legato-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` and ``X-Legato-Delivery: <id>``
    (:func:`legato.sign_webhook` makes both; the scheme is in ``legato.definitions.webhooks``).
    The secret is read by the server from the environment variable ``secret_env`` and is never
    stored. A delivery signed more than ``tolerance`` seconds away from the server's clock is
    refused, and a delivery id starts at most one run, so a captured request cannot be replayed.
    The JSON object body becomes the run config; with ``partition_field`` its value names the
    partition.
    """

    secret_env: str
    partition_field: str | None = None
    tolerance: float = DEFAULT_TOLERANCE
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
        if (
            isinstance(self.tolerance, bool)
            or not isinstance(self.tolerance, int | float)
            or not (0 < self.tolerance <= 86400)
        ):
            raise DefinitionError(
                f"Webhook(tolerance={self.tolerance!r}) ({self.source}) must be seconds between "
                "0 and 86400",
                obj="Webhook",
                source=self.source,
                hint="keep the default (300: five minutes) unless senders' clocks drift more",
            )

    def describe(self) -> dict[str, Any]:
        return describe(WebhookSpec(self.secret_env, self.partition_field, float(self.tolerance)))
