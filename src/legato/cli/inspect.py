"""Reading the store: ``legato runs`` (and ``runs show``, ``runs pin``, ``runs unpin``),
``legato logs`` and ``legato assets``."""

from __future__ import annotations

import getpass
import time

import click
from rich.markup import escape
from rich.table import Table

from legato.cli import _options
from legato.cli._console import console, seconds, styled, when
from legato.cli._display import print_blocked, print_failures, run_details, step_table
from legato.cli._project import open_project, open_store
from legato.errors import NotFoundError
from legato.events.errors import ErrorInfo
from legato.events.status import RunStatus, StepStatus
from legato.store.assets import latest_materializations, materialization_counts
from legato.store.logs import read_logs
from legato.store.pins import is_pinned, pin_run, unpin_run
from legato.store.run_search import RunFilter
from legato.store.runs import get_run, get_steps, list_runs, skip_reasons

_LEVEL_STYLE = {"WARNING": "yellow", "ERROR": "red", "CRITICAL": "bold red"}


@click.group(invoke_without_command=True)
@click.option("--limit", default=20, type=click.IntRange(1, 1000), show_default=True)
@click.option(
    "--status",
    multiple=True,
    type=click.Choice([s.value for s in RunStatus]),
    help="Runs with this status (repeat for several).",
)
@click.option("--pipeline", default=None, help="Runs of this pipeline.")
@click.option("--asset", default=None, help="Runs with a step of this asset (or task).")
@click.option("--partition", default=None, help="Runs of this partition key.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    callback=_options.tags,
    metavar="KEY=VALUE",
    help="Runs with this tag (repeat: all must match).",
)
@click.option(
    "--since",
    callback=_options.since,
    help="Runs created in the last DURATION (2h, 1d) or since a date (2025-03-01, local time).",
)
@click.option("--plain", is_flag=True, help="Print only run ids, one per line (for scripts).")
@click.pass_context
def runs(
    ctx: click.Context,
    limit: int,
    status: tuple[str, ...],
    pipeline: str | None,
    asset: str | None,
    partition: str | None,
    tags: tuple[str, ...],
    since: float | None,
    plain: bool,
) -> None:
    """List recent runs, newest first, filtered by any of the options (all given must match);
    'legato runs show RUN' shows one run in detail."""
    if ctx.invoked_subcommand is not None:
        return
    where = RunFilter(
        statuses=status,
        pipeline=pipeline,
        asset=asset,
        partition=partition,
        tags=tags,
        created_after=since,
    )
    records = list_runs(open_store(ctx), where, limit=limit)
    if plain:
        for r in records:
            click.echo(r.run_id)
        return
    table = Table(show_edge=False, header_style="bold")
    for column in ("run", "pipeline / selection", "status", "created", "duration"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.run_id,
            escape(r.pipeline or r.selection)[:60],
            styled(r.status.value),
            when(r.created_at),
            seconds(r.duration),
        )
    filtered = where != RunFilter()
    empty = "no runs match" if filtered else "no runs yet: start one with 'legato run SELECTION'"
    console.print(table if records else empty)


@runs.command("show")
@click.argument("run_id")
@click.pass_context
def show(ctx: click.Context, run_id: str) -> None:
    """One run: its status and timing, each step's status and attempts, why steps failed (error
    and traceback) or were skipped. RUN_ID may be a unique prefix of at least 6 characters."""
    store = open_store(ctx)
    record = get_run(store, run_id)
    steps = get_steps(store, record.run_id)
    console.print(run_details(record))
    if is_pinned(store, record.run_id):
        console.print("[bold]pinned[/]: kept whatever the retention policy says")
    console.print()
    any_skipped = any(s.status is StepStatus.SKIPPED for s in steps)
    skipped = skip_reasons(store, record.run_id) if any_skipped else {}
    console.print(step_table(steps, skipped))
    print_blocked(console, skipped)
    print_failures(console, steps)


@runs.command("pin")
@click.argument("run_id")
@click.pass_context
def pin(ctx: click.Context, run_id: str) -> None:
    """Keep RUN_ID whatever the retention policy says, with the runs it needs (its parent, the
    runs whose outputs it reused); 'legato runs unpin' lets retention delete it again."""
    full = pin_run(open_store(ctx), run_id, by=_who())
    console.print(f"run {full} pinned: retention keeps it")


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in this environment
        return "cli"


@runs.command("unpin")
@click.argument("run_id")
@click.pass_context
def unpin(ctx: click.Context, run_id: str) -> None:
    """Let retention delete RUN_ID once its policy no longer keeps it."""
    full = unpin_run(open_store(ctx), run_id)
    console.print(f"run {full} unpinned")


@click.command()
@click.argument("run_id")
@click.argument("step", required=False)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the run ends.")
@click.pass_context
def logs(ctx: click.Context, run_id: str, step: str | None, follow: bool) -> None:
    """Print the captured output of RUN_ID (or of one STEP of it), then the error and traceback
    of each step that failed."""
    store = open_store(ctx)
    record = get_run(store, run_id)
    if step is not None and step not in {s.step_key for s in get_steps(store, record.run_id)}:
        raise NotFoundError(
            f"run {record.run_id} has no step {step!r}",
            obj=step,
            hint="run 'legato logs RUN' to see every step's lines",
        )
    after = 0
    while True:
        lines = read_logs(store, record.run_id, step, after_id=after)
        for line in lines:
            style = _LEVEL_STYLE.get(line.level, "")
            prefix = f"[dim]{when(line.ts)}[/] [cyan]{escape(line.step_key)}[/] "
            text = escape(line.message)
            console.print(prefix + (f"[{style}]{text}[/]" if style else text), soft_wrap=True)
            after = line.id
        if not follow or (not lines and get_run(store, record.run_id).status.finished):
            break
        if not lines:
            time.sleep(0.25)  # polling the store for new lines while the run goes on
    steps = [s for s in get_steps(store, record.run_id) if step is None or s.step_key == step]
    printed = print_failures(console, steps)
    error = ErrorInfo.of(get_run(store, record.run_id).error)
    if step is None and not printed and error is not None:  # the run failed outside its steps
        console.print(f"\n[bold]run {record.run_id}[/]: {escape(error.headline)}", soft_wrap=True)


@click.command()
@click.pass_context
def assets(ctx: click.Context) -> None:
    """List the project's assets with their latest materialization."""
    proj = open_project(ctx)
    store = proj.store()
    latest: dict[str, list[float]] = {}
    last_run: dict[str, str] = {}
    for m in latest_materializations(store):
        latest.setdefault(m.asset_key, []).append(m.ts)
        if m.ts >= max(latest[m.asset_key]):
            last_run[m.asset_key] = m.run_id
    counts = materialization_counts(store)
    table = Table(show_edge=False, header_style="bold")
    for column in ("asset", "group", "partitions", "latest", "run", "materializations"):
        table.add_column(column)
    for key in proj.graph.order:
        step = proj.graph[key].step
        if step.kind != "asset":
            continue
        stamps = latest.get(key)
        table.add_row(
            escape(key),
            escape(step.group or "-"),
            str(len(stamps)) if step.partitions is not None and stamps else "-",
            when(max(stamps)) if stamps else "[dim]never[/]",
            last_run.get(key, "-"),
            str(counts.get(key, 0)),
        )
    console.print(table)
