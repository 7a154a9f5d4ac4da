"""Running from the library: ``materialize`` for tests, ``Pipeline.run``, and executor names."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from legato import plugins
from legato.definitions.io import IOManager
from legato.definitions.pipeline import Pipeline
from legato.definitions.project import Project
from legato.definitions.resources import Resource
from legato.definitions.step import StepDef, registered_steps
from legato.errors import StepError
from legato.execution.executors.base import Executor, ExecutorOptions
from legato.execution.io.memory import MemoryIOManager
from legato.execution.launcher import launch_run, rerun_plan
from legato.execution.result import RunResult
from legato.graph.build import build_graph
from legato.store.engine import Store

__all__ = ["RunResult", "launch_run", "make_executor", "materialize", "rerun_plan", "run_pipeline"]


def make_executor(
    name: str,
    max_concurrency: int | None = None,
    *,
    memory_io: MemoryIOManager | None = None,
    store: Store | None = None,
    queue: str = "default",
    keep_workers: bool = False,
    source: str = "make_executor()",
) -> Executor:
    """The executor called ``name``, from those installed (entry-point group
    ``legato.executors``): built in are inprocess, threads, process, dask (a LocalCluster unless
    ``LEGATO_DASK_ADDRESS`` names a scheduler) and remote (``legato worker`` processes on
    PostgreSQL, reading ``queue``). ``keep_workers``: a process pool keeps its idle workers
    from one run to the next (for a caller that executes runs one after another). ``source``
    says where the name came from, for the error if no such executor is installed."""
    factory = plugins.load(plugins.EXECUTORS, name, source=source)
    options = ExecutorOptions(max_concurrency, memory_io, store, queue, keep_workers)
    executor: Executor = factory(options)
    return executor


def materialize(
    steps: Iterable[StepDef],
    *,
    selection: str | Iterable[str] = "*",
    partition: str | Sequence[str] = (),
    resources: Mapping[str, Resource] | None = None,
    io_managers: Mapping[str, IOManager] | None = None,
    executor: str = "inprocess",
    store: Store | None = None,
    storage: str | Path | None = None,
    run_config: Mapping[str, Any] | None = None,
    raise_on_error: bool = True,
    max_concurrency: int | None = None,
    pipeline: Pipeline | None = None,
    pools: Mapping[str, int] | None = None,
) -> RunResult:
    """Run assets and tasks in this process and return what happened: the way to test pipelines.

    Args:
        steps: the definitions to run (their upstreams must be among them or already stored).
        selection: which of them to run (default: all).
        resources: resources by name.
        io_managers: IO managers by name (``io_manager="name"`` on an asset picks one;
            ``"io_manager"`` replaces the default for every asset).
        executor: ``inprocess`` (default), ``threads`` or ``process``.
        store: where events go (default: a fresh in-memory store).
        storage: directory for stored values (default: in memory; a temporary directory for the
            process executor).
        raise_on_error: raise ``StepError`` if the run does not succeed.

    Example:
        >>> result = materialize([raw_orders, clean_orders])
        >>> assert result.success and result.output("clean_orders") == [...]
    """
    project = Project.of(steps, [pipeline] if pipeline else [], resources, io_managers)
    graph = build_graph(project)
    store = store or Store("sqlite://")
    memory_io = None
    if storage is None and executor == "process":
        storage = tempfile.mkdtemp(prefix="legato-storage-")
    if storage is None:
        memory_io = MemoryIOManager()
    root = Path(storage) if storage is not None else None
    result = launch_run(
        project,
        graph,
        selection,
        store=store,
        storage_root=root,
        executor=make_executor(executor, max_concurrency, memory_io=memory_io, store=store),
        partitions=partition,
        pipeline=pipeline,
        run_config=run_config,
        max_concurrency=max_concurrency,
        memory_io=memory_io,
        pool_limits=pools,
    )
    if raise_on_error and not result.success:
        details = "; ".join(
            f"{k}: {(e or {}).get('message', '')}" for k, e in result.failures().items()
        )
        raise StepError(
            f"run {result.run_id} {result.status}: {details or 'see its events'}",
            obj=result.run_id,
            hint="pass raise_on_error=False to inspect the result",
        )
    return result


def run_pipeline(
    pipeline: Pipeline, *, steps: Iterable[StepDef] | None = None, **kwargs: Any
) -> RunResult:
    """``Pipeline.run``: materialize the pipeline's selection from the given (or all live) steps."""
    chosen = list(steps) if steps is not None else registered_steps()
    kwargs.setdefault("executor", pipeline.executor or "inprocess")
    if pipeline.max_concurrency:
        kwargs.setdefault("max_concurrency", pipeline.max_concurrency)
    return materialize(chosen, selection=pipeline.selection, pipeline=pipeline, **kwargs)
