"""Threads of one process writing to a PostgreSQL store at once, against in turn (what the
process-wide write lock, now SQLite's alone, used to make them do).

    python bench/store_threads.py [--threads 4] [--transactions 100] [--database-url URL]

Each thread runs short write transactions that each wait 2 ms in the server (a stand-in for a
write's round trips) in a fresh schema of the database (dropped afterwards); prints the wall
time with the store as it is and with a process-wide lock forced on it.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time

from legato.store.engine import Store


def _timed(store: Store, threads: int, transactions: int) -> float:
    def work() -> None:
        for _ in range(transactions):
            with store.transaction() as conn:
                conn.exec_driver_sql("SELECT pg_sleep(0.002)")

    running = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--transactions", type=int, default=100)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    import psycopg

    schema = f"bench_threads_{secrets.token_hex(4)}"
    plain = args.database_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    store = Store(f"{args.database_url}?options=-csearch_path%3D{schema}")
    try:
        one = _timed(store, 1, args.transactions)
        together = _timed(store, args.threads, args.transactions)
        store._write_lock = threading.RLock()  # the old behaviour: one writer per process
        in_turn = _timed(store, args.threads, args.transactions)
    finally:
        store.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(f"1 thread: {one:.2f} s; {args.threads} threads at once: {together:.2f} s, "
          f"in turn (a process-wide lock): {in_turn:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
