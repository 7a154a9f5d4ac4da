"""``legato store prune``: delete the runs that the retention policies no longer keep."""

from __future__ import annotations

import click
from rich.table import Table

from legato.cli._console import console
from legato.cli._project import open_project
from legato.store.retention import Policies, PruneReport, preview, prune


@click.group()
def store() -> None:
    """The store's contents: deleting what the retention policies no longer keep."""


@store.command("prune")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.pass_context
def prune_command(ctx: click.Context, dry_run: bool) -> None:
    """Delete runs older than their pipeline's retention policy (Pipeline(retention=...), else
    [retention] of legato.toml) with their steps, events and logs, in small transactions.
    Unfinished, pinned and still-needed runs and every latest materialization are kept."""
    opened = open_project(ctx)
    own = {
        name: pipe.retention
        for name, pipe in opened.project.pipelines.items()
        if pipe.retention is not None
    }
    policies = Policies(opened.settings.retention, own)
    if policies.default is None and not own:
        console.print(
            "no retention policy: every run is kept "
            "(set [retention] in legato.toml, or Pipeline(..., retention=Retention(...)))"
        )
        return
    store = opened.store()
    try:
        report = preview(store, policies) if dry_run else prune(store, policies)
    finally:
        store.dispose()
    _print(report, "would delete" if dry_run else "deleted")


def _print(report: PruneReport, verb: str) -> None:
    if not report.rows:
        console.print("nothing to delete")
        return
    console.print(f"{verb} {report.runs} run(s) and their rows:")
    table = Table(show_edge=False, header_style="bold")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(report.rows.items(), key=lambda item: (item[0] != "runs", item[0])):
        table.add_row(name, str(rows))
    console.print(table)
