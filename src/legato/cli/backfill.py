"""``legato backfill`` creates and drives a backfill; ``legato backfills`` lists and steers them."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from legato._internal.ids import new_run_id
from legato.automation.backfill_plans import plan_recorded, plan_request
from legato.automation.backfills import Progress as BackfillProgress
from legato.automation.backfills import drive_backfill, driver_id
from legato.cli._console import console, err_console, styled, when
from legato.cli._options import installed_executor, run_config_json
from legato.cli._project import OpenProject, open_project, open_store
from legato.events.status import RunStatus
from legato.execution.api import make_executor
from legato.execution.executors.base import Executor
from legato.execution.launcher import launch_run, rerun_plan
from legato.graph.backfill import BackfillPlan, RunGroup
from legato.graph.plan import plan_run
from legato.store.backfills import create_backfill, get_backfill, list_backfills, set_status
from legato.store.engine import Store
from legato.store.partitions import dynamic_lookup
from legato.store.web_queries import GroupCounts, backfill_group_counts

EXIT = {"completed": 0, "paused": 3, "cancelled": 130}


@click.command()
@click.argument("selection", nargs=-1, required=True)
@click.option("--from", "first", metavar="KEY", help="First partition key.")
@click.option("--to", "last", metavar="KEY", help="Last partition key (inclusive).")
@click.option(
    "--keys",
    "key_list",
    metavar="K1,K2",
    help="Explicit keys, comma-separated (use --partition for product keys, which contain commas).",
)
@click.option("--partition", "partitions", multiple=True, metavar="KEY", help="A key (repeatable).")
@click.option("--missing-only", is_flag=True, help="Skip asset partitions already materialized.")
@click.option(
    "--max-concurrent",
    default=2,
    type=click.IntRange(1, 256),
    show_default=True,
    help="Runs at once.",
)
@click.option("--max-concurrency", type=click.IntRange(min=1), help="Steps at once in each run.")
@click.option(
    "--single-run",
    is_flag=True,
    help="One run over every key (for steps that process a range at once).",
)
@click.option("--executor", metavar="NAME", callback=installed_executor)
@click.option(
    "--config",
    "config_json",
    metavar="JSON",
    help="Run config of each of its runs, as a JSON object (as legato run --config).",
)
@click.option("--dry-run", is_flag=True, help="Show the runs it would create, and stop.")
@click.option(
    "--detach",
    is_flag=True,
    help="Record the backfill, print its id and return: the daemon drives it "
    "('legato daemon' or 'legato up'); follow it with 'legato backfills'.",
)
@click.pass_context
def backfill(
    ctx: click.Context,
    selection: tuple[str, ...],
    first: str | None,
    last: str | None,
    key_list: str | None,
    partitions: tuple[str, ...],
    missing_only: bool,
    max_concurrent: int,
    max_concurrency: int | None,
    single_run: bool,
    executor: str | None,
    config_json: str | None,
    dry_run: bool,
    detach: bool,
) -> None:
    """Materialize SELECTION for a range or set of partition keys, as a backfill recorded in the
    store: throttled, in dependency order, resumable with 'legato backfills resume ID'."""
    config = run_config_json(config_json)
    proj = open_project(ctx)
    store = proj.store()
    keys, plan = plan_request(
        proj.graph,
        store,
        selection,
        keys=list(partitions) + [k for k in (key_list or "").split(",") if k],
        first=first,
        last=last,
        missing_only=missing_only,
        single_run=single_run,
        config=config,
    )
    if not detach:
        _preview(plan, len(keys))
    if dry_run:
        return
    me = None if detach else driver_id()  # recorded: a daemon beside us must not drive it too
    record = create_backfill(
        store,
        new_run_id(),
        " ".join(selection),
        keys,
        [g.as_dict() for g in plan.groups],
        max_concurrent=max_concurrent,
        missing_only=missing_only,
        executor=executor or proj.settings.executor,
        config=config,
        driver=me,
    )
    if detach:  # a backfill nobody drives: the daemon's backfill drivers take it over
        console.print(record.backfill_id, soft_wrap=True)  # alone on stdout, for scripts
        err_console.print(
            f"backfill {record.backfill_id} created: {len(keys):,} key(s) → "
            f"{len(plan.groups):,} run(s); the daemon drives it ('legato daemon' or "
            "'legato up'): follow it with 'legato backfills'",
            soft_wrap=True,
        )
        return
    console.print(f"backfill [bold]{record.backfill_id}[/] created")
    sys.exit(EXIT.get(_drive(proj, store, record.backfill_id, max_concurrency, me), 1))


@click.group(invoke_without_command=True)
@click.pass_context
def backfills(ctx: click.Context) -> None:
    """List (the default), resume, pause and cancel backfills."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_cmd)


@backfills.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """Recent backfills with their progress: run groups succeeded of all, failed, running."""
    store = open_store(ctx)
    table = Table(show_edge=False, header_style="bold")
    for column in ("backfill", "selection", "keys", "runs", "failed", "running", "status"):
        table.add_column(column)
    table.add_column("created")
    records = list_backfills(store)
    counts = backfill_group_counts(store, [r.backfill_id for r in records])
    for record in records:
        found = counts.get(record.backfill_id) or GroupCounts()
        total = record.group_count
        table.add_row(
            record.backfill_id,
            escape(record.selection)[:40],
            f"{record.key_count:,}",
            f"{found.succeeded:,}/{total:,}" if record.planned else "planning",
            f"{max(0, found.started - found.succeeded - found.running):,}",
            f"{found.running:,}",
            styled(record.status),
            when(record.created_at),
        )
    console.print(table)
    failed = [r for r in records if r.error]
    for record in failed[:5]:
        console.print(f"  {record.backfill_id}: {escape(record.error or '')}", style="red")


@backfills.command("resume")
@click.argument("backfill_id")
@click.option("--max-concurrency", type=click.IntRange(min=1), help="Steps at once in each run.")
@click.pass_context
def resume(ctx: click.Context, backfill_id: str, max_concurrency: int | None) -> None:
    """Continue a paused, failed or interrupted backfill: only missing runs are created, failed
    runs are re-run from their failure."""
    proj = open_project(ctx)
    store = proj.store()
    record = get_backfill(store, backfill_id)
    if not record.planned:  # created through the API: plan it here, with the project's code
        plan_recorded(proj.graph, store, record.backfill_id)
    sys.exit(EXIT.get(_drive(proj, store, record.backfill_id, max_concurrency), 1))


@backfills.command("pause")
@click.argument("backfill_id")
@click.pass_context
def pause(ctx: click.Context, backfill_id: str) -> None:
    """Stop launching runs (running ones finish); resume later."""
    record = set_status(
        open_store(ctx), backfill_id, "paused", allowed_from=("requested", "running")
    )
    console.print(f"backfill {record.backfill_id} {styled(record.status)}")


@backfills.command("cancel")
@click.argument("backfill_id")
@click.pass_context
def cancel(ctx: click.Context, backfill_id: str) -> None:
    """Cancel a backfill and its running runs."""
    record = set_status(
        open_store(ctx),
        backfill_id,
        "cancelled",
        allowed_from=("requested", "running", "paused", "failed"),
    )
    console.print(f"backfill {record.backfill_id} {styled(record.status)}")


def _preview(plan: BackfillPlan, keys: int) -> None:
    console.print(f"{keys:,} key(s) → {len(plan.groups):,} run(s), {plan.steps:,} step(s)")
    for node, count in plan.skipped.items():
        console.print(f"  {escape(node)}: {count:,} key(s) already materialized, skipped")
    for waiting in plan.waiting[:5]:
        console.print(f"  waiting, not planned: {escape(waiting.describe())}")
    if len(plan.waiting) > 5:
        console.print(f"  … {len(plan.waiting) - 5:,} more key(s) waiting")
    for index, group in enumerate(plan.groups[:5]):
        parts = ", ".join(group.partitions[:3]) + (" …" if len(group.partitions) > 3 else "")
        after = f" after run {', '.join(map(str, group.after[:3]))}" if group.after else ""
        console.print(f"  run {index}: {escape(', '.join(group.nodes))} \\[{escape(parts)}]{after}")
    if len(plan.groups) > 5:
        console.print(f"  … {len(plan.groups) - 5:,} more")


def _drive(
    proj: OpenProject,
    store: Store,
    backfill_id: str,
    max_concurrency: int | None,
    driver: str | None = None,
) -> str:
    record = get_backfill(store, backfill_id)
    spare: list[Executor] = []  # process pools whose workers stay warm between runs
    taking = threading.Lock()

    def executor() -> Executor:
        with taking:
            if spare:
                return spare.pop()
        return make_executor(
            record.executor or proj.settings.executor,
            max_concurrency,
            store=store,
            keep_workers=True,
            source=f"backfill {record.backfill_id}",
        )

    def launch(group: RunGroup, key: str, parent: str | None) -> RunStatus:
        plan = (
            rerun_plan(store, proj.graph, parent)[1]
            if parent
            else plan_run(
                proj.graph, group.nodes, partitions=group.partitions, dynamic=dynamic_lookup(store)
            )
        )
        chosen = executor()
        result = launch_run(
            proj.project,
            proj.graph,
            list(group.nodes),
            store=store,
            storage_root=proj.settings.storage,
            executor=chosen,
            plan=plan,
            parent_run_id=parent,
            sys_path=proj.sys_path,
            idempotency_key=key,
            backfill_id=record.backfill_id,
            trigger=f"backfill:{record.backfill_id}",
            max_concurrency=max_concurrency,
            pool_limits=proj.settings.pools,
            run_config=record.config,
        )
        if (record.executor or proj.settings.executor) == "process":  # others: made afresh
            with taking:
                spare.append(chosen)
        return result.status

    stop = threading.Event()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(f"backfill {record.backfill_id}", total=len(record.groups))

    def progress(p: BackfillProgress) -> None:
        bar.update(
            task,
            completed=p.done,
            description=f"backfill {record.backfill_id}: {p.running} running, {p.failed} failed",
        )

    def interrupt(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        console.print(
            "[red]pausing…[/] running runs finish; resume with "
            f"'legato backfills resume {record.backfill_id}'"
        )
        stop.set()

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        with bar:
            status = drive_backfill(
                store, record.backfill_id, launch, on_progress=progress, stop=stop, driver=driver
            )
    finally:
        signal.signal(signal.SIGINT, previous)
        for pool in spare:
            pool.shutdown(kill=True)
    final = get_backfill(store, record.backfill_id)
    console.print(
        f"backfill {record.backfill_id} {styled(status)}"
        + (f": {escape(final.error)}" if final.error else "")
    )
    return status
