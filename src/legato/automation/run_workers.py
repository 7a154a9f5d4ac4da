"""The daemon's run workers: long-lived processes that each execute one claimed run at a time.

``RunWorkers`` keeps up to ``size`` workers (``legato.automation.run_worker``) started in the
project directory: one idle spare ready for the next run, more started as runs arrive. When the
spare takes a run, its replacement starts only once that run has held it, loaded, for
``SPARE_AFTER`` seconds: a short run frees its worker first, so one worker serves a trickle of
runs (each worker costs an interpreter and the project's import). It hands them jobs over pipes
and reports what became of them: finished, handed back because the code changed (given to a
fresh worker), or lost with a worker that died. A worker is replaced after
``max_runs`` runs, so that a leak in user code cannot grow without bound.

These execute runs; the step workers of the process pool are ``execution/executors/step_worker``,
and the remote ``legato worker`` is ``execution/remote_worker``.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from legato.execution.children import Child, how_it_ended, spawn_child

log = logging.getLogger("legato.daemon")
Job = tuple[str, str, bool]  # run id, launcher (the lease holder), resume
SPARE_AFTER = 2.0  # seconds a run holds the last idle worker before a new spare starts


@dataclass
class _Worker(Child):
    job: Job | None = None
    runs: int = 0
    busy_since: float = 0.0
    ready_at: float = 0.0  # when it said it had loaded the project (0: still loading)

    def held(self, now: float) -> float:
        """How long its run has held it, loaded: 0 while idle or still loading."""
        if self.job is None or not self.ready_at:
            return 0.0
        return now - max(self.busy_since, self.ready_at)


@dataclass
class Outcomes:
    """What ``RunWorkers.wait`` observed."""

    lost: list[tuple[Job, str]] = field(default_factory=list)  # the job and why


class RunWorkers:
    def __init__(
        self, project_dir: Path, size: int, *, max_runs: int = 1000, spare: int = 1
    ) -> None:
        self.project_dir = project_dir
        self.size = max(1, size)
        self.spare = spare
        self.max_runs = max_runs
        self._pool: list[_Worker] = []
        self._pending: deque[Job] = deque()
        self._closed = False
        self._backoff = 0.0  # grows while workers die before finishing a run (a broken setup)
        self._respawn_at = 0.0

    # -- jobs -----------------------------------------------------------------------------------

    @property
    def free(self) -> int:
        """How many more jobs can start now (busy workers and waiting jobs subtracted)."""
        return self.size - sum(w.job is not None for w in self._pool) - len(self._pending)

    def holds(self, run_id: str) -> bool:
        """Whether a live worker is executing (or about to execute) ``run_id``."""
        return any(j[0] == run_id for j in self._pending) or any(
            w.job is not None and w.job[0] == run_id for w in self._pool
        )

    def submit(self, job: Job) -> None:
        self._pending.append(job)
        self._dispatch()

    def fill(self) -> None:
        """Start workers for the jobs waiting, plus ``spare`` idle ones ready for the next run
        (they load the project before it arrives), up to ``size`` in all. Workers started for
        a burst stay until retired."""
        now = time.monotonic()
        if now < self._respawn_at:
            return
        idle = sum(w.job is None for w in self._pool)
        just_taken = any(w.job is not None and w.held(now) < SPARE_AFTER for w in self._pool)
        spare = 0 if just_taken else self.spare
        while (
            not self._closed and len(self._pool) < self.size and idle < len(self._pending) + spare
        ):
            self._spawn()
            idle += 1

    def _dispatch(self) -> None:
        self._assign()  # idle workers first, so that fill() starts only what is missing
        self.fill()
        self._assign()

    def _assign(self) -> None:
        for worker in self._pool:
            if not self._pending:
                return
            if worker.job is None:
                worker.job = self._pending.popleft()
                worker.busy_since = time.monotonic()
                try:
                    worker.send.send(worker.job)
                except OSError:  # it died just now; wait() reports the job lost
                    continue

    def wait(self, timeout: float, extra: Sequence[Any] = ()) -> Outcomes:
        """Wait up to ``timeout`` s for a worker's message or for one of ``extra`` (selectable
        objects) to turn readable; collect what the workers said."""
        out = Outcomes()
        ready = set(wait([w.recv for w in self._pool] + list(extra), timeout))
        for worker in list(self._pool):
            if worker.recv in ready:
                self._receive(worker, out)
        self._dispatch()
        return out

    def _receive(self, worker: _Worker, out: Outcomes) -> None:
        try:
            while worker.recv.poll():
                message = worker.recv.recv()
                if message[0] == "ready":
                    worker.ready_at = time.monotonic()
                elif message[0] == "done":
                    worker.job = None
                    worker.runs += 1
                    if worker.runs >= self.max_runs:
                        self._retire(worker)
                        return
                elif message[0] == "stale":  # the code changed: a fresh worker takes the job
                    log.info(
                        "the project changed on disk; run %s goes to a fresh worker", message[1]
                    )
                    job, worker.job = worker.job, None
                    if job is not None:
                        self._pending.appendleft(job)
                    self._retire(worker)
                    return
        except (EOFError, OSError):
            job = worker.job
            self._kill(worker)
            if worker.runs == 0:  # died before finishing any run: do not respawn in a loop
                self._backoff = min(max(self._backoff * 2, 0.5), 30.0)
                self._respawn_at = time.monotonic() + self._backoff
            else:
                self._backoff = 0.0
            if job is not None:
                out.lost.append((job, how_it_ended(worker.process, "the run worker")))

    # -- processes ------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        # its own session: Ctrl-C reaches the daemon, which stops the workers
        worker = _Worker(*spawn_child("legato.automation.run_worker", cwd=self.project_dir))
        self._pool.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        """Let an idle worker exit; the pool starts a fresh one on demand."""
        with contextlib.suppress(OSError):
            worker.send.send(None)
        try:
            worker.process.wait(10)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(10)
        worker.close()
        self._pool.remove(worker)

    def _kill(self, worker: _Worker) -> None:
        worker.kill(wait=10)
        worker.close()
        self._pool.remove(worker)

    def close(self, drain: float | None = None) -> list[Job]:
        """Stop taking jobs and let busy workers finish their run, for at most ``drain`` s
        (None: as long as they take); kill those still busy then. Returns the jobs cut short
        and those still waiting for a worker: their runs stay claimed until the caller
        releases them."""
        self._closed = True
        cut = list(self._pending)
        self._pending.clear()
        for worker in self._pool:
            with contextlib.suppress(OSError):
                worker.send.send(None)  # read after the current run, if any
        deadline = None if drain is None else time.monotonic() + drain
        for worker in self._pool:
            try:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                worker.process.wait(left)
            except subprocess.TimeoutExpired:
                if worker.job is not None:
                    cut.append(worker.job)
                worker.kill()
            worker.close()
        self._pool.clear()
        return cut
