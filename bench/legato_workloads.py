"""Legato's side of the workload benchmark: W0-W3 on each executor with a durable SQLite store.

    python bench/legato_workloads.py --workload W3 --executor process [--style map|static]

``map`` (the default) fans out with one ``map_over`` task, as the Prefect (``.map``) and
Dagster (``DynamicOut``) scripts do; ``static`` declares every step as its own task, as Luigi's
does. Every state change is recorded in a SQLite file and every step's result is written by the
filesystem IO manager, as in a real run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "peers"))
from workloads import WORKLOADS, Workload

import legato as lg


def _noop_static(workload: Workload) -> list[lg.StepDef]:
    if workload.shape == "single":
        return [lg.task(key="only")(lambda: None)]
    if workload.shape == "chain":
        steps = [lg.task(key="s0")(lambda: None)]
        for i in range(1, workload.n):
            steps.append(lg.task(key=f"s{i}", deps=[f"s{i - 1}"])(lambda: None))
        return steps
    root = lg.task(key="root")(lambda: None)
    middle = [lg.task(key=f"m{i}", deps=["root"])(lambda: None) for i in range(workload.n)]
    join = lg.task(key="join", deps=[m.key for m in middle])(lambda: None)
    return [root, *middle, join]


def _noop_map(workload: Workload) -> list[lg.StepDef]:
    if workload.shape != "fanout":
        return _noop_static(workload)
    n = workload.n

    def root() -> list[int]:
        return list(range(n))

    def middle(root: int) -> None:
        return None

    def join(middle: list[None]) -> int:
        return len(middle)

    return [lg.task(root), lg.task(map_over="root")(middle), lg.task(join)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    parser.add_argument(
        "--executor", choices=["inprocess", "threads", "process"], default="process"
    )
    parser.add_argument("--style", choices=["static", "map"], default="map")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    workload = WORKLOADS[args.workload]
    steps = (_noop_map if args.style == "map" else _noop_static)(workload)
    from legato.store.engine import Store

    with tempfile.TemporaryDirectory(prefix="legato-bench-") as tmp:
        store = Store(f"sqlite:///{tmp}/legato.db")
        result = lg.materialize(
            steps,
            executor=args.executor,
            store=store,
            storage=Path(tmp) / "storage",
            max_concurrency=args.workers,
        )
        expected = workload.steps
        ran = sum(1 for s in result.steps.values() if s.map_index >= 0 or s.node not in ("middle",))
        if not result.success or (args.style == "static" and ran != expected):
            sys.exit(f"run {result.status}: {ran} of {expected} steps")


if __name__ == "__main__":
    main()
