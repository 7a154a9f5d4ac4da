"""``legato checks [ASSET]``: the latest result of each check; ``legato checks run ASSET``: run
an asset's checks alone, against its latest materialization."""

from __future__ import annotations

import difflib
import sys

import click
from rich.markup import escape
from rich.table import Table

from legato.cli._console import console, when
from legato.cli._display import OUTCOME_STYLE
from legato.cli._options import installed_executor
from legato.cli._project import open_project, open_store
from legato.cli.run import EXIT, execute_here
from legato.errors import SelectionError
from legato.graph.plan import plan_run
from legato.store.assets import latest_materializations
from legato.store.checks import latest_check_results
from legato.store.partitions import dynamic_lookup


class _Checks(click.Group):
    """``legato checks ASSET`` lists; a first word that names a subcommand runs it."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands:
            return "list", self.commands["list"], args
        return super().resolve_command(ctx, args)


@click.group(cls=_Checks, invoke_without_command=True)
@click.pass_context
def checks(ctx: click.Context) -> None:
    """Results of checks: 'legato checks [ASSET]' lists the latest of each, 'legato checks run
    ASSET' runs an asset's checks against its latest materialization."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_checks, asset=None)


@checks.command("list")
@click.argument("asset", required=False)
@click.pass_context
def list_checks(ctx: click.Context, asset: str | None) -> None:
    """The latest result of each check (of ASSET, or of every asset), newest first."""
    rows = latest_check_results(open_store(ctx), asset)
    if not rows:
        where = f" of {asset!r}" if asset else ""
        console.print(f"no check results{where} yet")
        console.print("[dim]checks run right after their asset in 'legato run'[/]")
        return
    table = Table(show_edge=False, header_style="bold")
    for column in ("check", "partition", "outcome", "blocking", "when", "run", "found"):
        table.add_column(column)
    for r in rows:
        style = OUTCOME_STYLE.get(r.outcome, "white")
        found = ", ".join(f"{k}={v}" for k, v in r.metadata.items())
        table.add_row(
            escape(r.check_key),
            escape(r.partition or "-"),
            f"[{style}]{r.outcome}[/]",
            "yes" if r.blocking else "no",
            when(r.ts),
            r.run_id,
            escape(found[:80]),
        )
    console.print(table)


@checks.command("run")
@click.argument("asset")
@click.option("--partition", "partitions", multiple=True, metavar="KEY", help="Partition to check.")
@click.option("--executor", metavar="NAME", callback=installed_executor, help="Where checks run.")
@click.pass_context
def run_checks(
    ctx: click.Context, asset: str, partitions: tuple[str, ...], executor: str | None
) -> None:
    """Run ASSET's checks alone, against its latest materialization; exit 1 if a blocking check
    failed."""
    proj = open_project(ctx)
    graph = proj.graph
    if asset not in graph or graph[asset].step.kind != "asset":
        assets = [k for k in graph.order if graph[k].step.kind == "asset"]
        close = difflib.get_close_matches(asset, assets, n=1)
        raise SelectionError(
            f"no asset {asset!r}",
            obj=asset,
            hint=f"did you mean {close[0]!r}?" if close else "run 'legato assets' to list them",
        )
    keys = list(graph.checks_of.get(asset, ()))
    if not keys:
        raise SelectionError(
            f"asset {asset!r} ({graph[asset].step.source}) has no checks",
            obj=asset,
            hint="add @lg.check(asset=...) functions or @lg.asset(checks=[...])",
        )
    store = proj.store()
    if not latest_materializations(store, asset):
        raise SelectionError(
            f"asset {asset!r} has never been materialized: there is nothing to check",
            obj=asset,
            hint=f"run 'legato run {asset}' (its checks run right after it)",
        )
    plan = plan_run(graph, keys, partitions=list(partitions), dynamic=dynamic_lookup(store))
    executor = executor or proj.settings.executor
    status = execute_here(proj, store, keys, plan, executor, None, trigger="cli")
    sys.exit(EXIT.get(status, 1))
