"""PoolGate: named pools with slot counts, enforced across every executor and every process.

Wraps any executor. A step whose definition names a ``pool`` is submitted to the inner executor
only once it holds a slot of that pool in the store (``store.pools``), and gives it back when its
outcome arrives or it is cancelled. Slots are leased and renewed while held, so a process that
dies returns its slots when the lease runs out.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Collection, Mapping

from legato.definitions.keys import StepKey
from legato.errors import ConfigError
from legato.execution.executors.base import Executor, ExecutorSetup, Message
from legato.execution.spec import StepOutcome, StepSpec
from legato.store import pools
from legato.store.engine import Store


class PoolGate:
    """An executor wrapper that admits pool steps only with a slot."""

    def __init__(
        self,
        inner: Executor,
        store: Store,
        limits: Mapping[str, int],
        nodes: Collection[str] | None = None,
    ) -> None:
        self.inner, self.store, self.limits = inner, store, dict(limits)
        self.nodes = None if nodes is None else set(nodes)  # the run's nodes (None: every one)
        self.name = inner.name
        self._pool_of: dict[str, str | None] = {}
        self._waiting: collections.deque[StepSpec] = collections.deque()
        self._held: dict[tuple[StepKey, int], tuple[str, str]] = {}
        self._next_renew = 0.0

    @property
    def capacity(self) -> int:
        return self.inner.capacity

    # No ``queue_depth``: a step queued in the inner executor would hold its pool's slot while it
    # waits for a worker, and keep steps of other runs from the slot.

    @property
    def inline_results(self) -> int:
        return int(getattr(self.inner, "inline_results", 0))

    def start(self, setup: ExecutorSetup) -> None:
        for step in setup.project.steps:
            if self.nodes is not None and step.key not in self.nodes:
                continue
            if step.pool is not None and step.pool not in self.limits:
                raise ConfigError(
                    f"{step.kind} {step.key!r} ({step.source}) uses pool {step.pool!r}, "
                    "which has no size",
                    obj=step.pool,
                    source=step.source,
                    hint=f"add {step.pool} = 4 under [tool.legato.pools] (or pools= in tests)",
                )
        self._pool_of = {s.key: s.pool for s in setup.project.steps}
        self.inner.start(setup)

    def submit(self, spec: StepSpec) -> None:
        self._waiting.append(spec)
        self._admit()

    def _admit(self) -> None:
        full: set[str] = set()  # one refusal per pool per round: the others would be refused too
        for _ in range(len(self._waiting)):
            spec = self._waiting.popleft()
            pool = self._pool_of.get(spec.step.node)
            if pool is None:
                self.inner.submit(spec)
                continue
            holder = f"{spec.run_id}:{spec.step}:{spec.attempt}"
            if pool in full or not pools.try_acquire(self.store, pool, self.limits[pool], holder):
                full.add(pool)
                self._waiting.append(spec)
                continue
            self._held[(spec.step, spec.attempt)] = (pool, holder)
            self.inner.submit(spec)

    def poll(self, timeout: float | None) -> list[Message]:
        out = self.inner.poll(
            min(timeout, 0.05) if self._waiting and timeout else 0.05 if self._waiting else timeout
        )
        for message in out:
            if isinstance(message, StepOutcome):
                held = self._held.pop((message.step, message.attempt), None)
                if held is not None:
                    pools.release(self.store, *held)
        if self._held and time.monotonic() >= self._next_renew:
            pools.renew(self.store, self._held.values())
            self._next_renew = time.monotonic() + pools.DEFAULT_LEASE / 3
        self._admit()
        return out

    def cancel(self, step: StepKey) -> None:
        self._waiting = collections.deque(s for s in self._waiting if s.step != step)
        for key in [k for k in self._held if k[0] == step]:
            pools.release(self.store, *self._held.pop(key))
        self.inner.cancel(step)

    def shutdown(self, *, kill: bool = False) -> None:
        self.inner.shutdown(kill=kill)
        for pool, holder in self._held.values():
            pools.release(self.store, pool, holder)
        self._held.clear()
