"""What a trigger is, as the snapshot records it: one typed struct per kind.

A trigger's ``describe()`` builds its struct; the snapshot, the ``triggers`` table and the REST
API carry it as a JSON object tagged by ``kind``; the daemon and the web server, which never
import user code, read it back with :func:`parse_trigger_spec` into the same struct. Fields added
later have defaults, so a spec recorded by an older Legato still reads; unknown fields are
ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from legato.errors import DefinitionError


class CatchUpSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    mode: Literal["none", "latest", "all"] = "latest"
    within_seconds: float | None = None
    grace_seconds: float = 300.0


class FireSpec(msgspec.Struct, frozen=True):
    at: str  # ISO 8601, UTC
    local: str  # ISO 8601, in the schedule's time zone


class _Spec(msgspec.Struct, frozen=True, tag_field="kind"):
    pass


class CronSpec(_Spec, frozen=True, tag="cron"):
    expr: str
    timezone: str = "UTC"
    name: str | None = None
    on_gap: Literal["skip", "next"] | None = None
    on_repeat: Literal["first", "last", "both"] | None = None
    catch_up: CatchUpSpec = CatchUpSpec()
    source: str | None = None
    next_fires: list[FireSpec] = []


class EverySpec(_Spec, frozen=True, tag="every"):
    interval_seconds: float
    start: str  # ISO 8601, aware
    timezone: str = "UTC"
    name: str | None = None
    catch_up: CatchUpSpec = CatchUpSpec()
    source: str | None = None
    next_fires: list[FireSpec] = []


class SensorSpec(_Spec, frozen=True, tag="sensor"):
    name: str
    interval: float = 30.0
    source: str | None = None


class OnUpdateSpec(_Spec, frozen=True, tag="on_update"):
    require: Literal["all", "any"] = "all"
    min_count: int | None = None
    interval: float = 5.0
    since: str | float | None = "now"  # "now", "all", seconds back, or an ISO 8601 time


class FileArrivalSpec(_Spec, frozen=True, tag="file_arrival"):
    path: str
    pattern: str
    stable_for: float = 0.0
    archive_to: str | None = None
    dynamic_set: str | None = None
    partition: str | None = None
    interval: float = 30.0
    follow_links: bool = False
    quarantine_to: str | None = None
    expected: list[str] | str = []  # names, or "<function>" when computed by user code


class WebhookSpec(_Spec, frozen=True, tag="webhook"):
    secret_env: str
    partition_field: str | None = None
    tolerance: float = 300.0


class MessageSpec(_Spec, frozen=True, tag="message"):
    name: str
    source: str
    batch: int = 1
    within: float = 0.0
    dead_letter_after: int = 3


ScheduleSpec = CronSpec | EverySpec
SCHEDULE_KINDS = ("cron", "every")  # the kinds of ScheduleSpec: no user code decides their ticks
TriggerSpec = (
    CronSpec | EverySpec | SensorSpec | OnUpdateSpec | FileArrivalSpec | WebhookSpec | MessageSpec
)
KINDS = ("cron", "every", "sensor", "on_update", "file_arrival", "webhook", "message")


def poll_interval(spec: TriggerSpec) -> float:
    """Seconds between evaluations of a polled trigger (sensors, OnUpdate, file arrival); 30 for
    kinds that are not polled."""
    if isinstance(spec, SensorSpec | OnUpdateSpec | FileArrivalSpec):
        return float(spec.interval)
    return 30.0


def kind_of(described: Mapping[str, Any]) -> str:
    """The kind a recorded trigger description is tagged with, read without the rest of it (a
    trigger this version cannot read still has a kind, and its id)."""
    return str(described.get("kind"))


def describe(spec: TriggerSpec) -> dict[str, Any]:
    """The spec as the JSON object the snapshot stores (``kind`` first)."""
    described: dict[str, Any] = msgspec.to_builtins(spec)
    return described


def parse_trigger_spec(value: Mapping[str, Any], *, where: str = "a trigger") -> TriggerSpec:
    """The typed spec of a recorded trigger description; a DefinitionError naming what is wrong
    (an unknown kind, a missing or mistyped field) otherwise."""
    try:
        spec: TriggerSpec = msgspec.convert(value, TriggerSpec)
        return spec
    except msgspec.ValidationError as exc:
        kind = value.get("kind") if isinstance(value, Mapping) else None
        raise DefinitionError(
            f"{where}: its recorded description is invalid: {exc}",
            obj=str(kind or "trigger"),
            hint=f"the kind is one of {', '.join(KINDS)}; load the project again with this "
            "Legato (legato check, or restart the daemon) to record it anew",
        ) from exc
