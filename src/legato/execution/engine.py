"""Drive a plan: ready set → submit → collect outcomes → retry, skip or finish.

The engine is the single writer of a run's events. Each loop iteration appends the events of what
just happened in one transaction *before* acting on them (starting the steps they made ready), so
the store is never behind what executes, and a run of 1,000 steps costs a few dozen commits.

The loop works on one record per step (``run_state``); its parts live beside it: recording
(``recording``), the lease, cancel and fencing (``leases``, ``fencing``), crash resume
(``resume``), fan-out (``fanout``), inputs (``inputs``) and what outcomes record (``outcomes``).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

from legato.definitions.keys import StepKey
from legato.definitions.policies import NO_RETRY, Retry
from legato.errors import EngineError, LegatoError
from legato.events.status import RunStatus, StepStatus
from legato.events.types import Event, EventType
from legato.execution.executors.base import Executor, Message
from legato.execution.fanout import FanOut
from legato.execution.fencing import Fencing, Publisher
from legato.execution.inputs import StepInputs
from legato.execution.outcomes import Outcomes
from legato.execution.recording import OnEvents, Recording
from legato.execution.resume import ResumeSteps
from legato.execution.run_state import RunState
from legato.execution.run_watch import RunWatch
from legato.execution.spec import LogChunk, StepOutcome, StepSpec
from legato.graph.graph import Graph
from legato.graph.plan import Plan
from legato.store.engine import Store
from legato.store.runs import NewStep, get_run, get_steps

__all__ = ["OnEvents", "RunEngine"]

# How long the loop may gather outcomes before it records them, while the executor's queue keeps
# its slots busy: what a reader of the store may lag behind, at most.
BATCH_WINDOW = 0.1


class RunEngine(Recording, ResumeSteps, FanOut, Fencing, Outcomes, StepInputs):
    """Executes one run's plan on an executor, recording every state change in the store."""

    def __init__(
        self,
        store: Store,
        graph: Graph,
        plan: Plan,
        run_id: str,
        executor: Executor,
        *,
        max_concurrency: int | None = None,
        default_retry: Retry | None = None,
        run_config: dict[str, Any] | None = None,
        on_events: OnEvents | None = None,
        cancel_poll_interval: float = 0.25,
        launcher: str | None = None,
        lease_seconds: float = 30.0,
        resume: bool = False,
        publish: Publisher | None = None,
        allow_untrusted: bool = False,
    ) -> None:
        self.store, self.graph, self.plan, self.run_id = store, graph, plan, run_id
        self.executor = executor
        self.limit = max(1, min(max_concurrency or executor.capacity, executor.capacity))
        # Steps the executor queues until a slot frees (only where no tighter limit than its
        # own applies): while enough of them wait, the loop gathers outcomes before it records
        # them, and records their starts in batches too (``_gather``).
        self._queued = getattr(executor, "queue_depth", 0)
        if self.limit != executor.capacity:
            self._queued = 0
        self.limit += self._queued
        self.default_retry = default_retry or NO_RETRY
        self.run_config = run_config or {}
        self.on_events = on_events
        self.cancel_requested = threading.Event()
        self._lease_lost = threading.Event()
        self._cancel_poll = cancel_poll_interval
        self.launcher = launcher or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._lease = lease_seconds
        self.resume = resume
        self.publish = publish
        # Small task results come back in their outcomes, where the executor's steps run on
        # this machine and there is a result log to append them to.
        self._inline = getattr(executor, "inline_results", 0) if publish is not None else 0
        self.allow_untrusted = allow_untrusted  # read stored values that failed blocking checks
        # A store only this process can see (``materialize``) needs no lease, cancel check or
        # live logs: nobody else could take the run over, cancel it or read its lines.
        self._watching = not _in_memory(store)
        self._live: RunWatch | None = None
        self.state = RunState()
        self._events: list[Event] = []
        self._made_at: dict[tuple[str, str], float] = {}
        self._logs: list[dict[str, Any]] = []
        self._new_steps: list[NewStep] = []
        self._run_status = RunStatus.QUEUED
        self._planned = {p.key: p for p in plan.steps}
        self._assets = {n for n, node in graph.nodes.items() if node.step.kind == "asset"}
        self._ranged = {p.key for p in plan.steps if p.partition_keys}
        self._templates = {p.key for p in plan.steps if p.template}
        self._producers = {
            graph[p.key.node].inputs[graph[p.key.node].step.map_over]  # type: ignore[index]
            for p in plan.steps
            if p.template
        }

    # -- the loop -------------------------------------------------------------------------------

    def execute(self) -> RunStatus:
        """Run to the end (or until cancelled) and return the run's final status."""
        watch = None
        try:
            if self._watching and not self._claim():
                return self._fenced()
            watch = self._watch()
            self._begin()
            while self.state.unfinished:
                if self._lease_lost.is_set():
                    return self._fenced()
                if self.cancel_requested.is_set():
                    self._cancel()
                    return self._run_status
                self.state.release_due_retries(time.monotonic())
                specs = self._start_ready()
                self._flush()
                for spec in specs:
                    self.executor.submit(spec)
                if self.state.unfinished:
                    self._collect(self._gather(self.executor.poll(self._poll_timeout())))
            self._finish()
        except KeyboardInterrupt:  # Ctrl-C, or the watch interrupting an in-process step
            if self._lease_lost.is_set():
                return self._fenced()
            self._cancel()
        except LegatoError as exc:  # the store broke mid-run: recorded if it still can be
            self._crash(exc)
            raise
        except Exception as exc:
            self._crash(exc)
            raise EngineError(
                f"run {self.run_id}: the engine failed: {exc!r}",
                obj=self.run_id,
                hint="the run is recorded as failed; this is a bug in Legato, please report it "
                "with the traceback (legato runs show RUN)",
            ) from exc
        finally:
            if watch is not None:
                watch.stop()
            self.executor.shutdown(kill=self._run_status is not RunStatus.SUCCEEDED)
        return self._run_status

    def _begin(self) -> None:
        current = get_run(self.store, self.run_id).status if self.resume else RunStatus.QUEUED
        if current is not RunStatus.QUEUED:
            self._run_status = current  # a run taken over after its process died
        else:
            self._run_event(EventType.RUN_STARTED)
        self._judge_inputs(self.allow_untrusted)
        self.state.add_planned(self.plan.steps)
        recorded = (
            {s.step_key: s for s in get_steps(self.store, self.run_id)} if self.resume else {}
        )
        for planned in self.plan.steps:
            found = recorded.get(str(planned.key))
            if found is not None and found.status is not StepStatus.PENDING:
                self._restore(planned.key, found, recorded)
            elif planned.key in self.plan.reused:
                self._reuse(planned.key, self.plan.reused[planned.key])
            elif not self.state[planned.key].waits:
                self.state.ready.append(planned.key)

    def _poll_timeout(self) -> float:
        timeout = self._cancel_poll
        if self.state.retries:
            timeout = min(timeout, max(0.0, self.state.retries[0][0] - time.monotonic()))
        if not self.state.running:  # nothing to wait on but retries or a cancel: don't spin
            self.cancel_requested.wait(timeout)
            return 0.0
        return timeout

    def _gather(self, messages: list[Message]) -> list[Message]:
        """``messages`` and more, while at least half the executor's queue still waits: its
        slots stay busy with steps already recorded, so nothing needs starting yet, and one
        write of their results and one commit record the lot (``BATCH_WINDOW`` s at most)."""
        if not self._queued:
            return messages
        busy = self.executor.capacity + max(1, self._queued // 2)
        handed = len(self.state.running) - _outcomes(messages)
        until = time.monotonic() + BATCH_WINDOW
        while handed >= busy:
            left = until - time.monotonic()
            if left <= 0 or self.cancel_requested.is_set() or self._lease_lost.is_set():
                break
            more = self.executor.poll(left)
            if not more:
                break
            messages += more
            handed -= _outcomes(more)
        return messages

    # -- starting steps ---------------------------------------------------------------------------

    def _start_ready(self) -> list[StepSpec]:
        specs = []
        now = time.time()
        ready, running = self.state.ready, self.state.running
        while ready and len(running) < self.limit:
            key = ready.popleft()
            state = self.state[key]
            if state.status not in (StepStatus.PENDING, StepStatus.RETRYING):
                continue
            if self._refuse_untrusted(key):
                continue
            if key in self._templates:
                self._expand(key)
                continue
            state.attempt += 1
            self._step_event(key, EventType.STEP_STARTED, ts=now)
            state.started_at = now
            running.add(key)
            specs.append(self._spec(key, state.attempt))
        return specs

    def _spec(self, key: StepKey, attempt: int) -> StepSpec:
        node = self.graph[key.node]
        planned = self._planned[key._replace(map_index=-1)]
        return StepSpec(
            self.run_id,
            key,
            attempt,
            self._inputs(key),
            node.step.timeout,
            self.run_config,
            report_length=key.node in self._producers,
            partition_keys=planned.partition_keys,
            stage=f"{self.run_id}-{attempt}" if self.publish is not None else "",
            inline=self._inline,
            target_materialized_at=self._checked_at(key) if node.step.check else None,
        )

    # -- outcomes ---------------------------------------------------------------------------------

    def _collect(self, messages: Sequence[StepOutcome | LogChunk]) -> None:
        running, steps = self.state.running, self.state.steps
        current = self._published(
            [m for m in messages if m.step in running and m.attempt == steps[m.step].attempt]
        )  # the others are of abandoned or cancelled attempts: their late word is not recorded
        if current is None:
            return  # the run is no longer ours: the loop stops at the fence
        for message in current:
            if message.step not in running:
                continue
            self._add_logs(message.step, message.logs)
            if not isinstance(message, StepOutcome):
                continue
            if not message.ok and self.cancel_requested.is_set():
                continue  # stopped by the cancel: recorded as cancelled, not as a failure
            running.discard(message.step)
            if message.ok:
                self._succeeded(message)
            else:
                self._failed(message)

    def _succeeded(self, outcome: StepOutcome) -> None:
        key = outcome.step
        ended, data = self._ran(outcome)
        if outcome.length is not None:
            self.state[key].length = outcome.length
            data["length"] = outcome.length
        self._record_outputs(outcome, ended)
        self._step_event(key, EventType.STEP_SUCCEEDED, data=data, ts=ended)
        self._done(key)

    def _failed(self, outcome: StepOutcome) -> None:
        key, error = outcome.step, outcome.error
        assert error is not None
        step = self.graph[key.node].step
        # A check retries only if it says so: a failed check is a finding, not a hiccup.
        policy = step.retries or (NO_RETRY if step.check else self.default_retry)
        ended, data = self._ran(outcome)
        data["error"] = error.as_dict()
        if policy.should_retry(outcome.attempt, error.types):
            delay = policy.delay_for(outcome.attempt)
            data["retry_in"] = delay
            self._step_event(key, EventType.STEP_RETRY, data=data, ts=ended)
            self.state.retry_at(time.monotonic() + delay, key)
            return
        if step.check:
            self._record_check(outcome, ended)
        self._step_event(key, EventType.STEP_FAILED, data=data, ts=ended)
        self._done(key)

    def _ran(self, outcome: StepOutcome) -> tuple[float, dict[str, Any]]:
        """When the attempt ended, and the data of its end event: its duration and, when the
        executor reported it, when it began to execute. Steps handed over together may run one
        after another (the in-process executor runs them in turn, a pool as workers free up), so
        the times are those of the attempt, not of the batch that started it or of the poll
        that collected it. Another machine's clock is trusted only within what this engine saw:
        not before it started the attempt, not after the outcome arrived."""
        now = time.time()
        state = self.state[outcome.step]
        handed, state.started_at = state.started_at, None
        data: dict[str, Any] = {"duration": outcome.duration}
        if not outcome.started_at or handed is None:
            return now, data
        ended = min(max(outcome.started_at, handed) + outcome.duration, now)
        data["started_at"] = max(ended - outcome.duration, handed)
        return ended, data

    def _done(self, key: StepKey) -> None:
        """``key`` finished: release its children, or skip them if it did not succeed."""
        state = self.state[key]
        self.state.unfinished -= 1
        ok = state.status.ok
        for child in state.children:
            if not ok:
                self._skip(child, key)
                continue
            waiting = self.state[child]
            waiting.waits.discard(key)
            if not waiting.waits and waiting.status is StepStatus.PENDING:
                self.state.ready.append(child)
        if state.template is not None:
            fan_out = self.state[state.template]
            fan_out.items_left -= 1
            if fan_out.items_left == 0:
                self._finish_template(state.template)

    def _skip(self, key: StepKey, because: StepKey) -> None:
        if self.state[key].status is not StepStatus.PENDING:
            return
        self._step_event(key, EventType.STEP_SKIPPED, data={"reason": self._skip_reason(because)})
        self._done(key)

    def _reuse(self, key: StepKey, from_run: str) -> None:
        self.state[key].reused_from = from_run
        self._step_event(key, EventType.STEP_REUSED, data={"from_run": from_run})
        self._done(key)

    # -- ending -----------------------------------------------------------------------------------

    def _finish(self) -> None:
        failed = sorted(
            str(k) for k, s in self.state.steps.items() if s.status is StepStatus.FAILED
        )
        if failed:
            self._run_event(
                EventType.RUN_FAILED,
                {"error": {"message": "steps failed: " + ", ".join(failed[:20])}},
            )
        else:
            self._run_event(EventType.RUN_SUCCEEDED)
        self._flush()

    def _cancel(self) -> None:
        for key in list(self.state.running):
            self.executor.cancel(key)
        self.state.running.clear()
        for key, state in self.state.steps.items():
            if state.status in (StepStatus.PENDING, StepStatus.RUNNING, StepStatus.RETRYING):
                self._step_event(key, EventType.STEP_CANCELLED)
        self._run_event(EventType.RUN_CANCELLED)
        self._flush()


def _outcomes(messages: Sequence[Message]) -> int:
    return sum(isinstance(m, StepOutcome) for m in messages)


def _in_memory(store: Store) -> bool:
    return store.is_sqlite and store.engine.url.database in (None, "", ":memory:")
