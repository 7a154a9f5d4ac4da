"""Helpers of the scale-out tests: deadline-bound polling, process liveness, a PostgreSQL schema
with a side-effect ledger, and real ``legato worker`` processes."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from legato.store.engine import Store
from polling import poller

PROJECT = Path(__file__).parent / "project"


wait_for = poller(timeout=30.0)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@dataclass
class PgSchema:
    """A PostgreSQL schema with a store and a side-effect ledger (no unique key: duplicates show)."""

    store: Store
    url: str  # SQLAlchemy URL with the schema on the search path
    plain_url: str  # the same for psycopg

    def ledger(self) -> list[tuple[str, str, int]]:
        import psycopg

        with psycopg.connect(self.plain_url) as conn:
            rows = conn.execute("SELECT run_id, step_key, attempt FROM side_effects").fetchall()
        return [(r[0], r[1], r[2]) for r in rows]


class WorkerProcess:
    """One ``legato worker`` subprocess in its own session (so a test can kill its whole group)."""

    def __init__(self, schema: PgSchema, storage: Path, queue: str, *args: str) -> None:
        env = dict(os.environ, LEGATO_DATABASE_URL=schema.url, LEGATO_STORAGE=str(storage))
        env["PYTHONPATH"] = os.pathsep.join([str(PROJECT), env.get("PYTHONPATH", "")])
        self.log = storage.parent / f"worker-{queue}-{secrets.token_hex(3)}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "legato.cli.worker", "--queue", queue, *args],
                cwd=PROJECT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_workers(
    schema: PgSchema, storage: Path, queue: str, count: int, *args: str
) -> list[WorkerProcess]:
    """Start ``count`` workers and wait until each has registered in the store."""
    from sqlalchemy import func, select

    from legato.store.schema_workers import workers

    procs = [WorkerProcess(schema, storage, queue, *args) for _ in range(count)]

    def registered() -> bool:
        for proc in procs:
            if proc.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{proc.log.read_text()}")
        with schema.store.read() as conn:
            n = conn.execute(
                select(func.count())
                .select_from(workers)
                .where(workers.c.queue == queue, workers.c.stopped_at.is_(None))
            ).scalar_one()
        return n >= count

    wait_for(registered, 60, f"{count} workers on queue {queue!r} to register")
    return procs
