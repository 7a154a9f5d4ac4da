"""Live progress of a run in the terminal, the summary table printed at its end, and one run in
detail (``legato runs show``): its steps and why they failed."""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

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

from legato.cli._console import seconds, styled, when
from legato.events.errors import ErrorInfo
from legato.events.status import StepStatus
from legato.events.types import Event, EventType
from legato.store.runs import RunRecord, StepRecord

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
            elif event.type is EventType.CHECK_EVALUATED:
                self.console.print(check_line(event.step, event.data), soft_wrap=True)
            elif event.status in _DONE and event.step:
                self.running.pop(event.step, None)
                self.done += 1
                reason = str(event.data.get("reason", ""))
                if event.type is EventType.STEP_SKIPPED and reason.startswith("blocking check"):
                    self.console.print(f"[dim]skipped[/] {escape(event.step)}: {escape(reason)}")
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


OUTCOME_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def check_line(step: str, result: Mapping[str, Any]) -> str:
    """One check's result on one line: its outcome, whether it blocks, and what it found."""
    outcome = str(result.get("outcome", ""))
    found = ", ".join(f"{k}={v}" for k, v in (result.get("metadata") or {}).items())
    blocking = " (blocking)" if result.get("blocking") and outcome == "fail" else ""
    return (
        f"check {escape(step)}: [{OUTCOME_STYLE.get(outcome, 'white')}]{outcome}[/]{blocking}"
        + (f" [dim]{escape(found[:300])}[/]" if found else "")
    )


# Above this many rows the end of `legato run` summarises the run (a Rich table costs about half
# a millisecond per row to lay out: 0.6 s of CPU for a run of 1,000 steps).
SUMMARY_ROWS = 50
SLOWEST = 10


def print_summary(console: Console, steps: Sequence[StepRecord], *, full: bool = False) -> None:
    """What ``legato run`` prints at the end: the table of every node for a small run (or with
    ``full``); for a large one, counts by status, every failed step with its error, the slowest
    steps and how to get the whole table."""
    by_node = _by_node(steps)
    if full or len(by_node) <= SUMMARY_ROWS:
        console.print(_table(by_node))
        return
    executed = [r for records in by_node.values() for r in records]
    counts = Counter(r.status.value for r in executed)
    console.print(
        f"{len(executed):,} steps: "
        + ", ".join(f"{n:,} {styled(status)}" for status, n in counts.most_common())
    )
    failed = [r for r in executed if r.status is StepStatus.FAILED]
    if failed:
        lines = [f"\n[bold red]failed[/] ({len(failed):,}):"]
        for r in failed:
            error = ErrorInfo.of(r.error)
            lines.append(
                f"  {escape(r.step_key)}: {escape(error.headline if error else '-')[:300]}"
            )
        console.print("\n".join(lines), soft_wrap=True)
    timed = [r for r in executed if r.started_at is not None and r.ended_at is not None]
    slowest = heapq.nlargest(SLOWEST, timed, key=_took)
    if slowest:
        table = Table(show_edge=False, header_style="bold")
        for column in ("slowest steps", "status", "attempts", "time"):
            table.add_column(column, justify="right" if column in ("attempts", "time") else "left")
        for r in slowest:
            table.add_row(
                escape(r.step_key), styled(r.status.value), str(r.attempt), seconds(_took(r))
            )
        console.print()
        console.print(table)
    console.print(f"[dim]--steps prints the full table ({len(by_node):,} rows)[/]")


def _by_node(steps: Sequence[StepRecord]) -> dict[str, list[StepRecord]]:
    """Each node's step records; a fan-out's items without the template that expanded them."""
    by_node: dict[str, list[StepRecord]] = defaultdict(list)
    for step in steps:
        by_node[step.node].append(step)
    for node, records in by_node.items():
        if any(r.map_index >= 0 for r in records):  # a fan-out: count its items, not the template
            by_node[node] = [r for r in records if r.map_index >= 0]
    return by_node


def _took(step: StepRecord) -> float:
    assert step.started_at is not None and step.ended_at is not None
    return step.ended_at - step.started_at


def _table(by_node: dict[str, list[StepRecord]]) -> Table:
    """One row per node; mapped items and partitions are aggregated into counts."""
    table = Table(show_edge=False, header_style="bold")
    for column in ("step", "kind", "status", "steps", "attempts", "time"):
        table.add_column(
            column, justify="right" if column in ("steps", "attempts", "time") else "left"
        )
    for node, records in by_node.items():
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


def run_details(run: RunRecord) -> Table:
    """A run's status, what it ran, where it came from and its timing, one field a line."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    error = ErrorInfo.of(run.error)
    rows = [
        ("run", f"{run.run_id} {styled(run.status.value)}"),
        ("selection", escape(run.selection)),
        ("pipeline", escape(run.pipeline or "-")),
        ("partition", escape(run.partition or "-")),
        ("trigger", escape(run.trigger)),
        ("executor", escape(run.executor or "default")),
        ("re-run of", (run.parent_run_id or "-") + (" (from failure)" if run.from_failure else "")),
        ("created", when(run.created_at)),
        ("started", when(run.started_at)),
        ("ended", when(run.ended_at)),
        ("duration", seconds(run.duration)),
        ("error", escape(error.headline) if error else "-"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def step_table(steps: Sequence[StepRecord], skipped: Mapping[str, str] | None = None) -> Table:
    """One row per step (each partition and mapped item), in the order they started, with a
    failed step's error or a skipped step's reason (``skipped``, by step key)."""
    table = Table(show_edge=False, header_style="bold")
    for column in ("step", "kind", "status", "attempts", "started", "time", "error or reason"):
        table.add_column(column, justify="right" if column in ("attempts", "time") else "left")
    reasons = skipped or {}
    for step in sorted(steps, key=lambda s: (s.started_at is None, s.started_at or 0.0)):
        error = ErrorInfo.of(step.error)
        took = step.ended_at - step.started_at if step.started_at and step.ended_at else None
        why = escape(error.headline[:80]) if error else ""
        if step.status is StepStatus.SKIPPED and step.step_key in reasons:
            why = f"[dim]{escape(reasons[step.step_key])}[/]"
        table.add_row(
            escape(step.step_key),
            step.kind,
            styled(step.status.value) + (f" ← {step.reused_from}" if step.reused_from else ""),
            str(step.attempt),
            when(step.started_at),
            seconds(took),
            why,
        )
    return table


def print_blocked(console: Console, skipped: Mapping[str, str]) -> None:
    """Each step a failed blocking check kept from running, with the check, whole (the table
    names every skipped step's reason, wrapped to fit)."""
    for step, reason in skipped.items():
        if reason.startswith("blocking check"):
            console.print(f"[dim]skipped[/] {escape(step)}: {escape(reason)}", soft_wrap=True)


def print_failures(console: Console, steps: Sequence[StepRecord]) -> int:
    """Each failed step's error and its traceback, whole (for reading and for bug reports);
    how many were printed."""
    printed = 0
    for step in steps:
        error = ErrorInfo.of(step.error)
        if error is None or not step.status.finished or step.status.ok:
            continue
        console.print(
            f"\n[bold red]{step.status.value}[/] [cyan]{escape(step.step_key)}[/] "
            f"(attempt {step.attempt}): {escape(error.headline)}",
            soft_wrap=True,
        )
        if error.traceback:
            console.print(error.traceback.rstrip(), markup=False, soft_wrap=True)
        printed += 1
    return printed
