"""A ``legato worker`` on the narrow PostgreSQL role docs/security.md gives: the SQL there runs as
written, and a worker connected with that role claims steps, streams their log lines and records
their outcomes, while the role cannot read run history or users, nor change a step it claims."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import scaleout_steps
from scaleout_support import PgSchema, WorkerProcess, wait_for

from legato.definitions.project import Project
from legato.definitions.step import StepDef
from legato.execution.api import RunResult, launch_run
from legato.execution.executors.remote import RemoteExecutor
from legato.graph.build import build_graph
from legato.store.engine import Store
from legato.store.logs import read_logs

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
PROJECT = Project.of(v for v in vars(scaleout_steps).values() if isinstance(v, StepDef))
QUEUE = "narrow"


def _grants() -> str:
    """The SQL block of the section on database roles."""
    section = DOC.read_text().split("## Database roles", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sql\n(.*?)^```", section, re.M | re.S)
    assert len(blocks) == 1, blocks
    return str(blocks[0])


@pytest.fixture
def narrow(pg_schema_url: str, postgres_url: str) -> Iterator[str]:
    """A URL of the store for a role made by the documented SQL, dropped afterwards."""
    schema = re.search(r"search_path%3D(\w+)", pg_schema_url)
    assert schema, pg_schema_url
    Store(pg_schema_url).dispose()  # the owner creates the store's tables
    role = f"legato_worker_{secrets.token_hex(4)}"
    plain = postgres_url.replace("+psycopg", "")
    sql = _grants().replace("legato_worker", role).replace("SCHEMA public", f"SCHEMA {schema[1]}")
    try:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {schema[1]}")
            conn.execute(sql)
        host = postgres_url.split("@", 1)[1]
        yield f"postgresql+psycopg://{role}@{host}?options=-csearch_path%3D{schema[1]}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_a_worker_on_the_documented_narrow_role_runs_steps(
    narrow: str, pg_schema_url: str, tmp_path: Path
) -> None:
    worker_url = narrow
    store = Store(pg_schema_url)
    storage = tmp_path / "storage"
    worker = WorkerProcess(
        PgSchema(store, worker_url, ""), storage, QUEUE, "--poll-interval", "0.2"
    )
    outcome: dict[str, RunResult] = {}
    engines: list[Any] = []
    run_dir = tmp_path / "run"
    run_dir.mkdir()

    def run() -> None:
        outcome["result"] = launch_run(
            PROJECT,
            build_graph(PROJECT),
            ["numbers", "doubled", "total", "streamed"],
            store=store,
            storage_root=storage,
            executor=RemoteExecutor(store, QUEUE),
            run_config={"dir": str(run_dir)},
            engine_hook=engines.append,
        )

    def streamed() -> bool:
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{worker.log.read_text()}")
        with store.read() as conn:
            return bool(conn.exec_driver_sql("SELECT count(*) FROM step_logs").scalar())

    engine = threading.Thread(target=run)
    try:
        engine.start()
        wait_for(streamed, 60, "the worker to stream a line of the running step")
        (run_dir / "release").write_text("")
        engine.join(60)
        result = outcome["result"]
        assert result.success, (result.failures(), worker.log.read_text())
        assert result.output("total") == 30
        lines = [line.message for line in read_logs(store, result.run_id)]
        assert "streamed while running" in lines
    finally:
        (run_dir / "release").write_text("")
        if engine.is_alive():  # the test failed: end the run before the schema goes
            for started in engines:
                started.cancel_requested.set()
            engine.join(60)
        worker.stop()
        store.dispose()
    assert "permission denied" not in worker.log.read_text()
    _refused(worker_url, "SELECT count(*) FROM runs")
    _refused(worker_url, "SELECT password_hash FROM web_users")
    _refused(worker_url, "UPDATE step_queue SET spec = '{}'")
    _refused(worker_url, "INSERT INTO snapshots (location, created_at, fingerprint, data) "
                         "VALUES ('x', 0, 'x', '{}')")  # fmt: skip


def _refused(url: str, statement: str) -> None:
    with (
        psycopg.connect(url.replace("+psycopg", "")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)
