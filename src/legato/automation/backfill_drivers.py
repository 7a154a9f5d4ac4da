"""Backfills the daemon drives: those requested from the API, and those whose driver died.

Each is driven by a thread of its own that queues one run per group (idempotent by key) for the
run queue and waits for it; a backfill another live process drives under its lease is left to it.
"""

from __future__ import annotations

import logging
import threading
import time

from legato.automation.backfills import drive_backfill, driver_alive
from legato.errors import LegatoError
from legato.graph.backfill import RunGroup
from legato.store.backfills import get_backfill, list_backfills
from legato.store.engine import Store
from legato.store.run_requests import NewRun, request_run

log = logging.getLogger("legato.daemon")


class BackfillDrivers:
    def __init__(self, store: Store, lease: float, stopping: threading.Event) -> None:
        self.store, self.lease, self.stopping = store, lease, stopping
        self._drivers: dict[str, threading.Thread] = {}

    def join(self, deadline: float) -> None:
        """Wait for the drivers until ``deadline`` (monotonic); they stop at their next look."""
        for thread in self._drivers.values():
            thread.join(max(0.0, deadline - time.monotonic()))

    def look(self) -> None:
        """Drive backfills nobody drives (requested from the API, or whose driver died)."""
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
                stop=self.stopping,
                pause_on_stop=False,
            )
        except LegatoError as exc:  # another driver won the race: it drives, we don't
            log.info("backfill %s: %s", backfill_id, exc)

    def _queue_backfill_run(self, group: RunGroup, key: str, parent: str | None) -> None:
        """Queue one backfill run (idempotent by key) for the run queue; its driver waits for it."""
        record = get_backfill(self.store, key.split(":")[1])
        run = NewRun(
            selection=" ".join(group.nodes),
            partition="|".join(group.partitions),
            parent_run_id=parent,
            key=(key,),
            executor=record.executor,
            tags=record.tags,
            trigger="backfill",
            trigger_id=record.backfill_id,
            from_failure=parent is not None,
            backfill_id=record.backfill_id,
        )
        request_run(self.store, run)
