"""The CPU-bound fan-out (N steps of S s of pure-Python work) on peers, for the speed-up table.

    /tmp/peers/prefect/bin/python bench/scaleout/peer_cpu.py --peer prefect --workers 1
    /tmp/peers/dagster/bin/python bench/scaleout/peer_cpu.py --peer dagster --workers 2

* ``prefect``: a flow mapping the task over N items on ``prefect_dask.DaskTaskRunner`` with a
  LocalCluster of ``--workers`` processes, 1 thread each (its ephemeral API server included).
* ``dagster``: a job whose root op has a ``DynamicOut`` of N items mapped to the work op, run by
  ``multiprocess_executor`` with ``max_concurrent=--workers`` on a durable SQLite instance in a
  temporary ``DAGSTER_HOME`` (each step is a fresh ``spawn`` process, as Dagster does).

Prints one JSON line: {"peer", "workers", "n", "seconds", "wall_s"} (wall inside the process).
Stdlib and the peer only, so it runs in the peers' throwaway venvs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def burn(seconds: float) -> int:
    spins, until = 0, time.process_time() + seconds
    while time.process_time() < until:
        spins += 1
    return spins


def run_prefect(workers: int, n: int, seconds: float) -> None:
    from prefect import flow, task
    from prefect_dask import DaskTaskRunner

    work = task(burn)

    @flow(
        task_runner=DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    )
    def cpu_fanout() -> int:
        return len([f.result() for f in work.map([seconds] * n)])

    if cpu_fanout() != n:
        raise SystemExit("prefect: wrong result")


def make_job(workers: int, n: int, seconds: float) -> Any:
    import dagster as dg

    @dg.op(out=dg.DynamicOut(float))
    def root() -> Any:
        for i in range(n):
            yield dg.DynamicOutput(seconds, mapping_key=str(i))

    @dg.op
    def work(value: float) -> int:
        return burn(value)

    @dg.op
    def join(results: list[int]) -> int:
        return len(results)

    def body() -> None:
        join(root().map(work).collect())

    body.__name__ = "cpu_fanout"
    executor = dg.multiprocess_executor.configured({"max_concurrent": workers})
    return dg.job(executor_def=executor)(body)


def run_dagster(workers: int, n: int, seconds: float) -> None:
    home = tempfile.mkdtemp(prefix="dagster-home-")
    try:
        Path(home, "dagster.yaml").write_text(
            f"storage:\n  sqlite:\n    base_dir: {home}/storage\ntelemetry:\n  enabled: false\n"
        )
        os.environ["DAGSTER_HOME"] = home
        import dagster as dg

        recon = dg.build_reconstructable_job(
            "peer_cpu",
            "make_job",
            reconstructable_args=(workers, n, seconds),
            reconstructor_working_directory=str(HERE),
        )
        with dg.execute_job(recon, instance=dg.DagsterInstance.get()) as result:
            if not result.success:
                raise SystemExit("dagster: run failed")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peer", choices=["prefect", "dagster"], required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seconds", type=float, default=0.5)
    args = p.parse_args()
    sys.path.insert(0, str(HERE))
    started = time.perf_counter()
    (run_prefect if args.peer == "prefect" else run_dagster)(args.workers, args.n, args.seconds)
    wall = time.perf_counter() - started
    print(json.dumps({**vars(args), "wall_s": wall}))


if __name__ == "__main__":
    main()
