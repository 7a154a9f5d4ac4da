"""Helpers for testing pipelines in pytest: run steps in process, fake time, a throwaway store,
and a daemon on a virtual clock that simulates weeks of schedules and sensors in seconds.

Example:
    >>> from legato.testing import materialize, VirtualDaemon
    >>> result = materialize([raw_orders, clean_orders])
    >>> daemon = VirtualDaemon([nightly], start=datetime(2025, 3, 1, tzinfo=UTC))
    >>> runs = daemon.advance(days=31)     # the runs its triggers would have created
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, true

from legato._internal.clock import FakeClock
from legato.automation.code import InProcessCode
from legato.automation.daemon import Daemon
from legato.automation.tick_report import TickReport
from legato.automation.trigger_evaluation import EVALUATED
from legato.definitions.pipeline import Pipeline
from legato.definitions.project import Project
from legato.definitions.retention import Retention
from legato.definitions.step import StepDef, registered_steps
from legato.events.types import Event, EventType
from legato.execution.api import RunResult, materialize
from legato.loader.alerts import AlertSettings
from legato.store.alerts import Alert, list_alerts, next_delivery_due
from legato.store.automation import sync_triggers
from legato.store.engine import Store
from legato.store.event_log import append
from legato.store.runs import RunRecord, get_runs
from legato.store.schema_automation import triggers
from legato.store.snapshots import save_snapshot
from legato.store.violations import Violation, list_violations


def temp_store() -> Store:
    """A fresh in-memory store, private to the caller."""
    return Store("sqlite://")


class VirtualDaemon:
    """The real daemon loop on a ``FakeClock``: it jumps from one due trigger (or freshness
    deadline) to the next.

    Runs are recorded as queued (nothing executes unless you run them), so a test can assert on
    exactly the runs that schedules, sensors and OnUpdate would create. Freshness policies and
    SLAs are assessed on the virtual clock, alerts (``alerts=``, the ``[alerts]`` settings)
    are sent in each iteration, and old runs are deleted by their retention policies (each
    pipeline's own, or ``retention=``, the ``[retention]`` settings).
    """

    def __init__(
        self,
        pipelines: Iterable[Pipeline],
        *,
        start: datetime,
        steps: Iterable[StepDef] | None = None,
        store: Store | None = None,
        alerts: AlertSettings | None = None,
        retention: Retention | None = None,
    ) -> None:
        pipes = list(pipelines)
        chosen = list(steps) if steps is not None else registered_steps()
        self.project = Project.of(chosen, pipes)
        self.store = store or temp_store()
        self.clock = FakeClock(start)
        self.daemon = Daemon(
            self.store,
            code=InProcessCode(self.project, self.store),
            clock=self.clock,
            launch_runs=False,
            snapshot_every=10**9,
            alerts=alerts,
            retention=retention,
        )
        self._first: list[str] | None = None
        snap = InProcessCode(self.project, self.store).snapshot()
        save_snapshot(self.store, snap)  # triggers exist (and can be toggled) before any tick
        sync_triggers(self.store, snap)

    def record_materialization(self, asset_key: str, partition: str = "") -> None:
        """Record that ``asset_key`` (``partition``) was materialized at the virtual time now, as
        a run would (runs are queued, not executed, on the virtual clock)."""
        event = Event(
            EventType.MATERIALIZED,
            f"virtual-{self.clock.now():%Y%m%dT%H%M%S}",
            step=f"{asset_key}[{partition}]" if partition else asset_key,
            ts=self.clock.now().timestamp(),
            data={"asset_key": asset_key, "partition": partition},
        )
        with self.store.transaction() as conn:
            append(conn, [event])

    def violations(self, *, open_only: bool = False) -> list[Violation]:
        """Freshness and SLA violations the daemon recorded, newest first."""
        return list_violations(self.store, open_only=open_only, limit=10_000)

    def alerts(self, *, status: str | None = None) -> list[Alert]:
        """Alerts the daemon raised (``status``: "open" or "resolved"), newest first."""
        return list_alerts(self.store, status=status, limit=10_000)

    def tick(self) -> TickReport:
        """One daemon iteration at the current virtual time."""
        return self.daemon.tick_once()

    def advance(
        self, delta: timedelta | None = None, *, to: datetime | None = None, **kwargs: float
    ) -> list[RunRecord]:
        """Move the clock to ``to`` (or by ``delta``/``days=``...), evaluating every trigger when
        it falls due; return the runs created on the way, oldest first."""
        end = to or self.clock.now() + (delta or timedelta(**kwargs))
        created: list[str] = []
        if self._first is None:  # the first look at the triggers happens at the start time
            self._first = self.tick().runs_requested
            created += self._first
        previous: datetime | None = None
        while True:
            due = self._next_due()
            if due is None or due > end:
                self.clock.set(max(end, self.clock.now()))
                created += self.tick().runs_requested
                break
            if due == previous:  # a trigger that did not move on (it failed): step past it
                due += timedelta(seconds=1)
            previous = due
            if due > self.clock.now():
                self.clock.set(due)
            # Schedules tick ahead to the next trigger that runs code (or the end) at once:
            # nothing they depend on can change before then.
            barrier = self._next_due(EVALUATED)
            until = end if barrier is None else min(end, barrier)
            created += self.daemon.tick_once(until=until).runs_requested
        return get_runs(self.store, list(dict.fromkeys(created)))

    def _next_due(self, kinds: tuple[str, ...] = ()) -> datetime | None:
        t = triggers.c
        query = select(func.min(t.next_due)).where(t.enabled == true())
        if kinds:
            query = query.where(t.kind.in_(kinds))
        with self.store.read() as conn:
            value = conn.execute(query).scalar()
        if not kinds:  # a freshness deadline and a message's retry fall due like a trigger
            for due in (self.daemon.freshness.next_due, next_delivery_due(self.store)):
                if due is not None:
                    value = due if value is None else min(value, due)
        if value is None:
            return None
        return datetime.fromtimestamp(max(value, self.clock.now().timestamp()), UTC)


__all__ = ["FakeClock", "RunResult", "VirtualDaemon", "materialize", "temp_store"]
