"""Recording the steps of a partitioned asset: the write transactions a run makes per step.

    python bench/asset_writes.py [--steps 2000] [--batch 1] [--writers 1] [--database-url URL]
    python bench/asset_writes.py --src /tmp/before/src --src src    # two versions, interleaved

Per step, the events a run records, through ``event_log.append``: ``STEP_STARTED`` in one
transaction, then ``MATERIALIZED`` and ``STEP_SUCCEEDED`` in the next (``--batch`` steps per
transaction, as the in-process executor batches a wave). ``--writers`` threads record keys of the
same asset at once (runs of one backfill). Each measurement is a fresh process on a fresh store
(a new SQLite file, or a new schema of ``--database-url``) that its code creates; it prints the
wall time and the CPU time (``time.process_time``) per step, medians of ``--repeat``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from fresh_store import fresh_store_url


def child(url: str, steps: int, batch: int, writers: int) -> None:
    from legato.events.types import Event, EventType
    from legato.store import event_log
    from legato.store.engine import Store

    store = Store(url)

    def events(kind: EventType, run: str, keys: list[str], status: str | None) -> list[Event]:
        return [
            Event(
                kind,
                run,
                f"events[{k}]",
                1,
                time.time(),
                status,
                {"asset_key": "events", "partition": k},
            )
            for k in keys
        ]

    def record(writer: int) -> None:
        run = f"run-{writer}"
        mine = [f"w{writer}-{i:06d}" for i in range(steps // writers)]
        for start in range(0, len(mine), batch):
            keys = mine[start : start + batch]
            with store.transaction() as conn:
                event_log.append(conn, events(EventType.STEP_STARTED, run, keys, "running"))
            with store.transaction() as conn:
                event_log.append(
                    conn,
                    events(EventType.MATERIALIZED, run, keys, None)
                    + events(EventType.STEP_SUCCEEDED, run, keys, "succeeded"),
                )

    threads = [threading.Thread(target=record, args=(w,)) for w in range(writers)]
    cpu, wall = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    store.dispose()
    print(
        json.dumps({"cpu_ms_per_step": cpu * 1000 / steps, "wall_ms_per_step": wall * 1000 / steps})
    )


def measure(url: str, src: str | None, args: argparse.Namespace) -> dict[str, float]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    settings = [str(args.steps), str(args.batch), str(args.writers)]
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, *settings],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"writes failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--writers", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (a fresh schema)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--src", action="append", help="a source tree to measure (repeatable)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], *(int(v) for v in args.child[1:]))
        return
    runs: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.repeat):  # rounds of every version: load spreads over all alike
        for src in args.src or [None]:
            with (
                tempfile.TemporaryDirectory(prefix="legato-writes-") as tmp,
                fresh_store_url(args.database_url, Path(tmp)) as url,
            ):
                found = measure(url, src, args)
            runs.setdefault(str(src or "installed"), []).append(found)
            print(src or "installed", json.dumps(found), file=sys.stderr)
    results: dict[str, Any] = {
        src: {
            key: round(statistics.median(r[key] for r in found), 3)
            for key in ("cpu_ms_per_step", "wall_ms_per_step")
        }
        for src, found in runs.items()
    }
    results["store"] = "postgresql" if args.database_url else "sqlite"
    results.update(steps=args.steps, batch=args.batch, writers=args.writers)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
