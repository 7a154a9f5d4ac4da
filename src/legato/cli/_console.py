"""Console output shared by commands: one Console, errors printed the same way everywhere."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape

from legato.errors import LegatoError

console = Console(highlight=False)
if not console.is_terminal:  # pipes and CI logs: don't squeeze tables into 80 columns
    console = Console(highlight=False, width=160)
err_console = Console(stderr=True, highlight=False, width=None if console.is_terminal else 160)


def print_error(exc: LegatoError) -> None:
    # In a pipe or a CI log each line stays whole (for grep); a terminal wraps it to fit.
    whole = not err_console.is_terminal
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", soft_wrap=whole)
    if exc.source and exc.source not in exc.message:
        err_console.print(f"  [dim]at[/] {escape(exc.source)}", soft_wrap=whole)
    if exc.hint:
        err_console.print(f"  [yellow]fix:[/] {escape(exc.hint)}", soft_wrap=whole)


def when(ts: float | None) -> str:
    """Local time, compact: the time alone for today, else the date too."""
    if ts is None:
        return "-"
    moment = datetime.fromtimestamp(ts)
    if moment.date() == datetime.now().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


STATUS_STYLE = {
    "succeeded": "green",
    "reused": "cyan",
    "failed": "bold red",
    "running": "yellow",
    "retrying": "magenta",
    "skipped": "dim",
    "cancelled": "red",
    "canceling": "red",
    "pending": "dim",
    "queued": "dim",
}


def styled(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"
