"""A store no one else uses, for a benchmark: a new SQLite file by default, or a new schema of a
PostgreSQL database (never its ``public`` schema, which others' data may live in), dropped
afterwards.

    from fresh_store import fresh_store_url      # scripts in bench/ subfolders: see add_to_path

    with fresh_store_url(args.database_url, tmp_dir) as url:
        ...
"""

from __future__ import annotations

import secrets
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def add_to_path() -> None:
    """Make ``import fresh_store`` work from a script in a subfolder of bench/."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)


@contextmanager
def fresh_store_url(database_url: str | None, directory: Path) -> Iterator[str]:
    """The URL of an empty store: ``directory``/bench.db when ``database_url`` is None, else a new
    schema of that PostgreSQL database on the search path, dropped (with everything in it) when
    the block ends."""
    if database_url is None:
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    if not database_url.startswith("postgres"):
        raise SystemExit(f"{database_url}: give a PostgreSQL URL, or none for a SQLite file")
    import psycopg

    schema = f"legato_bench_{secrets.token_hex(4)}"
    plain = database_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in database_url else "?"
    # a benchmark stopped with SIGTERM (kill, timeout) drops its schema too
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield f"{database_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        signal.signal(signal.SIGTERM, previous)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
