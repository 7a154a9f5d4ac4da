"""Legato's side of the workload benchmark: W0-W3 on each executor with a durable SQLite store.

    python bench/legato_workloads.py --workload W3 --executor process [--style map|static]

``map`` (the default) fans out with one ``map_over`` task, as the Prefect (``.map``) and
Dagster (``DynamicOut``) scripts do; ``static`` declares every step as its own task, as Luigi's
does. Every state change is recorded in a SQLite file and every step's result is written by the
filesystem IO manager, as in a real run. The steps pass the ints of ``bench/peers/workloads.py``;
the script prints the steps that succeeded and the last step's value (a ``bench-report`` line).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "peers"))
sys.path.insert(0, str(Path(__file__).parent))
import cli_projects
from workloads import WORKLOADS, Workload, report

import legato as lg


def _static(workload: Workload) -> list[lg.StepDef]:
    """Every step its own ``@lg.task``: the module a generated CLI project runs."""
    namespace: dict[str, object] = {}
    exec(compile(cli_projects.flow_source(workload), "<flow>", "exec"), namespace)
    return [v for v in namespace.values() if isinstance(v, lg.StepDef)]


def _mapped(workload: Workload) -> list[lg.StepDef]:
    if workload.shape != "fanout":
        return _static(workload)
    n = workload.n

    def root() -> list[int]:
        return list(range(n))

    def middle(root: int) -> int:
        return root + 1

    def join(middle: list[int]) -> int:
        return sum(middle)

    return [lg.task(root), lg.task(map_over="root")(middle), lg.task(join)]


def _last(steps: list[lg.StepDef]) -> str:
    return steps[-1].key  # root, the chain's last link, or join (defined last)


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
    steps = (_mapped if args.style == "map" else _static)(workload)
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
        if not result.success:
            sys.exit(f"run {result.status}: {result.failures()}")
        # A fan-out's template ("middle" itself) is a record, not a step that ran: its items are.
        ran = sum(
            1
            for s in result.steps.values()
            if s.status.ok and not (s.node == "middle" and s.map_index < 0)
        )
        report(ran, result.output(_last(steps)))


if __name__ == "__main__":
    main()
