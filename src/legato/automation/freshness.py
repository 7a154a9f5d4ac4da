"""The daemon's freshness watch: assets behind their freshness policy and pipelines past their
SLA, recorded as violations (one open per subject) and resolved when they recover.

It looks every ``every`` seconds (new materializations and finished runs are seen then), and
at the moment a subject would turn late on its own (a deadline, a window's end plus its lag),
which it reports as ``next_due`` for the daemon's pause and the virtual clock.
"""

from __future__ import annotations

from datetime import datetime

from legato.automation.tick_report import TickReport
from legato.store.engine import Store
from legato.store.freshness import assess_assets, pipeline_slas, policy_nodes
from legato.store.snapshots import SnapshotCache
from legato.store.violations import Miss, record_misses, sla_misses

EVERY = 2.0  # seconds between looks, at most


class FreshnessWatch:
    def __init__(self, store: Store, snapshots: SnapshotCache, every: float = EVERY) -> None:
        self.store, self.snapshots, self.every = store, snapshots, every
        self.next_due: float | None = None  # epoch seconds: a subject may turn late then
        self._look_at = 0.0

    def look(self, now: datetime, report: TickReport) -> None:
        """Assess every policy and SLA if it is time to; record misses and recoveries."""
        at = now.timestamp()
        if at < self._look_at and (self.next_due is None or at < self.next_due):
            return
        self._look_at = at + self.every
        snap = self.snapshots.get()
        # Only definitions known in full say which subjects no longer have a policy or an SLA:
        # before the first snapshot, or with a broken one, open violations stay open.
        complete = self.snapshots.known and not snap.errors
        found, errors = assess_assets(self.store, snap.nodes, now)
        for asset, error in errors.items():
            report.errors.append(f"freshness of {asset!r} not assessed: {error}")
        late = [
            Miss(
                subject=a.subject,
                late_since=a.late_since if a.late_since is not None else at,
                asset_key=a.asset,
                partition=a.partition,
                detail={
                    "expected": a.expected,
                    "materialized_at": a.materialized_at,
                    "reason": a.reason(),
                },
            )
            for assessments in found.values()
            for a in assessments
            if a.late
        ]
        defined = {n.key for n in policy_nodes(snap.nodes)} if complete else None
        record_misses(self.store, "freshness", late, assessed=found, defined=defined, now=at)
        slas = pipeline_slas(snap.pipelines)
        record_misses(
            self.store,
            "sla",
            sla_misses(self.store, slas, at),
            assessed=slas,
            defined=set(slas) if complete else None,
            now=at,
        )
        upcoming = [
            a.next_check
            for assessments in found.values()
            for a in assessments
            if a.next_check is not None and a.next_check > at
        ]
        self.next_due = min(upcoming, default=None)
