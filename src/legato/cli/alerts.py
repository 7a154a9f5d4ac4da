"""``legato alerts``: open and resolved alerts with their messages; ``legato alerts test
CHANNEL`` sends a test message to a channel of legato.toml."""

from __future__ import annotations

import sys
import time

import click
from rich.markup import escape
from rich.table import Table

from legato.automation.channels import DeliveryError, message, send
from legato.cli._console import console, err_console, when
from legato.cli._project import open_store, settings_of
from legato.errors import ConfigError
from legato.store.alerts import deliveries_of, list_alerts

_STATUS = {"open": "[bold red]open[/]", "resolved": "[green]resolved[/]"}
_SENT = {"sent": "green", "pending": "yellow", "failed": "bold red"}


@click.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(["open", "resolved"]), help="Only these alerts.")
@click.option("--limit", default=30, type=click.IntRange(1, 10_000), show_default=True)
@click.pass_context
def alerts(ctx: click.Context, status: str | None, limit: int) -> None:
    """Alerts, newest first: what raised them, open or resolved, and each message's delivery
    to its channels ('legato alerts test CHANNEL' tries a channel)."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(ctx)
    rows = list_alerts(store, status=status, limit=limit)
    if not rows:
        console.print("no alerts" + (f" {status}" if status else ""))
        return
    sent = deliveries_of(store, [a.alert_id for a in rows])
    table = Table(show_edge=False, header_style="bold")
    for column in ("id", "kind", "status", "opened", "resolved", "summary", "messages"):
        table.add_column(column)
    for a in rows:
        messages = ", ".join(
            f"{escape(d.channel)} {d.event} [{_SENT.get(d.status, 'white')}]{d.status}[/]"
            for d in sent[a.alert_id]
        )
        table.add_row(
            str(a.alert_id),
            a.kind,
            _STATUS.get(a.status, a.status),
            when(a.opened_at),
            when(a.resolved_at),
            escape(a.summary[:160])
            + (f" [dim]({a.occurrences} times)[/]" if a.occurrences > 1 else ""),
            messages or "-",
        )
    console.print(table)


@alerts.command("test")
@click.argument("channel")
@click.pass_context
def test_channel(ctx: click.Context, channel: str) -> None:
    """Send a test message to CHANNEL now (exit 1 if it does not go through)."""
    settings = settings_of(ctx)
    found = settings.alerts.channels.get(channel)
    if found is None:
        names = ", ".join(sorted(settings.alerts.channels)) or "none"
        raise ConfigError(
            f"{settings.source}: no channel {channel!r} in [alerts.channels]",
            obj=channel,
            hint=f"channels are: {names}",
        )
    payload = message(
        alert_id=None,
        kind="test",
        event="firing",
        subject="test",
        summary=f"a test message from Legato ({settings.root.name}) to channel {channel!r}",
        status="open",
        opened_at=time.time(),
    )
    try:
        send(found, payload)
    except DeliveryError as exc:
        err_console.print(f"[bold red]not sent:[/] {escape(exc.message)}")
        sys.exit(1)
    console.print(f"test message sent to {escape(channel)} ({found.type})")
