"""Scale-out benchmarks: per-step overhead and CPU speed-up on the process pool, Dask and remote
workers, every run recorded in a PostgreSQL store (a fresh schema, dropped at the end).

    .venv/bin/python bench/scaleout/scaleout_bench.py                # everything
    .venv/bin/python bench/scaleout/scaleout_bench.py --only noop --executors remote

* ``noop``: a dynamic fan-out of N no-op steps (root -> N items -> join), N = 1000 and N = 1;
  per-step overhead = (wall(N=1000) - wall(N=1)) / 999, median of ``--runs``. For Dask, Dask's
  own per-task overhead (``client.map`` of a no-op over 1000 items, same cluster) is measured too.
* ``cpu``: 64 steps of 0.5 s pure-Python CPU work on 1 and on 2 worker processes; speed-up =
  wall(1) / wall(2) (2 cores here, so 2.0 is the ceiling).

Prints a table and writes JSON (``--json``, default bench/results/scaleout-<date>.json).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT_DIR = HERE / "project"
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(HERE.parent))

import bench_steps  # noqa: E402
import harness  # noqa: E402

from legato.definitions.project import Project  # noqa: E402
from legato.definitions.step import StepDef  # noqa: E402
from legato.execution.api import launch_run  # noqa: E402
from legato.graph.build import build_graph  # noqa: E402
from legato.store.engine import Store  # noqa: E402

PROJECT = Project.of(v for v in vars(bench_steps).values() if isinstance(v, StepDef))
GRAPH = build_graph(PROJECT)
PG = os.environ.get("LEGATO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def pg_schema() -> Iterator[str]:
    import psycopg

    name = f"legato_bench_{secrets.token_hex(4)}"
    plain = PG.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield f"{PG}?options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@contextmanager
def remote_workers(url: str, storage: Path, queue: str, count: int) -> Iterator[None]:
    env = dict(os.environ, LEGATO_DATABASE_URL=url, LEGATO_STORAGE=str(storage))
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_DIR), env.get("PYTHONPATH", "")])
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "legato.cli.worker", "--queue", queue],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        store = Store(url)
        from sqlalchemy import func, select

        from legato.store.schema_workers import workers

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with store.read() as conn:
                query = select(func.count()).select_from(workers).where(workers.c.queue == queue)
                if conn.execute(query).scalar_one() >= count:
                    break
            time.sleep(0.05)
        else:
            raise SystemExit(f"{count} remote workers did not register within 60 s")
        yield
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def timed_run(
    store: Store, storage: Path, executor: Any, selection: list[str], **cfg: Any
) -> float:
    started = time.perf_counter()
    result = launch_run(
        PROJECT, GRAPH, selection, store=store, storage_root=storage, executor=executor,
        run_config=cfg,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"benchmark run failed: {result.failures()}")
    return wall


def noop_overhead(
    store: Store, storage: Path, make: Callable[[], Any], runs: int, n: int
) -> dict[str, float]:
    timed_run(store, storage, make(), ["fan_root", "noop", "fan_join"], n=10)  # warm up
    big = [
        timed_run(store, storage, make(), ["fan_root", "noop", "fan_join"], n=n)
        for _ in range(runs)
    ]
    small = [
        timed_run(store, storage, make(), ["fan_root", "noop", "fan_join"], n=1)
        for _ in range(runs)
    ]
    per_step = (statistics.median(big) - statistics.median(small)) / (n - 1) * 1000
    return {
        "wall_n_s": statistics.median(big),
        "wall_1_s": statistics.median(small),
        "ms_per_step": per_step,
    }


def cpu_speedup(
    store: Store, storage: Path, make: Callable[[int], Any], n: int, seconds: float
) -> dict[str, float]:
    walls = {}
    for workers in (1, 2):
        walls[workers] = timed_run(
            store, storage, make(workers), ["cpu_root", "burn", "cpu_join"], n=n, seconds=seconds
        )
    return {"wall_1_s": walls[1], "wall_2_s": walls[2], "speedup": walls[1] / walls[2]}


def dask_own_overhead(address: str, runs: int, n: int) -> float:
    from distributed import Client

    def nothing(x: int) -> None:
        return None

    with Client(address) as client:

        def once(k: int) -> float:
            started = time.perf_counter()
            client.gather(client.map(nothing, range(k), pure=False))
            return time.perf_counter() - started

        once(10)
        big = statistics.median(once(n) for _ in range(runs))
        small = statistics.median(once(1) for _ in range(runs))
    return (big - small) / (n - 1) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default="noop,cpu")
    p.add_argument("--executors", default="process,dask,remote")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument(
        "--store", choices=["postgres", "sqlite"], default="postgres", help="for process and dask"
    )
    p.add_argument("--cpu-n", type=int, default=64)
    p.add_argument("--cpu-seconds", type=float, default=0.5)
    p.add_argument(
        "--json", type=Path, default=HERE.parent / "results" / f"scaleout-{date.today()}.json"
    )
    args = p.parse_args()
    only, kinds = set(args.only.split(",")), args.executors.split(",")
    results: dict[str, Any] = {
        "machine": harness.machine_info(),
        "settings": vars(args) | {"json": str(args.json)},
        "loadavg_start": os.getloadavg(),
    }
    import tempfile

    from legato.execution.executors.process_pool import ProcessPoolExecutor

    with pg_schema() as url, tempfile.TemporaryDirectory(prefix="scaleout-bench-") as tmp:
        pg_store, storage = Store(url), Path(tmp) / "storage"
        for kind in kinds:
            local = args.store == "sqlite" and kind != "remote"
            store = Store(f"sqlite:///{tmp}/{kind}.db") if local else pg_store
            print(f"[{kind}]", file=sys.stderr, flush=True)
            if kind == "process":
                if "noop" in only:
                    results["noop/process"] = noop_overhead(
                        store, storage, lambda: ProcessPoolExecutor(2), args.runs, args.n
                    )
                    sqlite = Store(f"sqlite:///{tmp}/legato.db")
                    results["noop/process-sqlite"] = noop_overhead(
                        sqlite, storage, lambda: ProcessPoolExecutor(2), args.runs, args.n
                    )
                if "cpu" in only:
                    results["cpu/process"] = cpu_speedup(
                        store, storage, ProcessPoolExecutor, args.cpu_n, args.cpu_seconds
                    )
            elif kind == "dask":
                from legato.execution.executors.dask import DaskExecutor, start_local_cluster

                if "noop" in only:
                    with start_local_cluster(2, 1) as cluster:
                        address = cluster.scheduler_address
                        results["noop/dask"] = noop_overhead(
                            store, storage, lambda a=address: DaskExecutor(a), args.runs, args.n
                        )
                        results["noop/dask"]["dask_own_ms_per_task"] = dask_own_overhead(
                            address, args.runs, args.n
                        )
                if "cpu" in only:
                    results["cpu/dask"] = cpu_speedup(
                        store,
                        storage,
                        lambda w: DaskExecutor(n_workers=w),
                        args.cpu_n,
                        args.cpu_seconds,
                    )
            elif kind == "remote":
                from legato.execution.executors.remote import RemoteExecutor

                if "noop" in only:
                    with remote_workers(url, storage, "bench-noop", 2):
                        results["noop/remote"] = noop_overhead(
                            store,
                            storage,
                            lambda s=store: RemoteExecutor(s, "bench-noop"),
                            args.runs,
                            args.n,
                        )
                if "cpu" in only:
                    walls = {}
                    for count in (1, 2):
                        with remote_workers(url, storage, f"bench-cpu{count}", count):
                            walls[count] = timed_run(
                                store, storage, RemoteExecutor(store, f"bench-cpu{count}"),
                                ["cpu_root", "burn", "cpu_join"], n=args.cpu_n, seconds=args.cpu_seconds,
                            )  # fmt: skip
                    results["cpu/remote"] = {
                        "wall_1_s": walls[1],
                        "wall_2_s": walls[2],
                        "speedup": walls[1] / walls[2],
                    }
            print(
                json.dumps(
                    {k: v for k, v in results.items() if k.endswith(kind) or kind in k}, indent=1
                ),
                file=sys.stderr,
            )
        pg_store.dispose()
    results["loadavg_end"] = os.getloadavg()  # other work on the machine skews the numbers
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        if "/" in key:
            print(f"{key:24s} " + "  ".join(f"{k}={v:.3f}" for k, v in value.items()))
    print(f"results: {args.json}")


if __name__ == "__main__":
    main()
