"""The daemon's run queue: hand claimed runs to free run workers, and resume runs whose process
died.

Recovery comes first: a run whose lease expired is lined up for the next free worker, and no
queued run is claimed while one waits, so a backlog never keeps a dead run from finishing.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

from sqlalchemy.exc import DBAPIError

from legato.automation.loop_health import LoopHealth
from legato.automation.run_workers import Job, RunWorkers
from legato.errors import StoreError
from legato.events.status import RunStatus
from legato.store.claims import (
    QueueLimits,
    claim_queued,
    expire_claim,
    expired_claims,
    hand_off,
    queue_waiting,
    release_claim,
    take_over,
)
from legato.store.engine import Store
from legato.store.notify import RUN_QUEUED_CHANNEL, Listener, SqliteChanges
from legato.store.run_leases import fail_abandoned

log = logging.getLogger("legato.daemon")
QUEUE_POLL = 0.02  # seconds between probes of the run queue where no notification wakes us


class RunQueue:
    def __init__(
        self,
        store: Store,
        owner: str,
        workers: RunWorkers,
        limits: QueueLimits,
        lease: float,
        drain: float | None = None,
        health: LoopHealth | None = None,
    ) -> None:
        self.store, self.owner, self.workers = store, owner, workers
        self.limits, self.lease, self.drain = limits, lease, drain
        self.health = health or LoopHealth()
        self.orphans: list[str] = []  # runs whose process died, waiting for a free worker
        self._listen_failed = False

    def run(self, stopping: threading.Event, interval: float) -> None:
        """Launch queued runs and recover dead ones until ``stopping`` is set; then let the
        workers finish their runs for up to ``drain`` s. A run still going then is stopped and
        its claim ended, so that the next daemon resumes it at once (its finished steps are
        kept). Expired leases are looked for every ``interval`` s, and at once when a worker
        of ours dies."""
        listener = self._listen()
        listen_at = time.monotonic() + 1.0
        recover_at = 0.0
        changes = self._changes()
        look, free = True, -1
        self.workers.fill()  # warm before the first run arrives
        try:
            while not stopping.is_set():
                if listener is not None and listener.broken:  # the database restarted
                    listener.close()
                    listener = None
                if listener is None and time.monotonic() >= listen_at:
                    listen_at = time.monotonic() + 1.0
                    listener = self._listen()
                wake = [listener] if listener is not None else []
                try:
                    outcome = self.workers.wait(1.0 if listener else QUEUE_POLL, wake)
                    if listener is not None:
                        listener.drain()
                    for job, why in outcome.lost:
                        log.warning("run %s lost: %s; it is recovered", job[0], why)
                        expire_claim(self.store, job[0], job[1], time.time())
                        recover_at = 0.0
                    if time.monotonic() >= recover_at:
                        recover_at = time.monotonic() + interval
                        self.recover()
                    self.resume_orphans()
                    # SQLite: look at the queue only when something was written, or a worker
                    # freed up, since the last look (a probe of microseconds, not a query)
                    look |= changes is None or changes.changed() or self.workers.free > free
                    free = self.workers.free
                    if look and not self.orphans:
                        self.launch()
                        look, free = False, self.workers.free
                    self.health.ok("run_queue")
                except (DBAPIError, StoreError) as exc:  # the database blinked: go on
                    log.warning("run queue: %s", exc)
                    self.health.failed("run_queue", str(exc))
                    stopping.wait(min(interval, 1.0))
                except Exception as exc:
                    log.exception("run queue iteration failed; retrying")
                    self.health.failed("run_queue", f"{type(exc).__name__}: {exc}")
                    stopping.wait(min(interval, 1.0))
        finally:
            if listener is not None:
                listener.close()
            if changes is not None:
                changes.close()
            self._release(self.workers.close(self.drain))

    def _release(self, jobs: list[Job]) -> None:
        for run_id, launcher, _ in jobs:
            try:
                hand_off(self.store, run_id, launcher, f"the daemon {self.owner} stopped")
                log.info("run %s: stopped with the daemon; the next daemon resumes it", run_id)
            except (DBAPIError, StoreError) as exc:  # recovered after its lease instead
                log.warning("run %s: could not release its claim: %s", run_id, exc)

    def _changes(self) -> SqliteChanges | None:
        if not self.store.is_sqlite:
            return None
        try:
            return SqliteChanges(self.store)
        except Exception:  # an in-memory store: probe the queue itself every time
            return None

    def _listen(self) -> Listener | None:
        """A listener for queued-run notifications (PostgreSQL), or None: then the queue is
        probed every few milliseconds, and listening is tried again every second."""
        if self.store.is_sqlite:
            return None
        try:
            return Listener(self.store, RUN_QUEUED_CHANNEL)
        except Exception as exc:
            if not self._listen_failed:
                log.warning("listening for queued runs failed (%s); polling instead", exc)
            self._listen_failed = True
            return None

    def launch(self) -> None:
        """Claim as many queued runs as there are free workers (within the limits)."""
        free = self.workers.free
        if free <= 0 or not queue_waiting(self.store):
            return
        claimed = claim_queued(
            self.store, self.owner, limits=self.limits, lease=self.lease, now=time.time(), most=free
        )
        for run in claimed:
            self.workers.submit((run.run_id, f"{self.owner}/{run.run_id}", False))

    def recover(self) -> None:
        """Find runs whose lease expired: put claimed-but-unstarted ones back in the queue, end
        those being cancelled, and line running ones up to be resumed."""
        for run in expired_claims(self.store, time.time()):
            if self.workers.holds(run.run_id) or run.run_id in self.orphans:
                continue  # ours and alive (a slow heartbeat is not a death), or lined up
            if run.status is RunStatus.QUEUED:
                release_claim(self.store, run.run_id)
            elif run.status is RunStatus.CANCELING:
                fail_abandoned(self.store, run.run_id, "cancelled; its process had stopped")
            else:
                self.orphans.append(run.run_id)

    def resume_orphans(self) -> None:
        """Resume lined-up dead runs on free workers. One that another daemon took over, or that
        finished meanwhile, is dropped: ``take_over`` only takes an expired lease of a running
        run."""
        while self.orphans and self.workers.free > 0:
            run_id = self.orphans.pop(0)
            launcher = f"{self.owner}/{run_id}/resume-{secrets.token_hex(2)}"
            if take_over(self.store, run_id, launcher, lease=self.lease, now=time.time()):
                log.info("run %s: its process stopped; resuming it", run_id)
                self.workers.submit((run_id, launcher, True))
