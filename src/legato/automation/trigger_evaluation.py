"""The daemon's trigger evaluation: claim due triggers in batches and turn them into ticks.

Schedules are planned in memory from the snapshot (no user code) and a claimed batch commits in
one transaction; sensors, file arrival and OnUpdate ask the code server, one trigger at a time.
A skip or a failure like the previous one only moves the trigger on, so a sensor polled every
few seconds does not write a history row each time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from legato._internal.clock import Clock
from legato.automation.code import CodeLocation
from legato.automation.evaluation import RequestedRun
from legato.automation.tick_report import TickReport
from legato.automation.ticks import plan_schedule
from legato.definitions.trigger_specs import SCHEDULE_KINDS, poll_interval
from legato.errors import LegatoError
from legato.graph.run_config import selection_config_schema
from legato.graph.snapshot import NodeSnapshot, PipelineSnapshot
from legato.store.automation import TriggerRow, advance_trigger, claim_triggers, record_tick
from legato.store.engine import Store
from legato.store.partitions import add_dynamic_keys, dynamic_lookup
from legato.store.run_requests import NewRun, run_record
from legato.store.runs import RunRecord
from legato.store.snapshots import SnapshotCache
from legato.store.tick_writes import TickWrite, write_ticks

EVALUATED = ("sensor", "file_arrival", "on_update")
FAILED = "\x00failed"  # marks a failure among the remembered (cursor, reason) of skips
BATCH = 200  # triggers claimed, evaluated and committed together
EVALUATION_BUDGET = 1.0  # seconds of trigger evaluation before the loop's other jobs run


class TriggerEvaluation:
    def __init__(
        self,
        store: Store,
        owner: str,
        *,
        code: CodeLocation | None,
        clock: Clock,
        lease: float,
        snapshots: SnapshotCache,
    ) -> None:
        self.store, self.owner, self.code, self.clock = store, owner, code, clock
        self.lease, self.snapshots = lease, snapshots
        self.stop = threading.Event()  # set: end a long evaluation early (the daemon stops)
        self.until: datetime | None = None  # a virtual clock jumps there next (see Daemon)
        self._skipped: dict[str, tuple[str | None, str | None]] = {}  # trigger → (cursor, reason)
        self._prepared: tuple[datetime, list[TickWrite]] | None = None  # see ``prepare``

    def evaluate(self, now: datetime, report: TickReport) -> None:
        """Evaluate every due trigger, a claimed batch at a time, each batch at its own ``now``,
        for at most ``EVALUATION_BUDGET`` s (the loop's other jobs must not wait longer). The
        ticks of schedules prepared for ``now`` or earlier are committed first."""
        if self._prepared is not None and self._prepared[0] <= now:
            writes, self._prepared = self._prepared[1], None
            self._write(writes, report)
        snap = self.snapshots.get()
        pipelines, nodes = snap.pipeline_index, snap.node_index
        budget = time.monotonic() + EVALUATION_BUDGET
        while not self.stop.is_set():
            claimed = claim_triggers(
                self.store, self.owner, now=now.timestamp(), lease=self.lease, limit=BATCH
            )
            self._write(self._evaluate_batch(claimed, pipelines, nodes, now, report), report)
            if len(claimed) < BATCH or time.monotonic() > budget:
                return
            now = self.clock.now()

    def prepare(self, at: datetime, report: TickReport) -> int:
        """Claim the schedules due at ``at``, a moment ahead, and plan their ticks at that time:
        when it comes, ``evaluate`` has only their commit left (no claim, no planning, on a
        machine busy enough to make those slow). Returns how many were claimed. Only schedules:
        the rest runs user code, which must see the time it is evaluated at."""
        if self._prepared is not None:
            return 0
        snap = self.snapshots.get()
        claimed = claim_triggers(
            self.store,
            self.owner,
            now=self.clock.now().timestamp(),
            due_by=at.timestamp(),
            kinds=SCHEDULE_KINDS,
            lease=self.lease,
            limit=BATCH,
        )
        if claimed:
            writes = self._evaluate_batch(claimed, snap.pipeline_index, snap.node_index, at, report)
            self._prepared = (at, writes)
        return len(claimed)

    @property
    def prepared_for(self) -> datetime | None:
        """When the ticks ``prepare`` planned fall due (None: none are waiting)."""
        return None if self._prepared is None else self._prepared[0]

    def _write(self, writes: list[TickWrite], report: TickReport) -> None:
        for run_ids in write_ticks(self.store, writes, owner=self.owner).values():
            report.runs_requested += run_ids

    def _evaluate_batch(
        self,
        claimed: list[TriggerRow],
        pipelines: Mapping[str, PipelineSnapshot],
        nodes: Mapping[str, NodeSnapshot],
        now: datetime,
        report: TickReport,
    ) -> list[TickWrite]:
        """Schedules are planned in memory, to be committed together (returned); sensors, file
        arrival and OnUpdate run user code in the code server, one trigger at a time."""
        writes: list[TickWrite] = []
        dynamic = dynamic_lookup(self.store)
        for trigger in claimed:
            pipeline = pipelines.get(trigger.pipeline)
            try:
                if pipeline is None:  # defined after our snapshot was read: look again soon
                    writes.append(TickWrite(trigger.trigger_id, next_due=now.timestamp() + 1))
                elif trigger.kind in SCHEDULE_KINDS:
                    writes += plan_schedule(
                        trigger, pipeline, nodes, now, dynamic, until=self.until
                    )
                elif trigger.kind in EVALUATED and self.code is not None:
                    report.runs_requested += self._evaluate(trigger, pipeline, nodes, now)
                elif trigger.kind not in EVALUATED:  # messages and webhooks arrive elsewhere
                    writes.append(TickWrite(trigger.trigger_id, next_due=now.timestamp() + 3600))
            except LegatoError as exc:
                self._failed(trigger, exc, now)
                report.errors.append(f"trigger {trigger.trigger_id}: {exc}")
        return writes

    def _again(
        self, trigger: TriggerRow, outcome: tuple[str | None, str | None], next_due: float
    ) -> bool:
        """Whether ``outcome`` repeats the trigger's previous one; if so it only moves on to
        ``next_due`` (no history row), else it is remembered for the next comparison."""
        if self._skipped.get(trigger.trigger_id) == outcome:
            advance_trigger(self.store, trigger.trigger_id, next_due=next_due, owner=self.owner)
            return True
        self._skipped[trigger.trigger_id] = outcome
        return False

    def _failed(self, trigger: TriggerRow, exc: LegatoError, now: datetime) -> None:
        """Record a failed evaluation; the same failure again only moves the trigger on, so a
        sensor failing every few seconds leaves one history row, not one per evaluation."""
        interval = poll_interval(trigger.spec)
        reason = str(exc)[:4000]
        if self._again(trigger, (FAILED, reason), now.timestamp() + interval):
            return
        record_tick(
            self.store,
            trigger.trigger_id,
            now.isoformat(),
            status="failed",
            reason=reason,
            next_due=now.timestamp() + interval,
            owner=self.owner,
        )

    def _evaluate(
        self,
        trigger: TriggerRow,
        pipeline: PipelineSnapshot,
        nodes: Mapping[str, NodeSnapshot],
        now: datetime,
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
        interval = poll_interval(trigger.spec)
        by = f"trigger:{trigger.trigger_id}"  # added at the evaluation's (maybe virtual) time
        for name, keys in result.dynamic_partitions.items():
            add_dynamic_keys(self.store, name, keys, added_by=by, at=now.timestamp())
        runs = []
        for request in result.requests:
            for name, keys in request.dynamic_partitions.items():
                add_dynamic_keys(self.store, name, keys, added_by=by, at=now.timestamp())
            runs.append(self._run_record(trigger, pipeline, nodes, request, now))
        cursor, reason = result.cursor, result.skip_reason
        if not runs:
            # A skip like the previous one (same cursor, same reason) only moves the trigger on:
            # a sensor polling every 50 ms must not write a history row each time.
            if self._again(trigger, (cursor, reason), now.timestamp() + interval):
                return []
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
            owner=self.owner,
        )

    def _run_record(
        self,
        trigger: TriggerRow,
        pipeline: PipelineSnapshot,
        nodes: Mapping[str, NodeSnapshot],
        request: RequestedRun,
        now: datetime,
    ) -> RunRecord:
        key = request.key or f"{trigger.cursor}:{now.isoformat()}"
        selection = request.selection
        checked: dict[str, Any] = {}
        if selection and all(k in nodes for k in selection.split()):  # OnUpdate names its keys
            checked["config_schema"] = selection_config_schema(nodes, selection.split())
        return run_record(
            NewRun.of_pipeline(
                pipeline,
                selection=selection,
                partition=request.partition,
                tags=request.tags,
                config=dict(request.config),
                trigger=trigger.kind,
                trigger_id=trigger.trigger_id,
                key=(trigger.kind, trigger.trigger_id, key),
                **checked,
            ),
            now=now.timestamp(),
        )
