"""Live progress of a run in the terminal, and the summary table printed at its end."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from legato.cli._console import seconds, styled
from legato.events.types import Event, EventType
from legato.store.runs import StepRecord

_DONE = {"succeeded", "failed", "skipped", "reused", "cancelled"}


class RunDisplay:
    """Feeds a Rich progress bar from the engine's events (called after each commit)."""

    def __init__(self, console: Console, total: int, run_id: str) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task(f"run {run_id[:12]}", total=total)
        self.running: dict[str, None] = {}
        self.done = 0
        self.total = total

    def __enter__(self) -> RunDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def on_events(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.type is EventType.STEP_EXPANDED:
                self.total += int(event.data.get("count", 0))
            elif event.type is EventType.STEP_STARTED:
                self.running[event.step] = None
            elif event.type is EventType.STEP_RETRY:
                self.running.pop(event.step, None)
                err = event.data.get("error", {})
                self.console.print(
                    f"[magenta]retry[/] {escape(event.step)} (attempt {event.attempt}): "
                    f"{escape(str(err.get('message', '')))[:200]}"
                )
            elif event.status in _DONE and event.step:
                self.running.pop(event.step, None)
                self.done += 1
                if event.type is EventType.STEP_FAILED:
                    err = event.data.get("error", {})
                    self.console.print(
                        f"[bold red]failed[/] {escape(event.step)}: "
                        f"{escape(str(err.get('type', '')))}: "
                        f"{escape(str(err.get('message', '')))[:300]}"
                    )
        names = list(self.running)
        shown = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
        self.progress.update(
            self.task, completed=self.done, total=self.total, description=escape(shown or "waiting")
        )


def summary_table(steps: Sequence[StepRecord]) -> Table:
    """One row per node; mapped items and partitions are aggregated into counts."""
    by_node: dict[str, list[StepRecord]] = defaultdict(list)
    for step in steps:
        by_node[step.node].append(step)
    table = Table(show_edge=False, header_style="bold")
    for column in ("step", "kind", "status", "steps", "attempts", "time"):
        table.add_column(
            column, justify="right" if column in ("steps", "attempts", "time") else "left"
        )
    for node, records in by_node.items():
        if any(r.map_index >= 0 for r in records):  # a fan-out: count its items, not the template
            records = [r for r in records if r.map_index >= 0]
        counts = Counter(r.status.value for r in records)
        status = ", ".join(
            f"{styled(s)}" + (f" {n}" if len(records) > 1 else "") for s, n in counts.items()
        )
        times = [r.ended_at - r.started_at for r in records if r.started_at and r.ended_at]
        table.add_row(
            escape(node),
            records[0].kind,
            status,
            str(len(records)),
            str(sum(r.attempt for r in records)),
            seconds(max(times) if times else None),
        )
    return table
