"""Steps of the executor conformance suite: importable, so every executor (and remote workers
loading the project themselves) runs the very same definitions. Knobs come from run_config."""

from __future__ import annotations

import os
import time
from pathlib import Path

import legato as lg
from legato.definitions.partitions import StaticPartitions
from legato.execution.command import run_command


def _dir(context: lg.StepContext) -> Path:
    return Path(context.run_config["dir"])


def _hold(context: lg.StepContext, seconds: float) -> None:
    """Sleep up to ``seconds``, or until the test drops a ``release`` file (threads can't be killed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (_dir(context) / "release").exists():
        time.sleep(0.02)


def record_side_effect(context: lg.StepContext) -> None:
    """Append (run, step, attempt) to a ledger table that has no unique key: duplicates show."""
    url = context.run_config.get("ledger_url")
    if not url:
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO side_effects (run_id, step_key, attempt, pid) VALUES (%s, %s, %s, %s)",
            (context.run_id, str(context.step), context.attempt, os.getpid()),
        )


@lg.asset
def numbers() -> list[int]:
    return list(range(6))


@lg.task(map_over="numbers", retries=lg.Retry(1, delay=0))
def doubled(numbers: int) -> int:
    return numbers * 2


@lg.asset
def total(doubled: list[int]) -> int:
    return sum(doubled)


@lg.task
def broken() -> None:
    raise ValueError("bad data in row 7")


@lg.task
def after_broken(broken: None) -> int:
    return 1


@lg.task(retries=lg.Retry(2, delay=0))
def flaky(context: lg.StepContext) -> int:
    if context.attempt < 2:
        raise ConnectionError("not yet")
    return context.attempt


@lg.task(timeout=0.5)
def slow(context: lg.StepContext) -> None:
    _hold(context, 120)  # until the test's teardown releases it, if the timeout does not cut it
    if not (_dir(context) / "release").exists():
        (_dir(context) / "slow.held").write_text("")  # held to its end: nothing cut it short


@lg.task
def backlog() -> list[int]:
    return list(range(32))


@lg.task(map_over="backlog", timeout=2.5)
def timed_item(backlog: int) -> int:
    # 32 steps of 0.5 s on 4 slots: the last wait 3.5 s for a slot, which must not count against
    # the timeout, while 2 s of margin absorb a loaded machine's overhead around each step
    time.sleep(0.5)
    return backlog


@lg.task
def long_step(context: lg.StepContext) -> None:
    (_dir(context) / "long_step.pid").write_text(str(os.getpid()))
    _hold(context, 60)


@lg.task
def after_long(long_step: None) -> int:
    return 1


@lg.task
def chatty(context: lg.StepContext) -> int:
    print("to stdout")
    context.log.info("through the step logger")
    run_command(["sh", "-c", "echo from a command; echo and its stderr >&2"])
    return 1


@lg.task
def streamed(context: lg.StepContext) -> int:
    """A line sent while the step still runs (a worker streams it), then a wait for the test."""
    print("streamed while running")
    _hold(context, 60)
    return 1


@lg.asset(partitions=StaticPartitions(["eu", "us"]))
def regional(context: lg.StepContext) -> str:
    return f"{context.partition_key}:{os.getpid()}"


@lg.task(retries=lg.Retry(1, delay=0))
def victim(context: lg.StepContext) -> str:
    """The first attempt announces its pid and waits to be killed; the second succeeds."""
    record_side_effect(context)
    if context.attempt == 1:
        (_dir(context) / "victim.pid").write_text(str(os.getpid()))
        _hold(context, 60)
    return f"attempt {context.attempt}"


@lg.task
def many() -> list[int]:
    return list(range(200))


@lg.task(map_over="many", pool="warehouse", retries=lg.Retry(2, delay=0))
def pooled(many: int, context: lg.StepContext) -> int:
    record_side_effect(context)
    time.sleep(0.01)
    return many
