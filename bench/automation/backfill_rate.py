"""How fast a real ``legato daemon`` drives a backfill: runs per second of one trivial asset.

    python bench/automation/backfill_rate.py [--partitions 2000] [--max-concurrent 8]
        [--database-url URL]                      # PostgreSQL: a fresh schema, dropped after
    PYTHONPATH=/tmp/before/src python bench/automation/backfill_rate.py ...   # another tree

A daily asset whose step returns 1 (``executor = "inprocess"``); the backfill of ``--partitions``
days is planned here and recorded with no driver, as ``legato backfill --detach`` records it
(this works with older trees too), while ``legato daemon --max-concurrent-runs 4`` runs: the
daemon's backfill driver queues one run per day, ``--max-concurrent`` at a time, and its run
queue executes them. Prints runs per second from the record to its completion, and the p50/p99
of a run's queued → started and of the gap between one run's end and the next run's creation.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fresh_store import fresh_store_url

PROJECT = """
    import legato as lg

    days = lg.DailyPartitions(start="1980-01-01")

    @lg.asset(partitions=days)
    def trivial() -> int:
        return 1
"""


def _create(url: str, partitions: int, max_concurrent: int) -> str:
    import legato as lg
    from legato._internal.ids import new_run_id
    from legato.definitions.partitions import DailyPartitions
    from legato.definitions.project import Project
    from legato.graph.backfill import plan_backfill
    from legato.graph.build import build_graph
    from legato.store.backfills import create_backfill
    from legato.store.engine import Store

    days = DailyPartitions(start="1980-01-01")

    @lg.asset(partitions=days)
    def trivial() -> int:
        return 1

    keys = list(days.keys()[:partitions])
    if len(keys) < partitions:
        raise SystemExit(f"the space has {len(keys)} days; ask for fewer partitions")
    plan = plan_backfill(build_graph(Project.of([trivial])), ["trivial"], keys)
    store = Store(url)
    record = create_backfill(
        store,
        new_run_id(),
        "trivial",
        keys,
        [g.as_dict() for g in plan.groups],
        max_concurrent=max_concurrent,
        missing_only=False,
        executor="inprocess",
    )
    store.dispose()
    return record.backfill_id


def _wait(url: str, backfill_id: str, timeout: float) -> str:
    from sqlalchemy import select

    from legato.store.engine import Store
    from legato.store.schema_partitions import backfills

    store = Store(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with store.read() as conn:
                status = conn.execute(
                    select(backfills.c.status).where(backfills.c.backfill_id == backfill_id)
                ).scalar_one()
            if status in ("completed", "failed", "cancelled"):
                return str(status)
            time.sleep(0.05)
        return "timed out"
    finally:
        store.dispose()


def _runs(url: str, backfill_id: str) -> list[tuple[float, float, float]]:
    """(created, started, ended) of each run of the backfill."""
    from sqlalchemy import select

    from legato.store.engine import Store
    from legato.store.schema import runs

    store = Store(url)
    r = runs.c
    with store.read() as conn:
        rows = conn.execute(
            select(r.created_at, r.started_at, r.ended_at).where(r.backfill_id == backfill_id)
        ).all()
    store.dispose()
    return [(float(a), float(b or a), float(c or b or a)) for a, b, c in rows]


def _percentiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    if not values:
        return {}
    return {
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))] * 1000, 1),
    }


def _bench(args: argparse.Namespace, root: Path, url: str) -> dict[str, object]:
    env = {**os.environ, "LEGATO_DATABASE_URL": url}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "legato", "daemon", "--max-concurrent-runs", "4"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(3.0)  # the daemon and its run workers start (not what is measured)
        start = time.time()
        backfill_id = _create(url, args.partitions, args.max_concurrent)
        status = _wait(url, backfill_id, args.timeout)
        elapsed = time.time() - start
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(60)
    runs = sorted(_runs(url, backfill_id))
    ends = sorted(e for _, _, e in runs)
    creations = sorted(c for c, _, _ in runs)
    gaps = [c - e for e, c in zip(ends, creations[args.max_concurrent :], strict=False)]
    return {
        "status": status,
        "partitions": args.partitions,
        "runs": len(runs),
        "seconds": round(elapsed, 2),
        "runs_per_second": round(len(runs) / elapsed, 1),
        "queued_to_started": _percentiles([s - c for c, s, _ in runs]),
        "run_end_to_next_created": _percentiles([g for g in gaps if g >= 0]),
        "max_concurrent": args.max_concurrent,
        "store": url.split(":", 1)[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=int, default=2000)
    parser.add_argument("--max-concurrent", type=int, default=8, help="the backfill's")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="legato-backfill-bench-") as tmp:
        root = Path(tmp)
        (root / "legato.toml").write_text('modules = ["trivial"]\nexecutor = "inprocess"\n')
        (root / "trivial.py").write_text(textwrap.dedent(PROJECT))
        with fresh_store_url(args.database_url, root) as url:
            print(json.dumps(_bench(args, root, url), indent=2))


if __name__ == "__main__":
    main()
