"""Listing backfills whose keys and run groups are large: `legato backfills list` and
`GET /api/v1/backfills` read them through `list_backfills` and `backfills_page`.

    python bench/backfill_list.py                        # SQLite file and a PostgreSQL schema
    python bench/backfill_list.py --backfills 10 --keys 100000 --stores sqlite

Each store (a fresh SQLite file, a fresh PostgreSQL schema dropped afterwards) gets BACKFILLS
backfills of KEYS keys, one run group per key; then each listing is timed REPEAT times (CPU of
this process, where SQLite also does its work, and wall time, which includes PostgreSQL's).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time

from legato.store.backfills import create_backfill, list_backfills
from legato.store.engine import Store
from legato.store.web_queries import backfills_page

POSTGRES = os.environ.get(
    "LEGATO_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _store(kind: str) -> tuple[Store, str | None]:
    if kind == "sqlite":
        return Store(f"sqlite:///{tempfile.mkdtemp(prefix='bench-backfills-')}/legato.db"), None
    import psycopg

    schema = f"bench_backfills_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return Store(f"{POSTGRES}?options=-csearch_path%3D{schema}"), schema


def _drop(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backfills", type=int, default=10)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    keys = [f"tenant={i % 100},date={i // 100}" for i in range(args.keys)]
    groups = [{"keys": [k]} for k in keys]
    print(f"{args.backfills} backfills of {args.keys:,} keys; median of {args.repeat}")
    print("| store | listing | CPU (s) | wall (s) |\n|---|---|---:|---:|")
    for kind in args.stores.split(","):
        store, schema = _store(kind)
        try:
            for n in range(args.backfills):
                create_backfill(store, f"bf{n}", "usage+", keys, groups, max_concurrent=2,
                                missing_only=False, executor="process")  # fmt: skip
            for name, listing in (
                ("legato backfills list (list_backfills)", lambda s=store: list_backfills(s)),
                ("GET /api/v1/backfills (backfills_page)", lambda s=store: backfills_page(s)),
            ):
                cpu, wall = [], []
                for _ in range(args.repeat):
                    c, w = time.process_time(), time.perf_counter()
                    listed = listing()
                    cpu.append(time.process_time() - c)
                    wall.append(time.perf_counter() - w)
                    assert len(listed) == args.backfills
                    # (an older Legato has no key_count: it read every key)
                    assert all(getattr(r, "key_count", len(r.keys)) == args.keys for r in listed)
                print(f"| {kind} | {name} | {statistics.median(cpu):.3f} | "
                      f"{statistics.median(wall):.3f} |")  # fmt: skip
        finally:
            store.dispose()
            if schema:
                _drop(schema)


if __name__ == "__main__":
    main()
