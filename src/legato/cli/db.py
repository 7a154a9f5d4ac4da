"""``legato db``: the store's schema revision, and upgrading it to this Legato's."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from legato.cli._console import console
from legato.cli._project import settings_of
from legato.store.engine import Store
from legato.store.schema import HEAD_REVISION


@click.group()
def db() -> None:
    """The store's schema: which revision it is at, and upgrading it."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create the store or apply the migrations it lacks (safe to run from several places at
    once: one upgrades, the others wait and find it done)."""
    store = Store(settings_of(ctx).database_url, create=False)
    try:
        before = store.ensure_schema(upgrade=True)
    finally:
        store.dispose()
    where = _where(store)
    if before == HEAD_REVISION:
        _say(f"{where}: already at revision {HEAD_REVISION} (head), nothing to do")
    elif before is None:
        _say(f"{where}: created at revision {HEAD_REVISION} (head)")
    else:
        _say(f"{where}: upgraded from revision {before} to {HEAD_REVISION} (head)")


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Print the store's revision and whether it is up to date; exit 1 if it is not."""
    store = Store(settings_of(ctx).database_url, create=False)
    try:
        revision = store.revision()
    finally:
        store.dispose()
    where = _where(store)
    if revision == HEAD_REVISION:
        _say(f"{where}: revision {revision} (head), up to date")
        return
    if revision is None:
        _say(f"{where}: empty, no schema yet; 'legato db upgrade' creates it")
    else:
        from legato.store.migrations.runner import revisions

        if revision in revisions():
            _say(
                f"{where}: revision {revision}, behind {HEAD_REVISION} (head); "
                "run 'legato db upgrade'"
            )
        else:
            _say(
                f"{where}: revision {revision}, unknown to this Legato (head {HEAD_REVISION}): "
                "a newer Legato upgraded it"
            )
    sys.exit(1)


def _say(line: str) -> None:
    console.print(line, soft_wrap=True)  # one line each, however long the URL, for scripts


def _where(store: Store) -> str:
    return "store " + escape(store.engine.url.render_as_string(hide_password=True))
