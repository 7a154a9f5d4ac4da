"""Dask executor: each step attempt is a task on a ``distributed`` cluster.

With no address, a ``LocalCluster`` of worker processes is started for the run (development).
The project is installed on every worker by a worker plugin (restarted workers get it too); each
worker keeps one ``WorkerEnv`` per project fingerprint, so a task costs one ``run_step`` plus
Dask's own overhead. Outcomes come back as typed JSON. A Dask worker that dies mid-step fails that attempt
(``WorkerLost``) so the engine retries per policy: clusters started here set Dask's
``allowed-failures`` to 0; set ``distributed.scheduler.allowed-failures: 0`` on a cluster you run
yourself, or Dask re-runs the task silently first. Timeouts are reported at the deadline; the
task's thread cannot be stopped and its late result is dropped. A cancelled step's thread gets an
asynchronous ``StepInterrupted`` on its worker (at its next Python instruction). Lines a step
prints are published as Dask events (topic ``legato-logs-<run>``) while it runs, and the rest
arrive with the outcome. Values move through storage, which every worker must share (``storage_root``),
signed with one key: workers read ``$LEGATO_SIGNING_KEY`` or the engine's key file (the key never
travels through Dask). Dask is imported only when the executor starts (``pip install 'legato[dask]'``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import queue
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from legato._internal.optional import require
from legato.definitions.keys import StepKey
from legato.errors import ConfigError
from legato.execution.executors._remote_codec import MalformedMessage, decode_outcome, encode
from legato.execution.executors.base import ExecutorOptions, ExecutorSetup, Message, WorkerLost
from legato.execution.spec import LogChunk, StepOutcome, StepSpec
from legato.execution.step import StepTimeout, describe_error

_ENVS_PER_WORKER = 4  # projects (fingerprints) whose WorkerEnv a Dask worker keeps
# Steps in flight per Dask thread. With exactly one, every step waits for the round trip of the
# one before (engine -> scheduler -> worker -> client): Dask's own pipelining needs a backlog.
_IN_FLIGHT_PER_THREAD = 8


def start_local_cluster(n_workers: int = 2, threads_per_worker: int = 1, **kwargs: Any) -> Any:
    """A ``distributed.LocalCluster`` of worker processes that reports a lost worker at once."""
    distributed = require("distributed", "dask")
    dask = require("dask", "dask")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        return distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            # No dashboard, and the scheduler's HTTP endpoint on a free loopback port: with
            # ``None`` Dask still binds its default 8787 and warns when another cluster has it.
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.ERROR,
            **kwargs,
        )


@dataclass
class _Running:
    future: Any
    step: StepKey
    attempt: int
    deadline: float | None


class DaskExecutor:
    """Runs steps on a Dask cluster.

    Args:
        address: the scheduler (``tcp://host:8786``); None starts a ``LocalCluster``.
        n_workers, threads_per_worker: the size of that local cluster.
        resources: Dask resources every step needs (``{"GPU": 1}``); the cluster's workers must
            declare them or the steps never start.
        step_resources: per node key, resources that replace ``resources`` for that step.
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int = 2,
        threads_per_worker: int = 1,
        resources: Mapping[str, float] | None = None,
        step_resources: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.address = address
        self.n_workers, self.threads_per_worker = n_workers, threads_per_worker
        self.resources = dict(resources or {})
        self.step_resources = {k: dict(v) for k, v in (step_resources or {}).items()}
        self._client: Any = None
        self._cluster: Any = None
        self._fingerprint = ""
        self._pending: list[StepSpec] = []
        self._running: dict[str, _Running] = {}
        self._done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = n_workers * threads_per_worker
        self._topics: set[str] = set()

    @classmethod
    def from_options(cls, options: ExecutorOptions) -> DaskExecutor:
        """A ``LocalCluster`` of ``max_concurrency`` (default 2) workers, unless
        ``LEGATO_DASK_ADDRESS`` names a scheduler."""
        return cls(os.environ.get("LEGATO_DASK_ADDRESS"), n_workers=options.max_concurrency or 2)

    def start(self, setup: ExecutorSetup) -> None:
        import cloudpickle

        if setup.storage_root is None:
            raise ConfigError(
                "the dask executor needs a storage root its workers share",
                hint="pass storage= (a path every Dask worker can read and write)",
            )
        distributed = require("distributed", "dask")
        if self._client is None:
            if self.address is None:
                self._cluster = start_local_cluster(self.n_workers, self.threads_per_worker)
                self._client = distributed.Client(self._cluster)
            else:
                self._client = distributed.Client(self.address)
        self._threads = max(1, sum(self._client.nthreads().values()))
        boot = cloudpickle.dumps(setup.project)
        storage, path = str(setup.storage_root), setup.sys_path or tuple(sys.path)
        digest = hashlib.sha256(boot + storage.encode() + "\0".join(path).encode()).hexdigest()
        self._fingerprint = digest
        # A plugin, not scattered data: Dask runs it on every worker, and again on each worker
        # that joins or is restarted after a crash, so a retry never lacks the project.
        self._client.register_plugin(_project_plugin(digest, storage, path, boot))

    @property
    def capacity(self) -> int:
        return self._threads * _IN_FLIGHT_PER_THREAD

    def submit(self, spec: StepSpec) -> None:
        topic = _log_topic(spec.run_id)
        if topic not in self._topics:
            self._topics.add(topic)
            self._client.subscribe_topic(topic, self._live_lines)
        self._pending.append(spec)  # sent in one batch when the engine polls

    def _live_lines(self, event: tuple[float, Any]) -> None:
        """A batch of lines a running step published (called on the client's event loop)."""
        try:
            step, attempt, lines = event[1]
            self._done.put(LogChunk(StepKey.parse(step), int(attempt), [tuple(x) for x in lines]))
        except (TypeError, ValueError):
            return  # not ours, or garbled: the step's lines still arrive with its outcome

    def _send(self) -> None:
        """Send the buffered specs: one ``client.map`` per resource set, not one call per step.

        A step with a timeout is held back until a Dask thread is free, so that its clock starts
        when it can run, not while it waits in Dask's queue behind the backlog."""
        assert self._client is not None, "start() first"
        groups: dict[tuple[tuple[str, float], ...], list[StepSpec]] = {}
        held: list[StepSpec] = []
        in_flight = len(self._running)
        for spec in self._pending:
            if spec.timeout and in_flight >= self._threads:
                held.append(spec)
                continue
            in_flight += 1
            wanted = self.step_resources.get(spec.step.node, self.resources)
            groups.setdefault(tuple(sorted(wanted.items())), []).append(spec)
        self._pending = held
        for resources, specs in groups.items():
            keys = [f"legato-{s.step.node}-{uuid.uuid4().hex}" for s in specs]
            futures = self._client.map(
                run_on_dask_worker,
                [self._fingerprint] * len(specs),
                specs,
                key=keys,
                pure=False,
                resources=dict(resources) or None,
            )
            now = time.monotonic()
            for key, spec, future in zip(keys, specs, futures, strict=True):
                deadline = now + spec.timeout if spec.timeout else None
                self._running[key] = _Running(future, spec.step, spec.attempt, deadline)
                future.add_done_callback(self._done.put)

    def poll(self, timeout: float | None) -> list[Message]:
        if self._pending:
            self._send()
        deadlines = [r.deadline for r in self._running.values() if r.deadline is not None]
        if deadlines:
            soonest = max(0.0, min(deadlines) - time.monotonic())
            timeout = soonest if timeout is None else min(timeout, soonest)
        finished = []
        try:
            finished.append(self._done.get(timeout=timeout))
            while True:
                finished.append(self._done.get_nowait())
        except queue.Empty:
            pass
        out: list[Message] = [m for m in finished if isinstance(m, LogChunk)]
        finished = [f for f in finished if not isinstance(f, LogChunk)]
        mine = [f for f in finished if f.key in self._running]
        ok = [f for f in mine if f.status == "finished"]
        values: dict[str, Any] = {}
        if ok:
            # One round trip for every finished result; if one vanished meanwhile, _outcome
            # asks for each on its own.
            with contextlib.suppress(Exception):
                values = dict(zip((f.key for f in ok), self._client.gather(ok), strict=True))
        for future in mine:
            running = self._running.pop(future.key)
            out.append(self._outcome(future, running, values.get(future.key)))
        now = time.monotonic()
        for key, running in list(self._running.items()):
            if running.deadline is not None and now >= running.deadline:
                del self._running[key]
                running.future.cancel()
                error = describe_error(StepTimeout("step ran longer than its timeout"))
                out.append(StepOutcome(running.step, running.attempt, False, error=error))
        return out

    def cancel(self, step: StepKey) -> None:
        self._pending = [s for s in self._pending if s.step != step]
        for key, running in list(self._running.items()):
            if running.step == step:
                del self._running[key]
                running.future.cancel()
                with contextlib.suppress(Exception):  # a worker that is gone runs nothing
                    self._client.run(interrupt_on_dask_worker, str(step), running.attempt)

    def shutdown(self, *, kill: bool = False) -> None:
        self._pending.clear()
        for running in self._running.values():
            running.future.cancel()
        self._running.clear()
        if self._client is not None:
            for topic in self._topics:
                with contextlib.suppress(Exception):
                    self._client.unsubscribe_topic(topic)
            self._topics.clear()
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _outcome(self, future: Any, running: _Running, value: bytes | None) -> StepOutcome:
        if future.status == "finished":
            try:
                return decode_outcome(value if value is not None else future.result())
            except MalformedMessage as exc:
                error = describe_error(exc)
            except Exception as exc:  # the result was lost with its worker
                error = describe_error(WorkerLost(f"the step's result was lost: {exc!r}"))
        else:
            raised = future.exception() if future.status == "error" else None
            if raised is None or type(raised).__name__ == "KilledWorker":
                why = "the Dask worker running it died" if raised else "Dask cancelled it"
                error = describe_error(WorkerLost(f"{why} ({raised or future.status})"))
            else:
                error = describe_error(raised)
        return StepOutcome(running.step, running.attempt, False, error=error)


def run_on_dask_worker(fingerprint: str, spec: StepSpec) -> bytes:
    """The Dask task: run one step in this worker's environment; return the outcome as JSON."""
    from distributed import get_worker

    from legato.execution.executors._interrupt import StepInterrupted
    from legato.execution.step import run_step

    worker = get_worker()
    envs = getattr(worker, "_legato_envs", {})
    if fingerprint not in envs:
        raise ConfigError(
            f"this Dask worker has no Legato project {fingerprint[:12]}",
            hint="the executor installs it on start; was the worker started after a restart of "
            "the scheduler?",
        )
    running: dict[tuple[str, int], int] = worker.__dict__.setdefault("_legato_running", {})
    attempt = (str(spec.step), spec.attempt)
    topic = _log_topic(spec.run_id)

    def publish(batch: list[Any]) -> None:
        worker.log_event(topic, (attempt[0], attempt[1], [list(r) for r in batch]))

    running[attempt] = threading.get_ident()
    try:
        outcome = run_step(spec, envs[fingerprint], publish)
    except StepInterrupted as exc:
        outcome = StepOutcome(spec.step, spec.attempt, False, error=describe_error(exc))
    finally:
        running.pop(attempt, None)
    return encode(outcome).encode()


def interrupt_on_dask_worker(step: str, attempt: int, dask_worker: Any = None) -> bool:
    """Run by ``client.run`` on every worker: interrupt the thread running ``step``'s attempt."""
    from legato.execution.executors._interrupt import interrupt_thread

    thread = getattr(dask_worker, "_legato_running", {}).get((step, attempt))
    if thread is None:
        return False
    interrupt_thread(thread)
    return True


def _log_topic(run_id: str) -> str:
    return f"legato-logs-{run_id}"


def _project_plugin(fingerprint: str, storage: str, sys_path: tuple[str, ...], boot: bytes) -> Any:
    """A ``WorkerPlugin`` that builds the project's ``WorkerEnv`` on a worker (made lazily, so that
    importing this module never imports Dask; Dask ships it to workers with cloudpickle)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class LegatoProject(WorkerPlugin):
        name = f"legato-project-{fingerprint[:16]}"

        def setup(self, worker: Any) -> None:
            _install(worker, fingerprint, storage, sys_path, boot)

    return LegatoProject()


def _install(
    worker: Any, fingerprint: str, storage: str, sys_path: tuple[str, ...], boot: bytes
) -> None:
    from legato._internal.masking import mask_process_output
    from legato.execution.capture import capturing
    from legato.execution.io.fs import FilesystemIOManager
    from legato.execution.resources import WorkerEnv

    envs: OrderedDict[str, WorkerEnv] | None = getattr(worker, "_legato_envs", None)
    if envs is None:
        mask_process_output()  # the worker's own output and logs, as in every Legato process
        envs = OrderedDict()
        capture = capturing()  # route prints of every step thread to its sink, for good
        capture.__enter__()
        setattr(worker, "_legato_envs", envs)  # noqa: B010 - our own attribute on Dask's object
        setattr(worker, "_legato_capture", capture)  # noqa: B010
    if fingerprint not in envs:
        sys.path[:0] = [p for p in sys_path if p not in sys.path]
        project = pickle.loads(boot)  # sent by the engine that started us: definitions by reference
        io = FilesystemIOManager(Path(storage), create_key=False)  # LEGATO_SIGNING_KEY, or
        envs[fingerprint] = WorkerEnv(project, io)  # the engine's key file on a shared path
    envs.move_to_end(fingerprint)
    while len(envs) > _ENVS_PER_WORKER:
        envs.popitem(last=False)[1].close()
