"""How fast one daemon evaluates schedule ticks, and what a virtual-clock tick costs.

    python bench/automation/schedules.py [--schedules 1000] [--seconds 60] [--database-url URL]

1. Throughput: ``--schedules`` ``Every(1)`` schedules (catch-up of every missed tick) are first
   seen at T, then the clock jumps to T + ``--seconds``: each schedule owes that many ticks. The
   daemon's trigger evaluation runs until nothing is due; prints ticks (= runs requested,
   committed with their tick rows) per second of wall time and CPU time per tick.
2. The virtual clock: ``VirtualDaemon.advance`` over a year of one hourly schedule; prints CPU
   time per tick.

The store is a fresh SQLite file, or a fresh schema of ``--database-url`` (PostgreSQL).
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import legato as lg
from legato.store.engine import Store
from legato.testing import VirtualDaemon

START = datetime(2026, 1, 1, tzinfo=UTC)


@lg.task
def job() -> None:
    return None


def _store(url: str | None, tmp: Path) -> tuple[Store, str | None]:
    if url is None:
        return Store(f"sqlite:///{tmp / 'bench.db'}"), None
    import psycopg

    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return Store(f"{url}?options=-csearch_path%3D{schema}"), schema


def _drop(url: str | None, schema: str | None) -> None:
    if url is None or schema is None:
        return
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def throughput(count: int, seconds: int, url: str | None) -> None:
    every = lg.Every(1, catch_up=lg.CatchUp.all(within=timedelta(hours=1)))
    pipes = [lg.Pipeline(f"every{i}", select="job", triggers=[every]) for i in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        store, schema = _store(url, Path(tmp))
        try:
            daemon = VirtualDaemon(pipes, start=START, steps=[job], store=store)
            daemon.tick()  # first sight of every schedule
            daemon.clock.set(START + timedelta(seconds=seconds))
            wall, cpu = time.perf_counter(), time.process_time()
            ticks = 0
            while True:
                made = len(daemon.tick().runs_requested)
                if not made:
                    break
                ticks += made
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"schedule ticks: {ticks} in {wall:.2f} s = {ticks / wall:,.0f} ticks/s, "
                f"{cpu / ticks * 1000:.3f} ms CPU per tick ({store.engine.dialect.name})"
            )
        finally:
            store.dispose()
            _drop(url, schema)


def virtual_year(url: str | None) -> None:
    hourly = lg.Pipeline("hourly", select="job", triggers=[lg.Cron("0 * * * *")])
    with tempfile.TemporaryDirectory() as tmp:
        store, schema = _store(url, Path(tmp))
        try:
            daemon = VirtualDaemon([hourly], start=START, steps=[job], store=store)
            cpu = time.process_time()
            runs = daemon.advance(days=365)
            cpu = time.process_time() - cpu
            print(
                f"virtual clock: {len(runs)} hourly ticks over a year, "
                f"{cpu / len(runs) * 1000:.3f} ms CPU per tick"
            )
        finally:
            store.dispose()
            _drop(url, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    throughput(args.schedules, args.seconds, args.database_url)
    virtual_year(args.database_url)


if __name__ == "__main__":
    main()
