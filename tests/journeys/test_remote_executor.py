"""Steps on ``legato worker`` processes: the remote executor chosen from the command line or in
``legato.toml`` for the daemon's runs, on PostgreSQL; on SQLite, an error that names the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from journey import Journey, wait_until

PROJECT = """
    import os
    from pathlib import Path
    import legato as lg

    @lg.asset
    def numbers() -> list[int]:
        with Path("where.txt").open("a") as out:
            out.write(os.environ.get("WHERE", "engine") + "\\n")
        return [1, 2, 3]

    @lg.asset
    def total(numbers: list[int]) -> int:
        with Path("where.txt").open("a") as out:
            out.write(os.environ.get("WHERE", "engine") + "\\n")
        return sum(numbers)
"""

pytestmark = pytest.mark.timeout(600)


def _where(journey: Journey) -> list[str]:
    path = Path(journey.dir) / "where.txt"
    return path.read_text().split() if path.exists() else []


def test_the_remote_executor_runs_steps_on_a_worker_from_the_cli(journey: Journey) -> None:
    if journey.backend != "postgres":
        pytest.skip("remote workers claim steps from PostgreSQL")
    journey.write({"pipes.py": PROJECT})
    worker = journey.start("worker", "--queue", "default", env={"WHERE": "worker"})
    result = journey.legato("run", "numbers+", env={"LEGATO_EXECUTOR": "remote"})
    assert result.returncode == 0, result.stdout + result.stderr + worker.output()
    assert re.search(r"^run \S+ succeeded\s*$", result.stdout, re.M), result.stdout
    assert _where(journey) == ["worker", "worker"], _where(journey)


def test_the_daemon_runs_steps_on_a_worker_with_executor_remote_in_the_config(
    journey: Journey,
) -> None:
    from legato.store.runs import get_run

    if journey.backend != "postgres":
        pytest.skip("remote workers claim steps from PostgreSQL")
    journey.write({"pipes.py": PROJECT}, config='executor = "remote"\n')
    journey.start("worker", "--queue", "default", env={"WHERE": "worker"})
    daemon = journey.daemon()
    queued = journey.ok("run", "numbers+", "--queue").stdout
    found = re.search(r"run (\S+) queued", queued)
    assert found, queued
    run_id = found.group(1)

    def finished() -> bool:
        if not daemon.alive():
            raise AssertionError(f"legato daemon exited:\n{daemon.output()}")
        return get_run(journey.store(), run_id).status.finished

    wait_until(finished, timeout=180, what="the daemon's run to finish")
    record = get_run(journey.store(), run_id)
    assert record.status.value == "succeeded", (record, daemon.output())
    assert record.executor == "remote"
    assert _where(journey) == ["worker", "worker"], _where(journey)


def test_the_remote_executor_on_sqlite_is_refused_with_the_fix(journey: Journey) -> None:
    if journey.backend != "sqlite":
        pytest.skip("the error is about SQLite")
    journey.write({"pipes.py": PROJECT})
    result = journey.legato("run", "numbers+", env={"LEGATO_EXECUTOR": "remote"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the remote executor needs a PostgreSQL store" in result.stderr, result.stderr
    assert "LEGATO_DATABASE_URL=postgresql://" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert journey.ok("runs", "--plain").stdout == ""  # nothing was recorded
    assert _where(journey) == []

    worker = journey.legato("worker", "--queue", "default")
    assert worker.returncode == 2, worker.stdout + worker.stderr
    assert "needs a PostgreSQL store" in worker.stderr, worker.stderr
