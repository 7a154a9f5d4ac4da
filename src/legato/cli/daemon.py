"""``legato daemon`` runs the automation daemon; ``legato automation`` shows and toggles triggers."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from legato.automation.code import SubprocessCode
from legato.automation.daemon import DRAIN, Daemon
from legato.cli._console import console, styled, when
from legato.cli._project import (
    dump_stacks_on_request,
    open_project,
    open_store,
    settings_of,
    start_fork_server,
)
from legato.errors import NotFoundError
from legato.graph.snapshot import snapshot
from legato.store.automation import (
    list_daemons,
    list_ticks,
    list_triggers,
    set_enabled,
    sync_triggers,
)
from legato.store.claims import QueueLimits
from legato.store.snapshots import save_snapshot

# what run workers import besides the project: a daemon's fork server imports it once for all
RUN_WORKER_MODULES = ("legato.automation.run_worker",)


def build_daemon(
    ctx: click.Context,
    *,
    max_concurrent_runs: int | None,
    lease: float,
    launch: bool = True,
    drain: float = DRAIN,
) -> Daemon:
    settings = settings_of(ctx)
    store = settings.open_store()
    code = SubprocessCode(settings.root)
    queue = settings.run_queue
    limits = QueueLimits(
        total=max_concurrent_runs or queue.max_concurrent_runs,
        pipelines=queue.pipelines,
        tags=queue.tags,
    )
    return Daemon(
        store,
        code=code,
        project_dir=settings.root,
        launch_runs=launch,
        max_concurrent_runs=limits.total,
        limits=limits,
        lease=lease,
        drain=drain,
        alerts=settings.alerts,
        retention=settings.retention,
        location=settings.name,
    )


@click.command()
@click.option(
    "--max-concurrent-runs",
    default=None,
    type=click.IntRange(1, 1000),
    help="Runs executing at once (default: [tool.legato.run_queue] max_concurrent_runs, or 4).",
)
@click.option(
    "--lease",
    default=30.0,
    show_default=True,
    type=click.FloatRange(1.0, 3600.0),
    help="Seconds after which a silent run or trigger owner is presumed dead.",
)
@click.option(
    "--interval",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0.05, 60.0),
    help="Seconds between iterations.",
)
@click.option(
    "--drain",
    default=DRAIN,
    show_default=True,
    type=click.FloatRange(0.0, 86400.0),
    help="On SIGTERM or Ctrl-C, seconds to let running runs finish; runs still going then "
    "are stopped and resumed by the next daemon (their finished steps are kept).",
)
@click.option(
    "--launch/--no-launch",
    default=True,
    show_default=True,
    help="Execute queued runs here (off: this daemon only evaluates triggers).",
)
@click.pass_context
def daemon(
    ctx: click.Context,
    max_concurrent_runs: int | None,
    lease: float,
    interval: float,
    launch: bool,
    drain: float,
) -> None:
    """Run the automation daemon: schedules, sensors, file arrival, OnUpdate chaining, the run
    queue and recovery of runs whose process died. Stops cleanly on Ctrl-C or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    dump_stacks_on_request(ctx)
    if launch:  # before the store is opened and any thread starts
        start_fork_server(ctx, RUN_WORKER_MODULES)
    instance = build_daemon(
        ctx, max_concurrent_runs=max_concurrent_runs, lease=lease, launch=launch, drain=drain
    )
    stop = threading.Event()

    def handle(signum: int, frame: Any) -> None:
        stop.set()
        instance.interrupt()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    # whole in a log file, however long the store's URL (a terminal wraps it to fit)
    console.print(
        f"daemon [bold]{instance.id}[/] on {escape(repr(instance.store))}",
        soft_wrap=not console.is_terminal,
    )
    instance.run_forever(stop, interval=interval)
    console.print("daemon stopped")


@click.group()
def automation() -> None:
    """Triggers and their tick history."""


@automation.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """Every trigger with its state and latest tick."""
    store = open_store(ctx)
    table = Table(show_edge=False, header_style="bold")
    for column in ("trigger", "kind", "enabled", "next due", "latest tick"):
        table.add_column(column)
    for trigger in list_triggers(store):
        ticks = list_ticks(store, trigger.trigger_id, limit=1)
        latest = f"{styled(ticks[0].status)} {when(ticks[0].ts)}" if ticks else "-"
        table.add_row(
            escape(trigger.trigger_id),
            trigger.kind,
            "yes" if trigger.enabled else "[red]no[/]",
            when(trigger.next_due) if trigger.next_due else "-",
            latest,
        )
    console.print(table)


@automation.command("daemons")
@click.option("--all", "show_all", is_flag=True, help="Also daemons stopped or dead long ago.")
@click.pass_context
def daemons_cmd(ctx: click.Context, show_all: bool) -> None:
    """Daemons on this store: running, stopped (cleanly) or dead (killed, or silent past their
    lease), with their last heartbeat."""
    table = Table(show_edge=False, header_style="bold")
    for column in ("daemon", "host", "pid", "status", "started", "last heartbeat"):
        table.add_column(column)
    for d in list_daemons(open_store(ctx), limit=None if show_all else 50):
        table.add_row(
            escape(d.daemon_id),
            escape(d.host),
            str(d.pid),
            styled(d.status),
            when(d.started_at),
            when(d.heartbeat_at),
        )
    console.print(table)


# A reason is cut only where it would flood the table (a failed tick's traceback); one that
# names what a tick waits for (two partition keys, a count, the partition waiting) stays whole.
REASON_SHOWN = 300


@automation.command("ticks")
@click.argument("trigger", required=False)
@click.option("--limit", default=30, type=click.IntRange(1, 10_000))
@click.pass_context
def ticks_cmd(ctx: click.Context, trigger: str | None, limit: int) -> None:
    """Tick history: requested (with the run), skipped (with the reason) or failed (the error)."""
    table = Table(show_edge=False, header_style="bold")
    for column in ("when", "trigger", "status", "run", "reason"):
        table.add_column(column)
    for tick in list_ticks(open_store(ctx), trigger, limit=limit):
        table.add_row(
            when(tick.ts),
            escape(tick.trigger_id),
            styled(tick.status),
            tick.run_id or "-",
            escape((tick.reason or "")[:REASON_SHOWN]),
        )
    console.print(table)


@automation.command("enable")
@click.argument("trigger")
@click.pass_context
def enable(ctx: click.Context, trigger: str) -> None:
    """Turn a trigger on."""
    _switch(ctx, trigger, True)
    console.print(f"{escape(trigger)} enabled")


@automation.command("disable")
@click.argument("trigger")
@click.pass_context
def disable(ctx: click.Context, trigger: str) -> None:
    """Turn a trigger off (its history and cursor are kept)."""
    _switch(ctx, trigger, False)
    console.print(f"{escape(trigger)} disabled")


def _switch(ctx: click.Context, trigger: str, enabled: bool) -> None:
    """Switch ``trigger``; one no daemon has registered yet is registered from the project on
    disk first, so that switching it off before the first daemon starts holds."""
    store = open_store(ctx)
    if set_enabled(store, trigger, enabled):
        return
    proj = open_project(ctx)
    snap = snapshot(proj.project, proj.graph)
    save_snapshot(store, snap, proj.settings.name)
    known = sync_triggers(store, snap)
    if not set_enabled(store, trigger, enabled):
        raise NotFoundError(
            f"no trigger {trigger!r} in the project",
            obj=trigger,
            hint=f"triggers are: {', '.join(known) or 'none'} ('legato automation list')",
        )
