"""Drive a backfill: launch its run groups in dependency order, throttled, resumable, pausable.

State lives in the store: the backfill record (status, driver lease) and the runs it created, each
keyed ``backfill:<id>:<group>:<attempt>`` so that resuming after a crash creates exactly the runs
that are missing. A group's outcome is always its run's final status in the store, whoever
executed the run: the driver waits for a run another process executes (a daemon's run queue), and
a run whose process died is failed visibly and re-run from its failure, so steps that finished are
not done twice.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from legato._internal.ids import run_request_key
from legato.automation.backfill_order import GroupOrder
from legato.errors import LegatoError
from legato.events.status import RunStatus
from legato.graph.backfill import RunGroup
from legato.store.backfills import (
    backfill_run,
    backfill_runs,
    backfill_status,
    claim_driver,
    finished_runs,
    get_backfill,
    release_driver,
    set_status,
)
from legato.store.claims import Lease, run_lease, seize
from legato.store.engine import Store
from legato.store.notify import RUN_FINISHED_CHANNEL, Changes
from legato.store.run_leases import fail_abandoned
from legato.store.runs import RunRecord, request_cancel

# launch(group, idempotency_key, parent_run_id) creates the run keyed so, and executes it or has
# it executed; what it returns is ignored: the run's outcome is read from the store.
Launch = Callable[[RunGroup, str, str | None], object]
SETTLE_POLL = 0.25  # seconds a driver waits at most before it looks at its runs again


@dataclass
class Progress:
    total: int
    succeeded: int = 0
    failed: int = 0
    running: int = 0
    blocked: int = 0  # waiting on a group that failed
    runs: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.blocked


def run_key(backfill_id: str, group: int, attempt: int) -> str:
    return run_request_key("backfill", backfill_id, str(group), str(attempt))


def parse_run_key(key: str | None) -> tuple[int, int] | None:
    parts = (key or "").split(":")
    if len(parts) != 4 or parts[0] != "backfill":
        return None
    return int(parts[2]), int(parts[3])


def driver_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def driver_alive(driver: str | None) -> bool:
    """False when the driver ran on this host and its process is gone; else trust its lease."""
    if not driver:
        return False
    host, _, rest = driver.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drive_backfill(
    store: Store,
    backfill_id: str,
    launch: Launch,
    *,
    lease_seconds: float = 30.0,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    pause_on_stop: bool = True,
    driver: str | None = None,
) -> str:
    """Drive the backfill until it completes, fails, is paused or cancelled; return its status.

    When ``stop`` is set, running runs finish and the backfill is paused (``pause_on_stop``, as
    Ctrl-C in the CLI does) or left running for another driver to take over (a daemon stopping).
    ``driver`` is this driver's id, if the backfill was created already driven by it.
    """
    record = get_backfill(store, backfill_id)
    bid = record.backfill_id
    if record.status in ("completed", "cancelled"):
        return record.status
    if not record.planned:
        raise LegatoError(
            f"backfill {bid} is not planned yet",
            obj=bid,
            hint="a daemon plans it with the project's code; run 'legato daemon' (or 'legato up')",
        )
    me = driver or driver_id()
    dead = record.driver if record.driver and not driver_alive(record.driver) else None
    if not claim_driver(store, bid, me, lease_seconds, steal_from=dead):
        raise LegatoError(
            f"backfill {bid} is being driven by {record.driver}",
            obj=bid,
            hint="wait for it, or pause it with 'legato backfills pause ID'",
        )
    try:
        set_status(store, bid, "running", allowed_from=("requested", "paused", "failed", "running"))
        driving = _Driver(store, bid, launch, me, lease_seconds, on_progress, stop)
        driving.pause_on_stop = pause_on_stop
        return driving.run()
    finally:
        release_driver(store, bid, me)


class _Driver:
    """One drive of a backfill. Runs in flight are watched together: one status query whenever
    a run finished (woken by a notification on PostgreSQL, a probe of microseconds on SQLite),
    not a poll per run; which groups may launch is kept by ``GroupOrder`` as runs settle."""

    def __init__(
        self,
        store: Store,
        backfill_id: str,
        launch: Launch,
        me: str,
        lease_seconds: float,
        on_progress: Callable[[Progress], None] | None,
        stop: threading.Event | None,
    ) -> None:
        self.store, self.bid, self.launch, self.me = store, backfill_id, launch, me
        self.lease = lease_seconds
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        record = get_backfill(store, backfill_id)
        self.limit = max(1, record.max_concurrent)
        self.groups = [RunGroup.from_dict(g) for g in record.groups]
        self.order = GroupOrder(self.groups)
        self.attempts: dict[int, int] = {}
        self.parents: dict[int, str] = {}  # group → run to re-run from its failure
        self.adopted: dict[int, str] = {}  # group → unfinished run of an earlier driver
        self.orphaned: set[int] = set()  # groups whose run lost its process in this drive
        self.errors: dict[int, str] = {}  # group → why its run could not be created
        self.progress = Progress(len(self.groups))
        self.pause_on_stop = True

    def run(self) -> str:
        self._recover()
        self.order.start()
        launching: dict[Future[str | None], int] = {}
        watching: dict[str, int] = {}  # run id → group: runs created, not finished yet
        next_renew = next_look = 0.0
        cancelling = False
        changes = Changes(self.store, RUN_FINISHED_CHANNEL)
        try:
            with ThreadPoolExecutor(self.limit, thread_name_prefix="legato-backfill") as pool:
                for index, run_id in self.adopted.items():  # runs another process may execute
                    self.order.state[index] = "running"
                    watching[run_id] = index
                while True:
                    if time.monotonic() >= next_renew:
                        claim_driver(self.store, self.bid, self.me, self.lease)
                        next_renew = time.monotonic() + self.lease / 3
                    status = backfill_status(self.store, self.bid)
                    halted = status in ("paused", "cancelled") or self.stop.is_set()
                    if status == "cancelled" and not cancelling:
                        cancelling = True  # once: the runs it asks to stop end on their own
                        self._cancel_running()
                    if self.stop.is_set():  # runs being executed elsewhere go on without us
                        for index in watching.values():
                            self.order.requeue(index)
                        watching.clear()
                    for future in [f for f in launching if f.done()]:
                        index = launching.pop(future)
                        created = future.result()
                        if created is None:
                            self.order.settle(index, "failed")
                            continue
                        watching[created] = index
                        if cancelling:  # created while the cancel was being asked for
                            with contextlib.suppress(LegatoError):
                                request_cancel(self.store, created)
                    self._look(watching, deep=time.monotonic() >= next_look)
                    if time.monotonic() >= next_look:
                        next_look = time.monotonic() + SETTLE_POLL * 4
                    if not halted:
                        running = len(launching) + len(watching)
                        for index in self.order.take_ready(running, self.limit):
                            self.attempts[index] = self.attempts.get(index, 0) + 1
                            key = run_key(self.bid, index, self.attempts[index])
                            launching[pool.submit(self._create_run, index, key)] = index
                    self._report(len(launching) + len(watching))
                    if not launching and not watching:
                        break
                    if launching:  # a run executed by this process ends with its launch
                        wait(launching, timeout=SETTLE_POLL, return_when=FIRST_COMPLETED)
                        if watching:
                            changes.wait(0)
                    else:
                        changes.wait(SETTLE_POLL * 4)
        finally:
            changes.close()
        return self._finish()

    def _create_run(self, index: int, key: str) -> str | None:
        """Create (and maybe execute) the group's run; its id, or None if none was created."""
        problem = ""
        try:
            self.launch(self.groups[index], key, self.parents.get(index))
        except Exception as exc:  # a launch that raised is a failed group, not a dead driver
            problem = str(exc) or type(exc).__name__
        run = backfill_run(self.store, key)
        if run is None:
            self.errors[index] = problem or "its run was not created"
            return None
        return run.run_id

    def _look(self, watching: dict[str, int], *, deep: bool) -> None:
        """Settle the watched runs that finished (one query); with ``deep``, also take over
        those whose process died (to re-run them from their failure)."""
        if not watching:
            return
        for run_id, status in finished_runs(self.store, list(watching)).items():
            self.order.settle(
                watching.pop(run_id), "succeeded" if status is RunStatus.SUCCEEDED else "failed"
            )
        if not deep:
            return
        for run_id, index in list(watching.items()):
            lease = run_lease(self.store, run_id)
            if lease.status.finished or not self._take_orphan(run_id, lease):
                continue
            fail_abandoned(self.store, run_id, "the process running it stopped")
            del watching[run_id]
            if index in self.orphaned:  # its process died twice: say so, do not loop
                self.order.settle(index, "failed")
                continue
            self.orphaned.add(index)
            self.parents[index] = run_id
            self.order.requeue(index)

    def _take_orphan(self, run_id: str, lease: Lease) -> bool:
        """Whether the run's holder is gone (a command whose process died on this host, or any
        holder silent a whole lease past its expiry, when a daemon would have resumed it) and
        this driver took the run from it."""
        if lease.launcher is None:  # queued for a run queue: a daemon executes it
            return False
        now = time.time()
        # A daemon's claim (``daemon/run``) is not judged by the daemon's pid: its run worker
        # goes on executing the run, renewing the lease, after the daemon itself died.
        if "/" in lease.launcher or driver_alive(lease.launcher):
            expired_before = now - self.lease
            if lease.lease_until is None or lease.lease_until >= expired_before:
                return False
            return seize(
                self.store,
                run_id,
                lease.launcher,
                self.me,
                lease=self.lease,
                now=now,
                expired_before=expired_before,
            )
        return seize(self.store, run_id, lease.launcher, self.me, lease=self.lease, now=now)

    def _recover(self) -> None:
        """Read what earlier drivers did: finished groups stay finished, failed ones are re-run
        from their failure, runs still held by a process are waited for."""
        latest: dict[int, RunRecord] = {}
        for run in backfill_runs(self.store, self.bid):
            parsed = parse_run_key(run.idempotency_key)
            if parsed is None:
                continue
            index, attempt = parsed
            if attempt >= self.attempts.get(index, 0):
                self.attempts[index] = attempt
                latest[index] = run
        for index, run in latest.items():
            status = run.status
            if status is RunStatus.QUEUED and run_lease(self.store, run.run_id).launcher is None:
                with contextlib.suppress(LegatoError):  # created, never started: nothing ran
                    request_cancel(self.store, run.run_id)
                status = run_lease(self.store, run.run_id).status
            if not status.finished:
                self.adopted[index] = run.run_id
            elif status is RunStatus.SUCCEEDED:
                self.order.state[index] = "succeeded"
            elif status is RunStatus.FAILED:
                self.parents[index] = run.run_id  # resume: re-run from its failure

    def _cancel_running(self) -> None:
        for run in backfill_runs(self.store, self.bid):
            if not run.status.finished:
                with contextlib.suppress(LegatoError):
                    request_cancel(self.store, run.run_id)

    def _report(self, running: int) -> None:
        self.progress.succeeded = self.order.settled["succeeded"]
        self.progress.failed = self.order.settled["failed"]
        self.progress.running = running
        self.progress.blocked = len(self.order.blocked)
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def _finish(self) -> str:
        status = get_backfill(self.store, self.bid).status
        if status in ("paused", "cancelled"):
            return status
        if self.stop.is_set():
            if not self.pause_on_stop:
                return status
            return set_status(self.store, self.bid, "paused", allowed_from=("running",)).status
        failed = self.order.failed()
        if failed or self.progress.blocked:
            error = (
                f"{len(failed)} run(s) failed (groups {failed[:10]}), "
                f"{self.progress.blocked} blocked behind them"
            )
            unstarted = [f"group {i}: {self.errors[i]}" for i in failed if i in self.errors]
            if unstarted:
                error += f"; {len(unstarted)} could not start ({'; '.join(unstarted[:3])})"
            return set_status(
                self.store, self.bid, "failed", allowed_from=("running",), error=error
            ).status
        return set_status(self.store, self.bid, "completed", allowed_from=("running",)).status
