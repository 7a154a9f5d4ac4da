"""Whether assets are fresh: their freshness policies applied to their latest materializations.

Pure: the caller passes ``now``, each partition's latest materialization time and the dynamic
partition keys. A *subject* is what one violation is about: the asset, or for a partitioned
asset the asset and its partition key without the time dimension (``orders[tenant=acme]``), so
a late daily partition and the next day's one are one miss, and each tenant is its own.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from legato._internal.durations import format_duration
from legato.definitions.freshness import Freshness
from legato.definitions.partitions import DynamicLookup, PartitionSpace, TimeWindowPartitions
from legato.definitions.partitions.product import dimensions_of, join_values
from legato.definitions.partitions.restore import space_from_description
from legato.errors import LegatoError
from legato.graph.snapshot import NodeSnapshot

MAX_KEYS = 10_000  # partition keys checked per asset at most (a product of large dimensions)


@dataclass(frozen=True)
class Expectation:
    """What one subject needs at one moment: ``partition`` materialized (after ``newer_than``
    if set); late from ``due`` (None: ``lag`` after its latest materialization)."""

    asset: str
    subject: str
    partition: str
    newer_than: float | None
    due: float | None
    lag: float | None
    next_change: float | None  # when the expectation itself moves on (a deadline, a window)
    expected: str  # for people: "2025-03-01 by 2025-03-02T06:00+01:00"


@dataclass(frozen=True)
class Assessment:
    """One subject, fresh or late, as of one moment."""

    asset: str
    subject: str
    partition: str
    late: bool
    late_since: float | None  # when it became late (None: never materialized, unknown)
    materialized_at: float | None
    expected: str
    next_check: float | None  # when it may turn late if nothing is materialized meanwhile

    def reason(self) -> str:
        seen = (
            "never materialized"
            if self.materialized_at is None
            else "last materialized "
            + (datetime.fromtimestamp(self.materialized_at, UTC).isoformat(timespec="seconds"))
        )
        return f"{self.subject}: expected {self.expected}; {seen}"


def expectations(
    asset: str, policy: Freshness, space: PartitionSpace | None, now: datetime, dynamic: Any
) -> list[Expectation]:
    """The subjects of ``asset`` and what each needs at ``now``."""
    dims = dimensions_of(space) if space is not None else {}
    time_name = next((n for n, d in dims.items() if isinstance(d, TimeWindowPartitions)), None)
    if policy.lag_seconds is not None:
        lag = policy.lag_seconds
        if time_name is None:
            return [
                Expectation(
                    asset,
                    subject,
                    key,
                    now.timestamp() - lag,
                    None,
                    lag,
                    None,
                    f"within {format_duration(lag)}",
                )
                for subject, key in _keys(asset, space, dims, None, None, now, dynamic)
            ]
        window_space = dims[time_name]
        assert isinstance(window_space, TimeWindowPartitions)
        window = window_space.last_complete(now - timedelta(seconds=lag))
        following = _following_end(window_space, window)
        next_change = None if following is None else following + lag
        if window is None:
            return []
        due = window.end.timestamp() + lag
        text = f"{window.key} by {_at(due)}"
        return [
            Expectation(asset, subject, key, None, due, None, next_change, text)
            for subject, key in _keys(asset, space, dims, time_name, window.key, now, dynamic)
        ]
    deadline = policy.last_deadline(now)
    next_change = policy.next_deadline(now).timestamp()
    if deadline is None:
        return []
    if time_name is None:
        before = policy.last_deadline(deadline - timedelta(seconds=1))
        newer_than = before.timestamp() if before is not None else 0.0
        tz = policy.timezone
        text = f"materialized since {_at(newer_than, tz)} by {_at(deadline.timestamp(), tz)}"
        return [
            Expectation(
                asset, subject, key, newer_than, deadline.timestamp(), None, next_change, text
            )
            for subject, key in _keys(asset, space, dims, None, None, now, dynamic)
        ]
    window_space = dims[time_name]
    assert isinstance(window_space, TimeWindowPartitions)
    window = window_space.last_complete(deadline)
    if window is None:
        return []
    text = f"{window.key} by {_at(deadline.timestamp(), policy.timezone)}"
    return [
        Expectation(asset, subject, key, None, deadline.timestamp(), None, next_change, text)
        for subject, key in _keys(asset, space, dims, time_name, window.key, now, dynamic)
    ]


def assess(expected: Expectation, materialized_at: float | None, now: float) -> Assessment:
    """Whether ``expected`` holds at ``now`` given the key's latest materialization time."""
    m = materialized_at
    satisfied = m is not None and (expected.newer_than is None or m > expected.newer_than)
    if expected.lag is not None:  # late a lag after the latest materialization
        since = None if m is None else m + expected.lag
        return Assessment(
            expected.asset,
            expected.subject,
            expected.partition,
            not satisfied,
            since,
            m,
            expected.expected,
            since if satisfied else None,
        )
    due = expected.due if expected.due is not None else now
    late = not satisfied and now >= due
    return Assessment(
        expected.asset,
        expected.subject,
        expected.partition,
        late,
        due if late else None,
        m,
        expected.expected,
        expected.next_change,
    )


def node_expectations(
    node: NodeSnapshot, now: datetime, dynamic: DynamicLookup | None
) -> list[Expectation]:
    """What each subject of a snapshot node with a ``freshness`` policy needs at ``now``."""
    assert node.freshness is not None, node.key
    policy = _policy(json.dumps(node.freshness, sort_keys=True))
    space = _space(json.dumps(node.partitions, sort_keys=True))
    return expectations(node.key, policy, space, now, dynamic)


# A snapshot describes the same policies and spaces at every look: rebuild each once.
@functools.lru_cache(maxsize=4096)
def _policy(described: str) -> Freshness:
    return Freshness.from_description(json.loads(described))


@functools.lru_cache(maxsize=4096)
def _space(described: str) -> PartitionSpace | None:
    return space_from_description(json.loads(described))


def _keys(
    asset: str,
    space: PartitionSpace | None,
    dims: Mapping[str, PartitionSpace],
    time_name: str | None,
    time_key: str | None,
    now: datetime,
    dynamic: Any,
) -> list[tuple[str, str]]:
    """(subject, partition key) of each key to check: every key of the other dimensions, with
    the time dimension (if any) fixed to ``time_key``."""
    if space is None:
        return [(asset, "")]
    axes = []
    for name, dim in dims.items():
        if name == time_name:
            axes.append([str(time_key)])
        else:
            try:
                axes.append(list(dim.keys(now, dynamic)))
            except LegatoError:  # no dynamic keys passed in (a next-check estimate)
                axes.append([])
    out = []
    for values in itertools.islice(itertools.product(*axes), MAX_KEYS):
        key = join_values(space, values)
        rest = [
            f"{n}={v}" if len(dims) > 1 else v
            for n, v in zip(dims, values, strict=True)
            if n != time_name
        ]
        out.append((f"{asset}[{','.join(rest)}]" if rest else asset, key))
    return out


def _following_end(space: TimeWindowPartitions, window: Any) -> float | None:
    """The end of the window after ``window`` (of the first window if None); None past the end."""
    try:
        key = space.key_at(space.first_instant) if window is None else space.key_for(window.end)
        return space.window(key).end.timestamp()
    except LegatoError:
        return None


def _at(ts: float, zone: str = "UTC") -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).isoformat(timespec="minutes")
