"""``legato partitions``: dynamic partition sets and per-key status of partitioned assets."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.markup import escape

from legato.cli._console import console
from legato.cli._matrix import status_matrix
from legato.cli._project import open_project, open_store
from legato.errors import NotFoundError
from legato.store.partitions import (
    KeyStatus,
    add_dynamic_keys,
    dynamic_keys,
    dynamic_lookup,
    dynamic_sets,
    remove_dynamic_keys,
    status_counts,
)
from legato.store.staleness import count_stale, stale_among
from legato.store.web_queries import key_statuses


@click.group()
def partitions() -> None:
    """Dynamic partition sets and partition status."""


@partitions.command("add")
@click.argument("set_name")
@click.argument("keys", nargs=-1, required=True)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="When the keys count as added (UTC; default now). Roll-ups over the set read, for each "
    "time window, the keys added by its end: give the start of a new tenant's history here.",
)
@click.pass_context
def add(ctx: click.Context, set_name: str, keys: tuple[str, ...], since: datetime | None) -> None:
    """Add KEYS to the dynamic partition set SET_NAME (e.g. a new tenant)."""
    at = None if since is None else since.replace(tzinfo=UTC).timestamp()
    added = add_dynamic_keys(open_store(ctx), set_name, keys, added_by="cli", at=at)
    already = len(set(keys)) - len(added)
    console.print(
        f"added {len(added)} key(s) to {escape(set_name)}"
        + (f" ({already} already there)" if already else "")
    )


@partitions.command("remove")
@click.argument("set_name")
@click.argument("keys", nargs=-1, required=True)
@click.pass_context
def remove(ctx: click.Context, set_name: str, keys: tuple[str, ...]) -> None:
    """Remove KEYS from the dynamic partition set SET_NAME (materializations are kept)."""
    removed = remove_dynamic_keys(open_store(ctx), set_name, keys)
    console.print(f"removed {removed} key(s) from {escape(set_name)}")


@partitions.command("list")
@click.argument("set_name", required=False)
@click.pass_context
def list_(ctx: click.Context, set_name: str | None) -> None:
    """List the dynamic partition sets, or the keys of SET_NAME."""
    store = open_store(ctx)
    if set_name is None:
        sets = dynamic_sets(store)
        for name, count in sorted(sets.items()):
            console.print(f"{escape(name)}  {count} key(s)")
        if not sets:
            console.print(
                "no dynamic partition keys yet: add some with 'legato partitions add SET KEY...'"
            )
        return
    for key in dynamic_keys(store, set_name):
        console.print(escape(key))


@partitions.command("status")
@click.argument("asset")
@click.option(
    "--end",
    metavar="KEY",
    help="The time key of the matrix's last column or row (default: the newest window).",
)
@click.pass_context
def status(ctx: click.Context, asset: str, end: str | None) -> None:
    """Summarize ASSET's partitions (materialized, failed, in progress, stale, missing) and draw
    a calendar of a time dimension. Counts come from the store's counts by status, kept as keys
    are written, and stale keys from an index; only the keys the matrix draws are read."""
    proj = open_project(ctx)
    if asset not in proj.graph:
        raise NotFoundError(f"no asset {asset!r}", obj=asset, hint="run 'legato assets'")
    space = proj.graph[asset].partitions
    if space is None:
        raise NotFoundError(
            f"asset {asset!r} is not partitioned",
            obj=asset,
            hint="'legato assets' shows its latest materialization",
        )
    store = proj.store()
    dynamic = dynamic_lookup(store)
    now = datetime.now(UTC)
    total = space.count(now, dynamic)
    # a key that has left the space since (a removed dynamic key) counts until seen again
    counts = status_counts(store, asset)
    stale = count_stale(store, proj.graph, asset, now=now, dynamic=dynamic)
    missing = max(0, total - sum(counts.values()))
    console.print(f"[bold]{escape(asset)}[/]: {escape(space.summary())}, {total:,} key(s)")
    console.print(
        f"  [green]materialized {counts['materialized'] - stale:,}[/]  "
        f"[dark_orange]stale {stale:,}[/]  [red]failed {counts['failed']:,}[/]  "
        f"[yellow]in progress {counts['in_progress']:,}[/]  [dim]missing {missing:,}[/]"
    )

    def read(keys: list[str]) -> tuple[dict[str, KeyStatus], set[str]]:
        found = key_statuses(store, asset, keys)
        done = [k for k, s in found.items() if s.status == "materialized"]
        return found, stale_among(store, proj.graph, asset, done, now=now, dynamic=dynamic)

    console.print(status_matrix(space, dynamic, read, end=end))
