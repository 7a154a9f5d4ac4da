"""``legato freshness``: each asset's freshness policy and pipeline SLA, whether it holds now,
and the violations the daemon recorded."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from rich.markup import escape
from rich.table import Table

from legato._internal.durations import format_duration
from legato.cli._console import console, when
from legato.cli._project import open_project
from legato.graph.snapshot import snapshot
from legato.store.engine import Store
from legato.store.freshness import assess_assets, pipeline_slas
from legato.store.violations import list_violations, sla_misses

_STATE = {"fresh": "[green]fresh[/]", "late": "[bold red]late[/]", "ok": "[green]ok[/]"}


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Also violations resolved since.")
@click.option("--limit", default=20, type=click.IntRange(1, 10_000), show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if an asset is late or an SLA missed.")
@click.pass_context
def freshness(ctx: click.Context, show_all: bool, limit: int, check: bool) -> None:
    """Assets with a freshness policy and pipelines with an SLA: fresh or late now (from the
    store's latest materializations and runs), then the violations the daemon recorded."""
    proj = open_project(ctx)
    store = proj.store()
    snap = snapshot(proj.project, proj.graph)
    now = datetime.now(UTC)
    found, errors = assess_assets(store, snap.nodes, now)
    table = Table(show_edge=False, header_style="bold", title="freshness", title_justify="left")
    for column in ("asset", "policy", "state", "expected", "last materialized"):
        table.add_column(column)
    nodes = {n.key: n.freshness for n in snap.nodes if n.freshness}
    late = 0
    for key, described in nodes.items():
        policy = escape(str(described["summary"]))
        if key in errors:
            table.add_row(escape(key), policy, "[yellow]unknown[/]", escape(errors[key]), "-")
        for a in found.get(key, []):
            late += a.late
            table.add_row(
                escape(a.subject) + (f" [dim]{escape(a.partition)}[/]" if a.partition else ""),
                policy,
                _STATE["late" if a.late else "fresh"],
                escape(a.expected),
                when(a.materialized_at),
            )
    slas = pipeline_slas(snap.pipelines)
    missed = {m.subject: m for m in sla_misses(store, slas, now.timestamp())}
    if not nodes and not slas:
        console.print("no asset has a freshness policy and no pipeline an SLA")
        return
    if nodes:
        console.print(table)
    if slas:
        sla_table = Table(show_edge=False, header_style="bold", title="SLAs", title_justify="left")
        for column in ("pipeline", "sla", "state", "run"):
            sla_table.add_column(column)
        for name, sla in sorted(slas.items()):
            miss = missed.get(name)
            state = "[bold red]missed[/]" if miss else _STATE["ok"]
            sla_table.add_row(
                escape(name), format_duration(sla), state, miss.run_id if miss else "-"
            )
        console.print(sla_table)
    _violations(store, show_all, limit)
    if check and (late or missed):
        sys.exit(1)


def _violations(store: Store, show_all: bool, limit: int) -> None:
    rows = list_violations(store, open_only=not show_all, limit=limit)
    if not rows:
        console.print("no open violations" if not show_all else "no violations recorded")
        return
    table = Table(show_edge=False, header_style="bold", title="violations", title_justify="left")
    for column in ("id", "kind", "subject", "late since", "resolved", "detail"):
        table.add_column(column)
    for v in rows:
        table.add_row(
            str(v.id),
            v.kind,
            escape(v.subject),
            when(v.late_since),
            when(v.resolved_at) if v.resolved_at else "[bold red]open[/]",
            escape(str(v.detail.get("reason") or v.detail.get("expected") or ""))[:100],
        )
    console.print(table)
