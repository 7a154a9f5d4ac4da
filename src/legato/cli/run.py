"""``legato run``, ``legato rerun`` and ``legato cancel``."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from legato._internal.heap import settle
from legato.cli._console import console, styled
from legato.cli._display import SUMMARY_ROWS, RunDisplay, print_summary
from legato.cli._options import installed_executor, run_config_json
from legato.cli._project import OpenProject, open_project, open_store
from legato.errors import ConfigError, RunConfigError, SelectionError
from legato.events.status import RunStatus
from legato.execution import fork_server
from legato.execution.api import launch_run, make_executor, rerun_plan
from legato.execution.engine import RunEngine
from legato.execution.executors.step_worker import STEP_WORKER_MODULES
from legato.execution.launcher import queue_run
from legato.graph.plan import Plan, partition_range, plan_run
from legato.graph.select import select
from legato.store.engine import Store
from legato.store.partitions import dynamic_lookup
from legato.store.runs import get_run, get_steps, request_cancel

EXIT = {RunStatus.SUCCEEDED: 0, RunStatus.FAILED: 1, RunStatus.CANCELLED: 130}
full_table = click.option(
    "--steps",
    "full",
    is_flag=True,
    help=f"End with the whole table of steps (past {SUMMARY_ROWS} rows it is summarised: counts, "
    "failures, the slowest steps).",
)


@click.command()
@click.argument("selection", nargs=-1)
@click.option("--pipeline", "pipeline_name", help="Run a pipeline's selection with its defaults.")
@click.option(
    "--partition",
    "partitions",
    multiple=True,
    metavar="KEY",
    help="Partition key to run (repeatable; 'tenant=acme,date=2025-03-01' for products).",
)
@click.option("--from", "first", metavar="KEY", help="First partition key of a range.")
@click.option("--to", "last", metavar="KEY", help="Last partition key of a range (inclusive).")
@click.option(
    "--executor",
    metavar="NAME",
    callback=installed_executor,
    help="Where steps run: inprocess, threads, process, dask, remote or an installed plugin's "
    "(default: the project's, else process).",
)
@click.option("--max-concurrency", type=click.IntRange(min=1), help="Steps running at once.")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Tag the run (repeatable).")
@click.option("--config", "config_json", metavar="JSON", help="Run config as a JSON object.")
@click.option(
    "--queue",
    "queue_only",
    is_flag=True,
    help="Only queue the run: the daemon executes it ('legato daemon' or 'legato up').",
)
@full_table
@click.pass_context
def run(
    ctx: click.Context,
    selection: tuple[str, ...],
    pipeline_name: str | None,
    partitions: tuple[str, ...],
    first: str | None,
    last: str | None,
    executor: str | None,
    max_concurrency: int | None,
    tags: tuple[str, ...],
    config_json: str | None,
    queue_only: bool,
    full: bool,
) -> None:
    """Run SELECTION: keys, 'key+' (and downstream), '+key' (and upstream), 'group:NAME',
    'tag:K=V', globs, or --pipeline NAME."""
    proj = open_project(ctx)
    pipeline = None
    if pipeline_name:
        pipeline = proj.project.pipelines.get(pipeline_name)
        if pipeline is None:
            raise SelectionError(
                f"no pipeline {pipeline_name!r}",
                obj=pipeline_name,
                hint=f"pipelines are {sorted(proj.project.pipelines) or 'none'}",
            )
    chosen: Any = list(selection) or (pipeline.selection if pipeline else None)
    if not chosen:
        raise SelectionError(
            "nothing to run", hint="name a selection (e.g. '*') or --pipeline NAME"
        )
    store = proj.store()
    nodes = select(proj.graph, chosen)
    dynamic = dynamic_lookup(store)
    keys = list(partitions)
    if first or last:
        if not (first and last):
            raise SelectionError("--from and --to go together", hint="give both ends of the range")
        keys += partition_range(proj.graph, nodes, first, last, dynamic=dynamic)
    plan = plan_run(proj.graph, nodes, partitions=keys, dynamic=dynamic)
    executor = executor or (pipeline.executor if pipeline else None) or proj.settings.executor
    if queue_only:
        run_id, _ = queue_run(
            store,
            proj.graph,
            chosen,
            plan=plan,
            executor=executor,
            pipeline=pipeline,
            tags=_tags(tags),
            run_config=run_config_json(config_json),
            trigger="cli",
            priority=pipeline.priority if pipeline else 0,
        )
        console.print(f"run [bold]{run_id}[/] queued")
        return
    status = execute_here(
        proj,
        store,
        chosen,
        plan,
        executor,
        max_concurrency
        or (pipeline.max_concurrency if pipeline else None)
        or proj.settings.max_concurrency
        or None,
        pipeline=pipeline,
        tags=_tags(tags),
        run_config=run_config_json(config_json),
        trigger="cli",
        full=full,
    )
    sys.exit(EXIT.get(status, 1))


@click.command()
@click.argument("run_id")
@click.option(
    "--from-failure",
    is_flag=True,
    help="Re-execute only failed and downstream steps, "
    "reusing the outputs of steps that succeeded.",
)
@click.option("--executor", metavar="NAME", callback=installed_executor)
@full_table
@click.pass_context
def rerun(
    ctx: click.Context, run_id: str, from_failure: bool, executor: str | None, full: bool
) -> None:
    """Run RUN_ID's steps again (all of them, or with --from-failure only what did not succeed)."""
    proj = open_project(ctx)
    store = proj.store()
    parent, plan = rerun_plan(store, proj.graph, run_id)
    if not from_failure:
        plan = Plan(plan.steps, plan.partitions)
    pipeline = proj.project.pipelines.get(parent.pipeline or "")
    reused = len(plan.reused)
    console.print(
        f"re-running run {parent.run_id}: {len(plan) - reused} step(s) to execute, {reused} reused"
    )
    try:  # its config is checked against the steps' config models as they are now
        status = execute_here(
            proj,
            store,
            parent.selection,
            plan,
            executor or parent.executor,
            proj.settings.max_concurrency or None,
            pipeline=pipeline,
            tags=dict(parent.tags),
            run_config=dict(parent.config),
            parent_run_id=parent.run_id,
            trigger="cli",
            full=full,
        )
    except RunConfigError as exc:
        raise exc.framed(
            f"run {parent.run_id}'s config does not fit the current definitions",
            "the steps' config models changed since it ran: run it anew with a config that "
            "fits (legato run SELECTION --config JSON)",
        ) from None
    sys.exit(EXIT.get(status, 1))


@click.command()
@click.argument("run_id")
@click.pass_context
def cancel(ctx: click.Context, run_id: str) -> None:
    """Ask a running run to stop; its process cancels steps within a second."""
    store = open_store(ctx)
    record = get_run(store, run_id)
    if record.status.finished:
        console.print(f"run {record.run_id} is already {styled(record.status.value)}")
        return
    record = request_cancel(store, record.run_id)
    console.print(f"run {record.run_id}: {styled(record.status.value)}")


def execute_here(
    proj: OpenProject,
    store: Store,
    selection: Any,
    plan: Plan,
    executor_name: str,
    max_concurrency: int | None,
    *,
    full: bool = False,
    **kwargs: Any,
) -> RunStatus:
    """Execute the run here (claimed by this process), showing progress; its final status."""
    if (click.get_current_context().obj or {}).get("own_process"):
        settle()  # the project, its graph and the plan live until the command exits
        if executor_name == "process":  # step workers: forks with the project loaded
            fork_server.start(preload=STEP_WORKER_MODULES)
    executor = make_executor(executor_name, max_concurrency, store=store)
    display = RunDisplay(console, len(plan), "")
    holder: dict[str, RunEngine] = {}

    def hook(engine: RunEngine) -> None:
        holder["engine"] = engine
        display.progress.update(display.task, description=f"run {engine.run_id}")

    with display, _cancel_on_interrupt(holder):
        result = launch_run(
            proj.project,
            proj.graph,
            selection,
            store=store,
            storage_root=proj.settings.storage,
            executor=executor,
            plan=plan,
            max_concurrency=max_concurrency,
            on_events=display.on_events,
            sys_path=proj.sys_path,
            engine_hook=hook,
            pool_limits=proj.settings.pools,
            **kwargs,
        )
    status = result.status
    if not status.finished:  # our lease was lost and another process resumed the run
        console.print(f"run {result.run_id} continues in another process; waiting for its end")
        status = _wait_for_end(store, result.run_id)
    print_summary(console, get_steps(store, result.run_id), full=full)
    console.print(f"run [bold]{result.run_id}[/] {styled(status.value)}")
    return status


def _wait_for_end(store: Store, run_id: str) -> RunStatus:
    while True:
        status = get_run(store, run_id).status
        if status.finished:
            return status
        time.sleep(0.5)  # polling the store: the run's holder writes its end there


@contextmanager
def _cancel_on_interrupt(holder: dict[str, RunEngine]) -> Iterator[None]:
    """First Ctrl-C cancels the run cleanly; a second one stops at once."""

    def handler(signum: int, frame: Any) -> None:
        engine = holder.get("engine")
        if engine is None or engine.cancel_requested.is_set():
            raise KeyboardInterrupt
        console.print("[red]cancelling…[/] (press Ctrl-C again to stop at once)")
        engine.cancel_requested.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _tags(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--tag {item!r} is not K=V", hint="write --tag team=finance")
        out[key] = value
    return out
