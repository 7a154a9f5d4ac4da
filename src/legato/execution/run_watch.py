"""The watch beside a run's engine: a thread that keeps the run's lease, notices a cancel request
and writes live log lines, whatever the engine's own thread is doing.

An in-process step runs in the engine's thread and may run for minutes; the lease, the cancel
check and the logs of that step cannot wait for it to return. The watch does them every fraction
of a second and tells the engine through callbacks (which set flags and interrupt the step).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from legato.errors import StoreError
from legato.events.status import RunStatus
from legato.store import event_log
from legato.store.engine import Store
from legato.store.run_leases import renew_lease
from legato.store.runs import get_run

log = logging.getLogger("legato.engine")

CHECK_EVERY = 0.25  # seconds between looks at the store for a cancel request; logs flush as often


class RunWatch:
    """Renews ``launcher``'s lease on ``run_id`` every ``lease / 3`` s, calls ``on_cancel`` once
    when the run is marked canceling and ``on_fenced`` once when the lease is lost, and appends
    the log rows handed to :meth:`add_logs` to the store."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        launcher: str,
        lease: float,
        *,
        on_cancel: Callable[[], None],
        on_fenced: Callable[[], None],
    ) -> None:
        self.store, self.run_id, self.launcher, self.lease = store, run_id, launcher, lease
        self._on_cancel, self._on_fenced = on_cancel, on_fenced
        self._logs: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="legato-run-watch", daemon=True)
        self._next_renewal = time.monotonic() + lease / 3
        self.held_until = time.monotonic() + lease  # the engine claimed the run just before
        self._cancel_seen = False
        self._store_away = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; lines still buffered are written first."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(10)
        try:
            self._write_logs()
        except (StoreError, SQLAlchemyError) as exc:
            log.warning(
                "run %s: %d log line(s) could not be written: %s", self.run_id, len(self._logs), exc
            )

    def add_logs(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._logs.extend(rows)

    def _run(self) -> None:
        while not self._stop.wait(CHECK_EVERY):
            try:
                self._write_logs()
                if not self._renew():
                    self._on_fenced()
                    return
                if not self._cancel_seen and self._canceling():
                    self._cancel_seen = True
                    self._on_cancel()
            except (StoreError, SQLAlchemyError) as exc:  # the store is away: try again soon
                if not self._store_away:
                    log.warning("run %s: the store did not answer (%s); retrying", self.run_id, exc)
                self._store_away = True
            else:
                self._store_away = False

    def _renew(self) -> bool:
        """Renew when a third of the lease has passed since the last renewal."""
        if time.monotonic() < self._next_renewal:
            return True
        return self.renew()

    def renew(self) -> bool:
        """Renew the lease now; False if the run is no longer this launcher's."""
        now = time.monotonic()
        ok = renew_lease(self.store, self.run_id, self.launcher, time.time() + self.lease)
        self._next_renewal = now + self.lease / 3
        if ok:
            self.held_until = now + self.lease
        return ok

    def _canceling(self) -> bool:
        return get_run(self.store, self.run_id).status is RunStatus.CANCELING

    def _write_logs(self) -> None:
        with self._lock:
            rows, self._logs = self._logs, []
        if rows:
            try:
                with self.store.transaction() as conn:
                    event_log.append(conn, (), rows)
            except BaseException:
                with self._lock:
                    self._logs[:0] = rows
                raise
