"""The daemon: one loop that evaluates every trigger, launches queued runs and recovers runs whose
process died. Several daemons may share one PostgreSQL store; SQLite allows one.

Each iteration (``tick_once``) is a sequence of small transactions; a database error in one part
is logged and retried on the next iteration, never fatal. Time comes from an injected clock, so a
test can drive weeks of schedules in seconds (see ``legato.testing.VirtualDaemon``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from legato._internal.clock import Clock, SystemClock
from legato._internal.ids import new_run_id
from legato.automation.backfills import drive_backfill, driver_alive
from legato.automation.code import CodeLocation
from legato.automation.file_watch import FileWatch
from legato.automation.loop_health import LoopHealth
from legato.automation.run_queue import RunQueue
from legato.automation.run_workers import RunWorkers
from legato.automation.ticks import plan_schedule
from legato.errors import LegatoError, StoreError
from legato.events.status import RunStatus
from legato.graph.backfill import RunGroup
from legato.store.automation import (
    TriggerRow,
    advance_trigger,
    claim_triggers,
    heartbeat,
    list_triggers,
    mark_dead,
    next_due,
    record_tick,
    register_alone,
    stop_daemon,
    sync_triggers,
)
from legato.store.backfills import get_backfill, list_backfills
from legato.store.claims import QueueLimits
from legato.store.engine import Store
from legato.store.partitions import add_dynamic_keys, dynamic_lookup
from legato.store.presence import Presence
from legato.store.runs import RunRecord, create_run
from legato.store.snapshots import SnapshotCache, save_snapshot
from legato.store.tick_writes import TickWrite, write_ticks

log = logging.getLogger("legato.daemon")
SCHEDULES = ("cron", "every")
MIN_PAUSE = 0.01  # seconds the main loop rests at least between iterations
EVALUATED = ("sensor", "file_arrival", "on_update")
DRAIN = 3.0  # seconds a stopping daemon lets its runs finish before handing them on
HEARTBEAT_EVERY = 1.0  # seconds between heartbeats at most (the lease is many times longer)
FAILED = "\x00failed"  # marks a failure among the remembered (cursor, reason) of skips
BATCH = 200  # triggers claimed, evaluated and committed together
EVALUATION_BUDGET = 1.0  # seconds of trigger evaluation before the loop's other jobs run


@dataclass
class TickReport:
    """What one iteration did, for tests and logs."""

    runs_requested: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


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
    ) -> None:
        self.store = store
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
        self.workers = RunWorkers(self.project_dir, self.limits.total)
        self.drain = drain
        self.health = LoopHealth()
        self.run_queue = RunQueue(
            store, self.id, self.workers, self.limits, lease, drain, health=self.health
        )
        self._runs_thread: threading.Thread | None = None
        self._drivers: dict[str, threading.Thread] = {}
        self._consumer: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._stop = self._stopping  # run_forever's stop event: long loops look at it
        self._snapshot = SnapshotCache(store)
        self._wake = threading.Event()  # set to end the main loop's pause early
        watch = isinstance(self.clock, SystemClock) if watch_files is None else watch_files
        self._files = FileWatch(self.project_dir, self._file_changed) if watch else None
        self._skipped: dict[str, tuple[str | None, str | None]] = {}  # trigger → (cursor, reason)
        self.started = False
        self._until: datetime | None = None  # see tick_once
        self._beat_at = 0.0
        self._presence = Presence(store, self.id)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        host, pid = socket.gethostname(), os.getpid()
        if self.store.is_sqlite:
            other = register_alone(self.store, self.id, host, pid, within=self.lease, alive=_alive)
            if other is not None:
                raise AnotherDaemonRunning(
                    f"another daemon ({other['host']}, pid {other['pid']}) is running on this "
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

    def stop(self) -> None:
        """Stop within about ``drain`` seconds: consumers finish their batch, runs still going
        then are stopped and handed to the next daemon, triggers are released."""
        self._stopping.set()
        deadline = time.monotonic() + self.drain + 1.0
        if self._consumer is not None and self._consumer.poll() is None:
            self._consumer.terminate()  # it stops after its current batch
        if self._runs_thread is not None:
            self._runs_thread.join()
        if self._consumer is not None:
            try:
                self._consumer.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:  # its messages are delivered again
                self._consumer.kill()
                self._consumer.wait()
        for thread in self._drivers.values():  # they stop at their next look at the queue
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._files is not None:
            self._files.close()
        stop_daemon(self.store, self.id)
        self._presence.close()
        if self.code is not None:
            self.code.close()

    def run_forever(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Iterate until ``stop`` is set. Errors are logged and retried, never fatal.

        Triggers, backfills and consumers are evaluated every ``interval`` s in this thread;
        queued runs are launched by a second thread the moment a run worker is free and a run
        is queued (woken by a notification on PostgreSQL, by a cheap probe on SQLite)."""
        self._stop = stop
        self.start()
        if self.launch_runs:
            self._runs_thread = threading.Thread(
                target=self._run_loop, args=(interval,), name="legato-run-queue", daemon=True
            )
            self._runs_thread.start()
        try:
            full_at = 0.0
            while not stop.is_set():
                try:
                    if time.monotonic() >= full_at:
                        full_at = time.monotonic() + interval
                        report = self.tick_once()
                    else:  # a trigger falls due before the next full iteration
                        report = self._run_parts((self._evaluate_triggers,))
                    for error in report.errors:
                        log.warning("%s", error)
                except Exception:  # the loop survives anything, and says so
                    log.exception("daemon iteration failed; retrying")
                self._wake.wait(self._pause(full_at, interval))
                self._wake.clear()
        finally:
            self.stop()

    def _pause(self, full_at: float, interval: float) -> float:
        """Until the next full iteration, or until the earliest trigger falls due if sooner."""
        pause = full_at - time.monotonic()
        try:
            due = next_due(self.store)
        except (DBAPIError, StoreError):
            due = None
        if due is not None:
            pause = min(pause, due - self.clock.now().timestamp())
        return min(max(pause, MIN_PAUSE), interval)

    # -- one iteration --------------------------------------------------------------------------

    def tick_once(self, *, until: datetime | None = None) -> TickReport:
        """One iteration. ``until``: a virtual clock jumps there next, and no trigger but
        schedules falls due before it: schedules make their ticks up to it now."""
        if not self.started:
            self.start()
        self._until = until
        return self._run_parts(
            (
                self._heartbeat,
                self._refresh,
                self._evaluate_triggers,
                self._backfills,
                self._consumers,
            )
        )

    def refresh_definitions(self) -> TickReport:
        """Load the project now and record its definitions (``legato up`` does this before
        serving, so the UI can launch runs from its first request)."""
        return self._run_parts((self._refresh,))

    def _run_parts(self, parts: tuple[Callable[[datetime, TickReport], None], ...]) -> TickReport:
        report = TickReport()
        now = self.clock.now()
        for part in parts:
            loop = part.__name__.lstrip("_")
            try:
                part(now, report)
            except (DBAPIError, StoreError) as exc:  # the database blinked: next iteration
                report.errors.append(f"{part.__name__}: {exc}")
                self.health.failed(loop, str(exc))
            else:
                self.health.ok(loop)
        return report

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
        self._next_snapshot = self.clock.monotonic() + self.snapshot_every
        try:
            snap = self.code.snapshot()
        except LegatoError as exc:
            report.errors.append(f"loading definitions failed: {exc}")
            return
        save_snapshot(self.store, snap)
        if snap.get("errors"):  # a broken file must not delete triggers (and their cursors)
            report.errors.append(
                f"definitions have {len(snap['errors'])} error(s); triggers are kept as they were"
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
        """Evaluate every due trigger, a claimed batch at a time, each batch at its own ``now``,
        for at most ``EVALUATION_BUDGET`` s (the loop's other jobs must not wait longer)."""
        snap = self._snapshot.get()
        pipelines = {p["name"]: p for p in snap.get("pipelines", [])}
        nodes = {n["key"]: n for n in snap.get("nodes", [])}
        budget = time.monotonic() + EVALUATION_BUDGET
        while not self._stop.is_set():
            claimed = claim_triggers(
                self.store, self.id, now=now.timestamp(), lease=self.lease, limit=BATCH
            )
            self._evaluate_batch(claimed, pipelines, nodes, now, report)
            if len(claimed) < BATCH or time.monotonic() > budget:
                return
            now = self.clock.now()

    def _evaluate_batch(
        self,
        claimed: list[TriggerRow],
        pipelines: Mapping[str, Mapping[str, Any]],
        nodes: Mapping[str, Mapping[str, Any]],
        now: datetime,
        report: TickReport,
    ) -> None:
        """Schedules are planned in memory and committed together; sensors, file arrival and
        OnUpdate run user code in the code server, one trigger at a time."""
        writes: list[TickWrite] = []
        dynamic = dynamic_lookup(self.store)
        for trigger in claimed:
            pipeline = pipelines.get(trigger.pipeline)
            try:
                if pipeline is None:  # defined after our snapshot was read: look again soon
                    writes.append(TickWrite(trigger.trigger_id, next_due=now.timestamp() + 1))
                elif trigger.kind in SCHEDULES:
                    writes += plan_schedule(
                        trigger, pipeline, nodes, now, dynamic, until=self._until
                    )
                elif trigger.kind in EVALUATED and self.code is not None:
                    report.runs_requested += self._evaluate(trigger, pipeline, now)
                elif trigger.kind not in EVALUATED:  # messages and webhooks arrive elsewhere
                    writes.append(TickWrite(trigger.trigger_id, next_due=now.timestamp() + 3600))
            except LegatoError as exc:
                self._failed(trigger, exc, now)
                report.errors.append(f"trigger {trigger.trigger_id}: {exc}")
        for run_ids in write_ticks(self.store, writes, owner=self.id).values():
            report.runs_requested += run_ids

    def _failed(self, trigger: TriggerRow, exc: LegatoError, now: datetime) -> None:
        """Record a failed evaluation; the same failure again only moves the trigger on, so a
        sensor failing every few seconds leaves one history row, not one per evaluation."""
        interval = float(trigger.spec.get("interval", 30.0))
        reason = str(exc)[:4000]
        if self._skipped.get(trigger.trigger_id) == (FAILED, reason):
            advance_trigger(
                self.store, trigger.trigger_id, next_due=now.timestamp() + interval, owner=self.id
            )
            return
        self._skipped[trigger.trigger_id] = (FAILED, reason)
        record_tick(
            self.store,
            trigger.trigger_id,
            now.isoformat(),
            status="failed",
            reason=reason,
            next_due=now.timestamp() + interval,
            owner=self.id,
        )

    def _evaluate(
        self, trigger: TriggerRow, pipeline: Mapping[str, Any], now: datetime
    ) -> list[str]:
        assert self.code is not None
        index = int(trigger.trigger_id.split("#", 1)[1].split(":", 1)[0])
        result = self.code.evaluate(
            {
                "op": "evaluate",
                "pipeline": trigger.pipeline,
                "index": index,
                "cursor": trigger.cursor,
                "now": now.isoformat(),
            }
        )
        interval = float(trigger.spec.get("interval", 5.0 if trigger.kind == "on_update" else 30.0))
        for name, keys in result.get("dynamic_partitions", {}).items():
            add_dynamic_keys(self.store, name, keys, added_by=f"trigger:{trigger.trigger_id}")
        runs = []
        for request in result.get("requests", []):
            for name, keys in request.get("dynamic_partitions", {}).items():
                add_dynamic_keys(self.store, name, keys, added_by=f"trigger:{trigger.trigger_id}")
            runs.append(self._run_record(trigger, pipeline, request, now))
        cursor = result.get("cursor")
        reason = result.get("skip_reason")
        if not runs:
            # A skip like the previous one (same cursor, same reason) only moves the trigger on:
            # a sensor polling every 50 ms must not write a history row each time.
            if self._skipped.get(trigger.trigger_id) == (cursor, reason):
                advance_trigger(
                    self.store,
                    trigger.trigger_id,
                    next_due=now.timestamp() + interval,
                    owner=self.id,
                )
                return []
            self._skipped[trigger.trigger_id] = (cursor, reason)
        else:
            self._skipped.pop(trigger.trigger_id, None)
        tick_key = f"{cursor or ''}@{now.isoformat()}" if not runs else f"{runs[0].idempotency_key}"
        return record_tick(
            self.store,
            trigger.trigger_id,
            tick_key,
            status="requested" if runs else "skipped",
            runs=runs,
            reason=reason,
            cursor=cursor,
            next_due=now.timestamp() + interval,
            owner=self.id,
        )

    def _run_record(
        self,
        trigger: TriggerRow,
        pipeline: Mapping[str, Any],
        request: Mapping[str, Any],
        now: datetime,
    ) -> RunRecord:
        key = request.get("key") or f"{trigger.cursor}:{now.isoformat()}"
        return RunRecord(
            run_id=new_run_id(),
            selection=request.get("selection") or " ".join(pipeline.get("selection", ["*"])),
            status=RunStatus.QUEUED,
            created_at=time.time(),
            pipeline=pipeline["name"],
            partition=request.get("partition", ""),
            idempotency_key=f"{trigger.kind}:{trigger.trigger_id}:{key}",
            executor=pipeline.get("executor") or "",  # "": the project's executor
            tags={**pipeline.get("tags", {}), **request.get("tags", {})},
            config=dict(request.get("config", {})),
            trigger=f"{trigger.kind}:{trigger.trigger_id}",
            priority=int(pipeline.get("priority", 0)),
        )

    # -- runs -----------------------------------------------------------------------------------

    def _run_loop(self, interval: float) -> None:
        self.run_queue.run(self._stopping, interval)

    def _backfills(self, now: datetime, report: TickReport) -> None:
        """Drive backfills nobody drives (requested from the API, or whose driver died)."""
        if not self.launch_runs:
            return
        for record in list_backfills(self.store, limit=100):
            if record.status not in ("requested", "running"):
                continue
            thread = self._drivers.get(record.backfill_id)
            if thread is not None and thread.is_alive():
                continue
            lease_ok = record.lease_until is not None and record.lease_until > time.time()
            if record.driver and lease_ok and driver_alive(record.driver):
                continue  # a CLI or another daemon drives it
            thread = threading.Thread(
                target=self._drive,
                args=(record.backfill_id,),
                name=f"legato-backfill-{record.backfill_id}",
                daemon=True,
            )
            self._drivers[record.backfill_id] = thread
            thread.start()

    def _drive(self, backfill_id: str) -> None:
        try:
            drive_backfill(
                self.store,
                backfill_id,
                self._queue_backfill_run,
                lease_seconds=self.lease,
                stop=self._stopping,
                pause_on_stop=False,
            )
        except LegatoError as exc:  # another driver won the race: it drives, we don't
            log.info("backfill %s: %s", backfill_id, exc)

    def _queue_backfill_run(self, group: RunGroup, key: str, parent: str | None) -> None:
        """Queue one backfill run (idempotent by key) for the run queue; its driver waits for it."""
        record = get_backfill(self.store, key.split(":")[1])
        run = RunRecord(
            run_id=new_run_id(),
            selection=" ".join(group.nodes),
            status=RunStatus.QUEUED,
            created_at=time.time(),
            partition="|".join(group.partitions),
            parent_run_id=parent,
            idempotency_key=key,
            executor=record.executor,
            tags=dict(record.tags),
            trigger=f"backfill:{record.backfill_id}",
            from_failure=parent is not None,
            backfill_id=record.backfill_id,
        )
        create_run(self.store, run)

    def _consumers(self, now: datetime, report: TickReport) -> None:
        """Keep the message-consumer child running while any pipeline has an OnMessage trigger."""
        snap = self._snapshot.get()
        wanted = any(
            t.get("kind") == "message"
            for p in snap.get("pipelines", [])
            for t in p.get("triggers", [])
        )
        proc = self._consumer
        if not wanted or self.code is None or (proc is not None and proc.poll() is None):
            return
        if proc is not None:
            report.errors.append(f"message consumers exited with {proc.returncode}; restarting")
        self._consumer = subprocess.Popen(
            [sys.executable, "-m", "legato.automation.consumers", "--daemon-pid", str(os.getpid())],
            cwd=self.project_dir,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _alive(daemon: Mapping[str, Any]) -> bool:
    if daemon["host"] != socket.gethostname():
        return True
    try:
        os.kill(int(daemon["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
