"""Benchmark steps: a no-op fan-out and a CPU-bound fan-out, sized by run_config."""

from __future__ import annotations

import time

import legato as lg


@lg.task
def fan_root(context: lg.StepContext) -> list[int]:
    return list(range(int(context.run_config["n"])))


@lg.task(map_over="fan_root")
def noop(fan_root: int) -> None:
    return None


@lg.task
def fan_join(noop: list[None]) -> int:
    return len(noop)


@lg.task
def cpu_root(context: lg.StepContext) -> list[float]:
    return [float(context.run_config["seconds"])] * int(context.run_config["n"])


@lg.task(map_over="cpu_root")
def burn(cpu_root: float) -> int:
    """Pure-Python work for ``cpu_root`` seconds of CPU time."""
    spins, until = 0, time.process_time() + cpu_root
    while time.process_time() < until:
        spins += 1
    return spins


@lg.task
def cpu_join(burn: list[int]) -> int:
    return len(burn)
