"""The remote worker, ``legato worker``: claim step attempts of one queue from PostgreSQL and run
them, each in a step worker (``executors/step_worker``) of its slots. Not the daemon's run workers
(``automation/run_worker``), which execute whole runs.

A worker loads the project from its own settings, claims queued rows (``SKIP LOCKED``) while it
has free slots, runs each in a slot process, renews the leases of what it holds, streams log
lines, and records each outcome with a fenced write. A write that matches no row (the lease was
lost, the step cancelled) makes the worker abandon that attempt at once: kill its process and
forget it. Transient database errors are logged and retried; SIGTERM/SIGINT stop claiming and
let running steps finish (a second signal kills them).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError

from legato.definitions.keys import StepKey
from legato.definitions.project import Project
from legato.errors import ConfigError, StoreError
from legato.execution.executors._remote_codec import (
    MalformedMessage,
    decode_spec,
    encode,
)
from legato.execution.executors._remote_slots import SlotPool
from legato.execution.spec import LogChunk, StepOutcome, StepSpec
from legato.execution.step import describe_error
from legato.graph.build import build_graph
from legato.store import step_queue as sq
from legato.store.engine import Store
from legato.store.notify import Listener, require_postgres

log = logging.getLogger("legato.worker")


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker claims and holds work.

    Args:
        queue: the queue it serves (steps are routed to queues by the engine's executor).
        concurrency: steps run at once, each in its own process.
        lease: seconds a claim lasts unless renewed; a worker silent for longer is presumed lost
            and its steps are retried elsewhere.
        heartbeat: seconds between lease renewals (default: a quarter of the lease).
        poll_interval: seconds between looks at the queue when no notification arrives.
    """

    queue: str = "default"
    concurrency: int = 1
    lease: float = 30.0
    heartbeat: float | None = None
    poll_interval: float = 1.0

    def __post_init__(self) -> None:
        check_queue(self.queue)
        if self.concurrency < 1:
            raise ConfigError(
                f"worker concurrency {self.concurrency} is invalid", hint="pass --concurrency ≥ 1"
            )
        if self.lease <= 0 or (self.heartbeat is not None and self.heartbeat >= self.lease):
            raise ConfigError(
                f"worker lease {self.lease} s / heartbeat {self.heartbeat} s are invalid",
                hint="use a lease > 0 and a heartbeat shorter than the lease",
            )

    @property
    def renew_every(self) -> float:
        return self.heartbeat or self.lease / 4


def check_queue(name: object) -> str:
    """Return ``name`` if it is a valid queue name, else raise ConfigError saying why."""
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}", name):
        raise ConfigError(
            f"queue name {name!r} is invalid",
            obj=repr(name),
            hint="use up to 64 letters, digits, '_', '-' or '.', e.g. 'default' or 'gpu'",
        )
    return name


@dataclass
class _Held:
    epoch: int
    run_id: str
    spec: StepSpec


class Worker:
    """Claims and runs the steps of one queue until :meth:`stop` (or a signal)."""

    def __init__(
        self,
        store: Store,
        project: Project,
        storage: Path,
        options: WorkerOptions | None = None,
        *,
        sys_path: tuple[str, ...] = (),
    ) -> None:
        require_postgres(store, "legato worker")
        import cloudpickle

        self.store, self.project, self.options = store, project, options or WorkerOptions()
        self.graph = build_graph(project)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self._boot = cloudpickle.dumps(project)
        self._storage, self._sys_path = storage, sys_path
        self._stop = threading.Event()
        self._kill = threading.Event()
        self._held: dict[int, _Held] = {}

    def stop(self, *, kill: bool = False) -> None:
        """Stop claiming; running steps finish first unless ``kill``."""
        self._stop.set()
        if kill:
            self._kill.set()

    def install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            first = not self._stop.is_set()
            log.warning(
                "%s: %s",
                signal.Signals(signum).name,
                "finishing running steps" if first else "killing",
            )
            self.stop(kill=not first)

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def run(self) -> None:
        """The loop. Returns once stopped and nothing is running."""
        opts = self.options
        pool = SlotPool(opts.concurrency, self._boot, str(self._storage), self._sys_path)
        listener: Listener | None = None
        log.info(
            "worker %s serving queue %r with %d slot(s)",
            self.worker_id,
            opts.queue,
            opts.concurrency,
        )
        next_renew = 0.0
        next_look = 0.0
        try:
            while not (self._kill.is_set() or (self._stop.is_set() and not self._held)):
                try:
                    if listener is None:
                        listener = Listener(self.store, sq.QUEUED_CHANNEL)
                        next_look = 0.0  # anything queued while we were not listening
                    now = time.monotonic()
                    if now >= next_renew:
                        self._renew(pool)
                        next_renew = now + opts.renew_every
                    if not self._stop.is_set() and pool.free and now >= next_look:
                        full = self._claim(pool)
                        next_look = now if full else now + opts.poll_interval
                    wait = max(0.0, min(next_renew, next_look if pool.free else next_renew) - now)
                    messages, woke = pool.poll(min(wait, 0.5), also=[listener])
                    if woke and opts.queue in listener.drain():
                        next_look = 0.0
                    self._report(pool, messages)
                except (StoreError, SQLAlchemyError, OSError) as exc:
                    if isinstance(exc, OSError) and listener is None:
                        raise
                    log.warning("store error, retrying in 1 s: %s", exc)
                    if listener is not None:
                        listener.close()
                        listener = None
                    self._kill.wait(1.0)
        finally:
            pool.close(kill=True)
            if listener is not None:
                listener.close()
            try:  # rows still held are not withdrawn: their leases expire and they are retried
                sq.worker_stopped(self.store, self.worker_id)
            except (StoreError, SQLAlchemyError) as exc:
                log.warning("could not record that the worker stopped: %s", exc)

    def _claim(self, pool: SlotPool) -> bool:
        """Claim what fits in the free slots; True if the queue may hold more."""
        wanted = pool.free
        claimed = sq.claim(
            self.store, self.options.queue, self.worker_id, wanted, self.options.lease
        )
        refused: list[tuple[int, int, str, str]] = []
        for item in claimed:
            try:
                spec = decode_spec(item.spec)
                if spec.step.node not in self.graph:
                    raise ConfigError(
                        f"step {item.step_key!r} is not defined by the project this worker "
                        f"({self.worker_id}) loaded",
                        obj=item.step_key,
                        hint="deploy the same project version to the engine and the workers",
                    )
            except (MalformedMessage, ConfigError) as exc:
                outcome = StepOutcome(
                    StepKey.parse(item.step_key), item.attempt, False, error=describe_error(exc)
                )
                refused.append((item.id, item.epoch, item.run_id, encode(outcome)))
                continue
            self._held[item.id] = _Held(item.epoch, item.run_id, spec)
            pool.start(item.id, spec)
        if refused:
            sq.finish(self.store, refused)
        return len(claimed) == wanted

    def _report(self, pool: SlotPool, messages: list[tuple[int, LogChunk | StepOutcome]]) -> None:
        chunks: list[tuple[int, int, str]] = []
        results: list[tuple[int, int, str, str]] = []
        for job, message in messages:
            held = self._held.get(job)
            if held is None:
                continue
            if isinstance(message, LogChunk):
                chunks.append((job, held.epoch, encode(message.logs)))
            else:
                results.append((job, held.epoch, held.run_id, encode(message)))
        if chunks:
            for job in sq.add_log_chunks(self.store, chunks):
                self._abandon(pool, job, "its log write was rejected")
        if results:
            accepted = sq.finish(self.store, results)
            for job, *_ in results:
                self._held.pop(job, None)
                if job not in accepted:
                    log.warning("row %d: outcome rejected (lease lost or cancelled); dropped", job)

    def _renew(self, pool: SlotPool) -> None:
        held = {job: h.epoch for job, h in self._held.items()}
        still = sq.renew(self.store, held.items(), self.options.lease)
        for job in set(held) - still:
            self._abandon(pool, job, "its lease was lost or the step was cancelled")
        sq.worker_seen(
            self.store,
            self.worker_id,
            self.options.queue,
            socket.gethostname(),
            os.getpid(),
            self.options.concurrency,
        )

    def _abandon(self, pool: SlotPool, job: int, why: str) -> None:
        held = self._held.pop(job, None)
        pool.abandon(job)
        if held is not None:
            log.warning(
                "abandoned %s attempt %d (row %d): %s", held.spec.step, held.spec.attempt, job, why
            )
