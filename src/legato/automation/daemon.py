"""The daemon: its lifecycle and main loop. Several daemons may share one PostgreSQL store;
SQLite allows one.

Each job lives in a module of its own: trigger evaluation (``trigger_evaluation``) and when the
loop wakes for it (``pacing``), the definitions asked of the code server in a thread of its own
(``snapshot_fetch``), the run queue and recovery of runs whose process died (``run_queue``, in a
second thread), backfill drivers (``backfill_drivers``), the message-consumer child
(``consumer_supervisor``), freshness policies and pipeline SLAs (``freshness``), retention
(``retention``: old runs deleted in small batches), alerts (``alerting``) and their delivery to
channels (``deliveries``, in a thread of its own: a slow mail server must not hold the triggers
up). Each iteration (``tick_once``) runs the jobs as small transactions; a database error in one is
logged, recorded in the loop's health and retried on the next iteration, never fatal. Time comes
from an injected clock, so a test can drive weeks of schedules in seconds (see
``legato.testing.VirtualDaemon``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from legato._internal.clock import Clock, SystemClock
from legato.automation.alerting import AlertLoop
from legato.automation.backfill_drivers import BackfillDrivers
from legato.automation.code import CodeLocation
from legato.automation.consumer_supervisor import ConsumerSupervisor
from legato.automation.deliveries import DeliveryLoop
from legato.automation.file_watch import FileWatch
from legato.automation.freshness import FreshnessWatch
from legato.automation.loop_health import LoopHealth
from legato.automation.pacing import Pacing
from legato.automation.retention import RetentionLoop
from legato.automation.run_queue import RunQueue
from legato.automation.run_workers import RunWorkers
from legato.automation.snapshot_fetch import SnapshotFetch
from legato.automation.tick_report import TickReport
from legato.automation.trigger_evaluation import TriggerEvaluation
from legato.definitions.retention import Retention
from legato.errors import LegatoError, StoreError
from legato.loader.alerts import AlertSettings
from legato.store.automation import (
    DaemonRow,
    advance_trigger,
    heartbeat,
    list_triggers,
    mark_dead,
    register_alone,
    stop_daemon,
    sync_triggers,
)
from legato.store.claims import QueueLimits
from legato.store.engine import Store
from legato.store.presence import Presence
from legato.store.shared_contracts import SharedContractsWatch
from legato.store.snapshots import DEFAULT_LOCATION, SnapshotCache, save_snapshot

log = logging.getLogger("legato.daemon")
DRAIN = 3.0  # seconds a stopping daemon lets its runs finish before handing them on
HEARTBEAT_EVERY = 1.0  # seconds between heartbeats at most (the lease is many times longer)


class AnotherDaemonRunning(LegatoError):
    """SQLite mode allows a single daemon."""


class Daemon:
    def __init__(
        self,
        store: Store,
        *,
        code: CodeLocation | None = None,
        project_dir: Path | None = None,
        clock: Clock | None = None,
        daemon_id: str | None = None,
        launch_runs: bool = True,
        max_concurrent_runs: int = 4,
        lease: float = 30.0,
        snapshot_every: float = 10.0,
        limits: QueueLimits | None = None,
        watch_files: bool | None = None,
        drain: float = DRAIN,
        alerts: AlertSettings | None = None,
        retention: Retention | None = None,
        location: str = DEFAULT_LOCATION,
    ) -> None:
        self.store = store
        self.location = location  # the project's name: where its definitions are recorded
        self.code = code
        self.project_dir = project_dir or Path.cwd()
        self.clock = clock or SystemClock()
        self.id = daemon_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.launch_runs = launch_runs
        self.max_concurrent_runs = max_concurrent_runs
        self.limits = limits or QueueLimits(total=max_concurrent_runs)
        self.lease = lease
        self.snapshot_every = snapshot_every
        self._next_snapshot = 0.0
        self._fetch: SnapshotFetch | None = None  # definitions asked for in the background
        self.workers = RunWorkers(self.project_dir, self.limits.total)
        self.drain = drain
        self.health = LoopHealth()
        self.run_queue = RunQueue(
            store, self.id, self.workers, self.limits, lease, drain, health=self.health
        )
        self._runs_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._snapshot = SnapshotCache(store, location)
        self._shared_contracts = SharedContractsWatch(store, location)
        self._errors_said: set[str] = set()  # the definition errors logged, each once
        self.triggers = TriggerEvaluation(
            store, self.id, code=code, clock=self.clock, lease=lease, snapshots=self._snapshot
        )
        self.backfills = BackfillDrivers(store, lease, self._stopping, code)
        self.freshness = FreshnessWatch(store, self._snapshot)
        self.retention = RetentionLoop(store, self._snapshot, retention)
        settings = alerts or AlertSettings()
        wake = threading.Event()  # messages were queued: the delivery thread sends them now
        self.alerts = AlertLoop(store, settings, self._snapshot, wake)
        self.deliveries = DeliveryLoop(store, settings, self.id, self.clock, wake, self.health)
        self._deliveries_thread: threading.Thread | None = None
        self.consumers = ConsumerSupervisor(
            self.project_dir, self._snapshot, enabled=code is not None
        )
        self._wake = threading.Event()  # set to end the main loop's pause early
        watch = isinstance(self.clock, SystemClock) if watch_files is None else watch_files
        self._files = FileWatch(self.project_dir, self._file_changed) if watch else None
        self.started = False
        self._beat_at = 0.0
        self.pacing = Pacing(store, self.clock)
        self._presence = Presence(store, self.id)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        host, pid = socket.gethostname(), os.getpid()
        if self.store.is_sqlite:
            other = register_alone(self.store, self.id, host, pid, within=self.lease, alive=_alive)
            if other is not None:
                raise AnotherDaemonRunning(
                    f"another daemon ({other.host}, pid {other.pid}) is running on this "
                    "SQLite store",
                    hint="run one daemon per SQLite store, or use PostgreSQL "
                    "(LEGATO_DATABASE_URL) to run several",
                )
        else:
            self._presence.hold()  # before the heartbeat: a running daemon without one is dead
            heartbeat(self.store, self.id, host, pid)
        self.started = True

    def wake(self) -> None:
        """End the main loop's pause now (a trigger fell due, or a stop was asked for)."""
        self._wake.set()

    def interrupt(self) -> None:
        """A stop was asked for (a signal handler may call this): wake the main loop, and stop
        waiting for user code that is still running in the code server."""
        self.wake()
        if self.code is not None:
            self.code.interrupt()

    def stop(self) -> None:
        """Stop within about ``drain`` seconds: consumers finish their batch, runs still going
        then are stopped and handed to the next daemon, triggers are released."""
        self._stopping.set()  # the run queue drains its runs meanwhile, in its own thread
        deadline = time.monotonic() + self.drain + 1.0
        self.consumers.stop(deadline)
        if self._runs_thread is not None:
            self._runs_thread.join()
        self.deliveries.wake.set()
        if self._deliveries_thread is not None:
            self._deliveries_thread.join(max(0.0, deadline - time.monotonic()))
        self.backfills.join(deadline)
        if self._files is not None:
            self._files.close()
        stop_daemon(self.store, self.id)
        self._presence.close()
        if self.code is not None:
            self.code.close()

    def run_forever(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Iterate until ``stop`` is set. Errors are logged and retried, never fatal.

        Triggers, backfills and consumers are evaluated every ``interval`` s in this thread, and
        a trigger when it falls due (a schedule's tick is claimed and planned a moment before,
        so that only its commit is left then);
        queued runs are launched by a second thread the moment a run worker is free and a run
        is queued (woken by a notification on PostgreSQL, by a cheap probe on SQLite)."""
        self.triggers.stop = stop
        self.start()
        if self.code is not None:  # the loop must not wait for the code server's answer
            self._fetch = SnapshotFetch(self.code)
        if self.launch_runs:
            self._runs_thread = threading.Thread(
                target=self._run_loop, args=(interval,), name="legato-run-queue", daemon=True
            )
            self._runs_thread.start()
        self._deliveries_thread = threading.Thread(
            target=self.deliveries.run, args=(self._stopping,), name="legato-alerts", daemon=True
        )
        self._deliveries_thread.start()
        try:
            full_at = 0.0
            while not stop.is_set():
                try:
                    if time.monotonic() >= full_at and not self._holding():
                        full_at = time.monotonic() + interval
                        report = self.tick_once()
                    else:  # a trigger falls due before the next full iteration
                        report = self._run_parts((self._evaluate_triggers,))
                    for error in report.errors:
                        log.warning("%s", error)
                except Exception:  # the loop survives anything, and says so
                    log.exception("daemon iteration failed; retrying")
                self._pause(full_at, interval)
        finally:
            self.stop()

    def _holding(self) -> bool:
        """Whether ticks are planned for a time still to come: no full iteration starts then."""
        prepared = self.triggers.prepared_for
        return prepared is not None and prepared > self.clock.now()

    def _pause(self, full_at: float, interval: float) -> None:
        """Until the next full iteration, a freshness deadline or the earliest trigger; or, when
        schedules fall due first, until a moment before they do: their ticks are planned then,
        and the pause goes on until they fall due (``pacing``)."""
        wake = self.pacing.next_wake(
            full_at - time.monotonic(),
            interval,
            self.freshness.next_due,
            self.triggers.prepared_for,
        )
        if wake.prepare is not None:
            if self._wake.wait(wake.pause):  # woken meanwhile: look again
                self._wake.clear()
                return
            try:
                self._run_part(self._prepare, wake.prepare, TickReport(), "evaluate_triggers")
            except Exception:  # they are evaluated when due instead
                log.exception("planning the next ticks ahead failed")
            prepared = self.triggers.prepared_for or wake.prepare  # none claimed: wait alike
            wake = self.pacing.next_wake(full_at - time.monotonic(), interval, prepared=prepared)
        self._wake.wait(wake.pause)
        self._wake.clear()

    # -- one iteration --------------------------------------------------------------------------

    def tick_once(self, *, until: datetime | None = None) -> TickReport:
        """One iteration. ``until``: a virtual clock jumps there next, and no trigger but
        schedules falls due before it: schedules make their ticks up to it now."""
        if not self.started:
            self.start()
        self.triggers.until = until
        return self._run_parts(
            (
                self._heartbeat,
                self._refresh,
                self._evaluate_triggers,
                self._backfills,
                self._consumers,
                self._freshness,
                self._alerts,
                self._retention,
            )
        )

    def refresh_definitions(self) -> TickReport:
        """Load the project now and record its definitions (``legato up`` does this before
        serving, so the UI can launch runs from its first request)."""
        return self._run_parts((self._refresh,))

    def _run_parts(self, parts: tuple[Callable[[datetime, TickReport], None], ...]) -> TickReport:
        """Run ``parts`` in order. A trigger that falls due meanwhile is evaluated before the
        next part: a schedule's tick does not wait for the loop's other jobs."""
        report = TickReport()
        now = self.clock.now()
        for part in parts:
            if part != self._evaluate_triggers and self.pacing.fell_due():
                self._run_part(self._evaluate_triggers, self.clock.now(), report)
            self._run_part(part, now, report)
        return report

    def _run_part(
        self,
        part: Callable[[datetime, TickReport], None],
        now: datetime,
        report: TickReport,
        loop: str | None = None,
    ) -> None:
        loop = loop or part.__name__.lstrip("_")
        try:
            part(now, report)
        except (DBAPIError, StoreError) as exc:  # the database blinked: next iteration
            report.errors.append(f"{part.__name__}: {exc}")
            self.health.failed(loop, str(exc))
        else:
            self.health.ok(loop)

    def status(self) -> dict[str, Any]:
        """The daemon's id, ``state`` (running or degraded) and each loop's last success and
        latest error, for the health endpoint."""
        return {"id": self.id, **self.health.report()}

    def _heartbeat(self, now: datetime, report: TickReport) -> None:
        if time.monotonic() < self._beat_at:
            return
        self._presence.hold()
        heartbeat(self.store, self.id, socket.gethostname(), os.getpid())
        self._beat_at = time.monotonic() + HEARTBEAT_EVERY
        mark_dead(self.store, within=self.lease)

    def _refresh(self, now: datetime, report: TickReport) -> None:
        if self.code is None or self.clock.monotonic() < self._next_snapshot:
            return
        try:
            snap = self.code.snapshot() if self._fetch is None else self._fetch.take()
        except LegatoError as exc:
            self._next_snapshot = self.clock.monotonic() + self.snapshot_every
            report.errors.append(f"loading definitions failed: {exc}")
            return
        if snap is None:  # asked for in the background: a later iteration takes the answer
            return
        self._next_snapshot = self.clock.monotonic() + self.snapshot_every
        save_snapshot(self.store, snap, self.location)
        shared = self._shared_contracts.check(snap.contracts)
        for error in shared.errors if shared is not None else ():
            report.errors.append(f"contracts across projects: {error}")
        said = {e.describe() for e in snap.errors}
        report.errors.extend(f"definition error: {e}" for e in sorted(said - self._errors_said))
        self._errors_said = said
        if snap.errors:  # a broken file must not delete triggers (and their cursors)
            report.errors.append(
                f"definitions have {len(snap.errors)} error(s); triggers are kept as they were"
            )
            return
        sync_triggers(self.store, snap)
        if self._files is not None:
            self._files.sync(list_triggers(self.store))

    def _file_changed(self, trigger_id: str) -> None:
        """A watched landing directory changed: evaluate its trigger now, not at its next poll."""
        advance_trigger(self.store, trigger_id, next_due=self.clock.now().timestamp())
        self.wake()

    def _evaluate_triggers(self, now: datetime, report: TickReport) -> None:
        self.triggers.evaluate(now, report)
        self.pacing.look(since=now.timestamp())

    def _prepare(self, at: datetime, report: TickReport) -> None:
        self.triggers.prepare(at, report)
        for error in report.errors:
            log.warning("%s", error)

    def _backfills(self, now: datetime, report: TickReport) -> None:
        if self.launch_runs:
            self.backfills.look()

    def _consumers(self, now: datetime, report: TickReport) -> None:
        self.consumers.check(report)

    def _freshness(self, now: datetime, report: TickReport) -> None:
        self.freshness.look(now, report)

    def _retention(self, now: datetime, report: TickReport) -> None:
        self.retention.look(now, report)

    def _alerts(self, now: datetime, report: TickReport) -> None:
        self.alerts.look(now, report)
        if self._deliveries_thread is None:  # a virtual clock: send in this iteration
            self.deliveries.deliver_due()

    # -- runs -----------------------------------------------------------------------------------

    def _run_loop(self, interval: float) -> None:
        self.run_queue.run(self._stopping, interval)


def _alive(daemon: DaemonRow) -> bool:
    if daemon.host != socket.gethostname():
        return True
    try:
        os.kill(daemon.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
