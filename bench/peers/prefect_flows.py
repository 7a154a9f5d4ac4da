"""Benchmark workloads W0-W3 written as Prefect 3 flows.

    /tmp/peers/prefect/bin/python bench/peers/prefect_flows.py --workload W1 --mode threads

Modes:

* ``threads``: the default task runner (``ThreadPoolTaskRunner``) against the
  default API. With no ``PREFECT_API_URL`` set, Prefect's shipped ``ephemeral``
  profile starts a temporary API server as a subprocess (uvicorn + SQLite at
  ``$PREFECT_HOME/prefect.db``) and stops it at exit; that is what a user gets
  from ``python flow.py``. Its cost is part of the measurement.
* ``dask``: the same flows on ``prefect_dask.DaskTaskRunner()`` (a local Dask
  cluster started by the flow, with its default worker processes).

The database: pass ``--fresh-home`` to run against a brand-new ``PREFECT_HOME``
(temporary directory, removed at exit), so the server creates and migrates its
SQLite database inside the measured run: a first run. Without it, the process
uses ``PREFECT_HOME`` from the environment (``~/.prefect`` if unset); the runner
gives each measured cell its own home and migrates it with one unmeasured W0 run
first, which is what every run after a user's first sees.

Every step goes through the task runner. Fan-out is expressed the idiomatic
Prefect 3 way: ``root.submit()``, then ``noop.map(range(n), wait_for=[root])``
and ``join.submit(futures)``, which receives the mapped results. The chain
passes each step's future to the next ``noop.submit(future)`` (a task given a
future waits for it). (Calling tasks directly would also chain them, but would
run every step in the flow's own thread and bypass the Dask runner.) Each
flow returns its result and its task runs' futures; the process prints how
many of them ended Completed, and exits non-zero unless the result is right.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from typing import Any

import workloads

MODES = ["threads", "dask"]


def _use_fresh_home() -> None:
    """Point PREFECT_HOME at a new temporary directory (before prefect is imported).

    It is removed at exit; registered first, so it runs after Prefect's own atexit
    hook has stopped the temporary server that writes into it.
    """
    home = tempfile.mkdtemp(prefix="prefect-home-")
    os.environ["PREFECT_HOME"] = home
    atexit.register(shutil.rmtree, home, True)


def build_flow(wl: workloads.Workload) -> Any:
    """Return a Prefect flow that runs workload ``wl``."""
    from prefect import flow, task

    @task
    def noop(i: int = 0) -> int:
        return i + 1

    @task
    def join(results: list[int]) -> int:
        return sum(results)

    @flow(name=f"bench-{wl.name.lower()}")
    def single() -> tuple[int, int]:
        future = noop.submit(0)
        return future.result(), completed([future])

    @flow(name=f"bench-{wl.name.lower()}")
    def chain() -> tuple[int, int]:
        futures = [noop.submit(0)]
        for _ in range(wl.n - 1):
            futures.append(noop.submit(futures[-1]))
        return futures[-1].result(), completed(futures)

    @flow(name=f"bench-{wl.name.lower()}")
    def fanout() -> tuple[int, int]:
        root = noop.submit(0)
        leaves = noop.map(range(wl.n), wait_for=[root])
        joined = join.submit(leaves)
        return joined.result(), completed([root, *leaves, joined])

    return {"single": single, "chain": chain, "fanout": fanout}[wl.shape]


def completed(futures: list[Any]) -> int:
    """How many of these task runs ended in a Completed state (waiting for each first)."""
    for future in futures:
        future.wait()
    return sum(1 for future in futures if future.state.is_completed())


def with_task_runner(flow_obj: Any, mode: str) -> Any:
    """Apply the task runner that ``mode`` names."""
    if mode == "threads":
        return flow_obj  # the default ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    return flow_obj.with_options(task_runner=DaskTaskRunner())


def main(argv: list[str] | None = None) -> int:
    p = workloads.parser(__doc__.splitlines()[0], MODES, "threads")
    p.add_argument("--fresh-home", action="store_true", help="use a new, empty PREFECT_HOME")
    args = p.parse_args(argv)
    wl = workloads.get(args.workload)
    if args.fresh_home:
        _use_fresh_home()
    result, steps = with_task_runner(build_flow(wl), args.mode)()
    if result != wl.result:
        print(f"prefect {wl.name}: flow returned {result!r}, expected {wl.result}", file=sys.stderr)
        return 1
    workloads.report(steps, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
