"""The daemon's run throughput and queue-to-start latency.

    python bench/automation/throughput.py [--runs 60] [--database-url URL]

Queues N one-step no-op runs while `legato daemon` runs (a producer process committing `--batch`
runs per transaction, at once or at `--rate` runs per second), waits for all to finish, and prints
runs per minute and the p50/p99 time from a run being queued to its engine starting it. Each run the
daemon launches is executed by one of its long-lived run workers (`legato.automation.run_worker`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
from sqlalchemy import func, select

from legato._internal.ids import new_run_id
from legato.events.status import RunStatus
from legato.store.engine import Store
from legato.store.runs import RunRecord, get_run, insert_run
from legato.store.schema import runs

PROJECT = """
    import legato as lg

    @lg.task
    def noop() -> None:
        return None
"""


def _wait(store: Store, ids: list[str]) -> None:
    """Until every run in ``ids`` finished: one count query per poll (not one query per run)."""
    r = runs.c
    finished = [s.value for s in RunStatus if s.finished]
    query = select(func.count()).where(r.run_id.in_(ids), r.status.in_(finished))
    deadline = time.monotonic() + 600
    while True:
        with store.read() as conn:
            if conn.execute(query).scalar_one() == len(ids):
                return
        if time.monotonic() > deadline:
            sys.exit("timed out")
        time.sleep(0.005 if len(ids) == 1 else 0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--max-concurrent-runs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=20, help="runs the producer commits at once")
    parser.add_argument("--rate", type=float, default=0.0, help="runs per second (0: at once)")
    parser.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="queue the next run only when the previous one finished",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="legato-daemon-bench-"))
    (root / "legato.toml").write_text('modules = ["noop"]\nexecutor = "inprocess"\n')
    (root / "noop.py").write_text(textwrap.dedent(PROJECT))
    try:
        with fresh_store_url(args.database_url, root) as url:  # never a schema others use
            _bench(args, root, url)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _bench(args: argparse.Namespace, root: Path, url: str) -> None:
    env = {**os.environ, "LEGATO_DATABASE_URL": url}
    store = Store(url)
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "legato",
            "daemon",
            "--interval",
            "0.05",
            "--max-concurrent-runs",
            str(args.max_concurrent_runs),
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        ids = []
        start = time.time()
        batch = 1 if args.one_at_a_time else args.batch
        for first in range(0, args.runs, batch):
            with store.transaction() as conn:  # a producer committing `batch` runs at a time
                for _ in range(min(batch, args.runs - first)):
                    record = RunRecord(
                        run_id=new_run_id(),
                        selection="noop",
                        status=RunStatus.QUEUED,
                        created_at=time.time(),
                        executor="inprocess",
                        trigger="bench",
                    )
                    ids.append(insert_run(conn, record)[0])
            if args.one_at_a_time:  # an idle queue: the latency an event sees
                _wait(store, ids[-1:])
            elif args.rate:  # a steady arrival rate, not a burst
                time.sleep(batch / args.rate)
        _wait(store, ids)
        elapsed = time.time() - start
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(60)
    runs = [get_run(store, i) for i in ids]
    ok = sum(r.status is RunStatus.SUCCEEDED for r in runs)
    latency = sorted((r.started_at or 0) - r.created_at for r in runs)
    print(
        json.dumps(
            {
                "runs": len(runs),
                "succeeded": ok,
                "seconds": round(elapsed, 2),
                "runs_per_minute": round(len(runs) / elapsed * 60, 1),
                "queued_to_started_p50_s": round(statistics.median(latency), 3),
                "queued_to_started_p99_s": round(latency[max(0, int(len(latency) * 0.99) - 1)], 3),
                "store": url.split(":", 1)[0],
                "max_concurrent_runs": args.max_concurrent_runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
