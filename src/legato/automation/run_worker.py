"""A run worker of the daemon: ``python -m legato.automation.run_worker RECV_FD SEND_FD``.

A run worker executes whole runs (its engine starts the step workers of
``execution/executors/step_worker`` as its executor needs them); the remote ``legato worker`` that
claims steps from PostgreSQL is ``execution/remote_worker``.

The daemon never imports user code. It keeps a few of these processes, each with the project
loaded, and hands each one claimed run at a time over a pipe: ``(run_id, launcher, resume)``.
Once loaded, the worker says ``("ready", "")``. It executes each run (the engine renews the
launcher's lease) and answers ``("done", run_id)``; the outcome is in the store. Loading the
interpreter, Legato and the project once per worker instead of once per run is what lets a run
start within milliseconds of being queued. It runs at a lower CPU priority than the daemon
(``[tool.legato.run_queue] worker_nice``), so user code never keeps the daemon's loops waiting.

A run always executes the code on disk when it starts: before each run the worker compares the
modification times of the project's modules and config with those it loaded; if any changed it
answers ``("stale", run_id)`` and exits, and the daemon gives the run to a fresh worker.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from legato._internal.heap import settle
from legato._internal.masking import mask_process_output
from legato.errors import LegatoError
from legato.execution import fork_server
from legato.execution.api import make_executor
from legato.execution.children import child_connections
from legato.execution.executors.base import Executor
from legato.execution.executors.step_worker import STEP_WORKER_MODULES
from legato.execution.launcher import execute_run
from legato.graph.build import build_graph
from legato.graph.graph import Graph
from legato.loader.config import Settings, load_settings
from legato.loader.fingerprint import fingerprint, loaded_at
from legato.loader.modules import Loaded, load_project
from legato.store.engine import Store
from legato.store.run_leases import fail_abandoned
from legato.store.runs import RunRecord, get_run

log = logging.getLogger("legato.run_worker")

Job = tuple[str, str, bool]  # run id, launcher (the lease holder), resume a run whose process died


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    mask_process_output()
    recv, send = child_connections(args)
    settings = load_settings()
    _lower_priority(settings.run_queue.worker_nice)
    store = settings.open_store()
    loading = time.time()
    loaded = load_project(settings)
    graph, problem = _graph(loaded)  # once, not once per run
    settle()  # the project and its graph live as long as this worker
    # Step workers are forks of this process: the project is loaded in them already. (The
    # copy holds the store's pooled connections without ever using or closing them.)
    fork_server.start(close=(recv.fileno(), send.fileno()), preload=STEP_WORKER_MODULES)
    sources = loaded_at(settings, loading)
    send.send(("ready", ""))  # the daemon counts a run's hold on this worker from now
    try:
        while True:
            try:
                job: Job | None = recv.recv()
            except (EOFError, OSError):  # the daemon is gone
                return 0
            if job is None:  # retired
                return 0
            if fingerprint(settings) != sources:
                send.send(("stale", job[0]))
                return 0
            _execute(settings, store, loaded, graph or problem, job)
            send.send(("done", job[0]))
    finally:
        for pool in _POOLS.values():
            pool.shutdown(kill=True)
        store.dispose()


def _lower_priority(increment: int) -> None:
    """Run below the daemon's CPU priority by ``increment`` (``run_queue.worker_nice``), and so
    do the step workers this worker starts: on a busy machine the daemon's loops come first, so
    a schedule's tick does not wait for user code, whatever amount of it runs."""
    if increment > 0 and hasattr(os, "nice"):  # raising one's own nice needs no privilege
        os.nice(increment)


def _graph(loaded: Loaded) -> tuple[Graph | None, str]:
    """The project's graph, or why there is none (a load error, a cycle, a missing upstream)."""
    if loaded.errors:
        return None, str(loaded.errors[0])
    try:
        return build_graph(loaded.project), ""
    except LegatoError as exc:
        return None, str(exc)


def _execute(
    settings: Settings, store: Store, loaded: Loaded, graph: Graph | str, job: Job
) -> None:
    """Execute one run; whatever goes wrong is recorded on the run, never fatal to the worker."""
    run_id, launcher, resume = job
    try:
        record = get_run(store, run_id)
        if isinstance(graph, str):  # the project does not load: fail visibly, it never will
            if not record.status.finished:
                fail_abandoned(store, run_id, f"the project does not load: {graph}")
            return
        execute_run(
            loaded.project,
            graph,
            store,
            record,
            storage_root=settings.storage,
            executor=_executor(record, settings, store),
            pipeline=loaded.project.pipelines.get(record.pipeline or ""),
            max_concurrency=settings.max_concurrency or None,
            sys_path=loaded.sys_path,
            launcher=launcher,
            resume=resume,
            pool_limits=settings.pools,
        )
    except Exception as exc:  # the store blinked, or the run cannot be planned any more
        log.exception("run %s failed to execute", run_id)
        try:
            if not get_run(store, run_id).status.finished:
                fail_abandoned(store, run_id, f"the run could not execute: {exc}")
        except Exception:  # still unreachable: the daemon recovers the run after its lease
            log.exception("run %s could not be marked failed", run_id)


_POOLS: dict[str, Executor] = {}  # the process pool, kept warm from one run to the next


def _executor(record: RunRecord, settings: Settings, store: Store) -> Executor:
    name = record.executor or settings.executor
    where = f"run {record.run_id}"
    if name != "process":
        return make_executor(name, settings.max_concurrency or None, store=store, source=where)
    if name not in _POOLS:
        _POOLS[name] = make_executor(
            name, settings.max_concurrency or None, store=store, keep_workers=True, source=where
        )
    return _POOLS[name]


if __name__ == "__main__":
    sys.exit(main())
