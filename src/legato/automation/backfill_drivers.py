"""Backfills the daemon drives: those nobody drives (created through the REST API or with
``legato backfill --detach``, resumed from the API, or whose driver died).

A backfill created through the API is unplanned: its driver first has the code location plan it
(the project's code is loaded there, never in the daemon). Each backfill is driven by a thread of
its own that queues one run per group (idempotent by key) for the run queue and settles it when
the run finishes; a backfill another live process drives under its lease is left to it.
"""

from __future__ import annotations

import logging
import threading
import time

from legato.automation.backfills import drive_backfill, driver_alive
from legato.automation.code import CodeLocation
from legato.errors import LegatoError
from legato.graph.backfill import RunGroup
from legato.store.backfills import (
    BackfillRecord,
    get_backfill,
    set_status,
    unfinished_backfills,
)
from legato.store.engine import Store
from legato.store.run_requests import NewRun, request_run

log = logging.getLogger("legato.daemon")


class BackfillDrivers:
    def __init__(
        self,
        store: Store,
        lease: float,
        stopping: threading.Event,
        code: CodeLocation | None = None,
    ) -> None:
        self.store, self.lease, self.stopping, self.code = store, lease, stopping, code
        self._drivers: dict[str, threading.Thread] = {}
        self._told: set[str] = set()  # unplanned backfills said to need a code location

    def join(self, deadline: float) -> None:
        """Wait for the drivers until ``deadline`` (monotonic); they stop at their next look."""
        for thread in self._drivers.values():
            thread.join(max(0.0, deadline - time.monotonic()))

    def look(self) -> None:
        """Drive backfills nobody drives (requested from the API, or whose driver died)."""
        for found in unfinished_backfills(self.store):
            thread = self._drivers.get(found.backfill_id)
            if thread is not None and thread.is_alive():
                continue
            lease_ok = found.lease_until is not None and found.lease_until > time.time()
            if found.driver and lease_ok and driver_alive(found.driver):
                continue  # a CLI or another daemon drives it
            thread = threading.Thread(
                target=self._drive,
                args=(found.backfill_id,),
                name=f"legato-backfill-{found.backfill_id}",
                daemon=True,
            )
            self._drivers[found.backfill_id] = thread
            thread.start()

    def _drive(self, backfill_id: str) -> None:
        try:
            record = get_backfill(self.store, backfill_id)
            if not record.planned and not self._plan(record):
                return
            record = get_backfill(self.store, backfill_id)

            def queue(group: RunGroup, key: str, parent: str | None) -> None:
                self._queue_backfill_run(record, group, key, parent)

            drive_backfill(
                self.store,
                backfill_id,
                queue,
                lease_seconds=self.lease,
                stop=self.stopping,
                pause_on_stop=False,
            )
        except LegatoError as exc:  # another driver won the race: it drives, we don't
            log.info("backfill %s: %s", backfill_id, exc)

    def _plan(self, record: BackfillRecord) -> bool:
        """Have the code location plan a backfill created unplanned; False if it could not."""
        if self.code is None:
            if record.backfill_id not in self._told:
                self._told.add(record.backfill_id)
                log.warning(
                    "backfill %s waits to be planned by a daemon that loads the project's code",
                    record.backfill_id,
                )
            return False
        try:
            planned = self.code.plan_backfill(record.backfill_id)
        except LegatoError as exc:  # the request does not fit the code: say so, visibly
            set_status(
                self.store,
                record.backfill_id,
                "failed",
                allowed_from=("requested", "running"),
                error=f"could not be planned: {exc}"[:2000],
            )
            log.warning("backfill %s could not be planned: %s", record.backfill_id, exc)
            return False
        log.info("backfill %s planned: %s", record.backfill_id, planned)
        return True

    def _queue_backfill_run(
        self, record: BackfillRecord, group: RunGroup, key: str, parent: str | None
    ) -> None:
        """Queue one backfill run (idempotent by key) for the run queue; its driver settles it
        when it finishes."""
        run = NewRun(
            selection=" ".join(group.nodes),
            partition="|".join(group.partitions),
            parent_run_id=parent,
            key=(key,),
            executor=record.executor,
            tags=record.tags,
            config=record.config,  # checked against the steps it plans when it was planned
            trigger="backfill",
            trigger_id=record.backfill_id,
            from_failure=parent is not None,
            backfill_id=record.backfill_id,
        )
        request_run(self.store, run)
