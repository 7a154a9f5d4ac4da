"""The daemon's retention loop: every ``every`` seconds it deletes the runs that the retention
policies no longer keep (each pipeline's own from the definitions snapshot, the project's
``[retention]`` for the rest), spending at most ``budget`` seconds per iteration so the other
jobs keep their pace; a pass cut short goes on at the next iteration.

Deleting is ``legato.store.retention``: transactions of a few hundred rows, and daemons sharing a
PostgreSQL store take different runs. It waits for definitions without errors: a pipeline
missing from a broken snapshot would otherwise fall under the project's default.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from legato.automation.tick_report import TickReport
from legato.definitions.retention import Retention
from legato.store.engine import Store
from legato.store.retention import Policies, Progress, prune
from legato.store.snapshots import SnapshotCache

log = logging.getLogger("legato.daemon")
EVERY = 300.0  # seconds between passes
BUDGET = 0.2  # seconds of deleting per iteration, at most


class RetentionLoop:
    def __init__(
        self,
        store: Store,
        snapshots: SnapshotCache,
        default: Retention | None,
        *,
        every: float = EVERY,
        budget: float = BUDGET,
    ) -> None:
        self.store, self.snapshots, self.default = store, snapshots, default
        self.every, self.budget = every, budget
        self._due = 0.0  # epoch seconds (the daemon's clock)
        self._progress = Progress()

    def look(self, now: datetime, report: TickReport) -> None:
        """Delete for up to ``budget`` seconds if a pass is due or under way."""
        at = now.timestamp()
        if at < self._due:
            return
        snap = self.snapshots.get()
        if not self.snapshots.known or snap.errors:
            return  # definitions not known yet, or broken: policies unknown, nothing deleted
        policies = Policies.from_snapshot(snap, self.default)
        if policies.default is None and not policies.pipelines:
            self._due = at + self.every
            return
        done = prune(
            self.store,
            policies,
            now=at,
            progress=self._progress,
            deadline=time.monotonic() + self.budget,
        )
        if done.runs:
            log.info(
                "retention: deleted %d run(s) and %d row(s)", done.runs, sum(done.rows.values())
            )
        self._due = at + self.every if done.done else at  # unfinished: on at the next iteration
