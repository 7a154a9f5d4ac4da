"""Backfills through the CLI: preview, run in dependency order, and resume after a crash."""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from legato.events.status import RunStatus
from legato.store import schema
from legato.store.backfills import backfill_runs, list_backfills
from legato.store.engine import Store
from legato_process import run_legato, start_daemon, stop_daemon
from polling import wait_for

EXAMPLE = Path(__file__).parents[2] / "examples" / "tenants"


def _legato(cwd, *args, check=True, timeout=180):
    return run_legato(cwd, *args, check=check, timeout=timeout)


@pytest.fixture
def tenants(tmp_path):
    project = tmp_path / "tenants"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".legato", "__pycache__"))
    _legato(project, "partitions", "add", "tenants", "acme", "globex")
    return project


def _store(project) -> Store:
    return Store(f"sqlite:///{project}/.legato/legato.db")


def _materializations(store: Store) -> Counter:
    m = schema.materializations.c
    with store.read() as conn:
        rows = conn.execute(select(m.asset_key, m.partition)).all()
    return Counter((r.asset_key, r.partition) for r in rows)


def test_the_tenants_example_backfills_usage_then_days_then_the_month(tenants):
    preview = _legato(
        tenants, "backfill", "usage+", "--from", "2025-02-01", "--to", "2025-02-28", "--dry-run"
    ).stdout
    assert "56 key(s) → 85 run(s)" in preview  # 56 tenant-days, 28 day totals, 1 month
    assert list_backfills(_store(tenants)) == []  # a preview records nothing
    out = _legato(
        tenants,
        "backfill",
        "usage+",
        "--from",
        "2025-02-01",
        "--to",
        "2025-02-28",
        "--max-concurrent",
        "3",
    ).stdout
    assert "completed" in out
    store = _store(tenants)
    counts = _materializations(store)
    assert counts[("monthly_report", "2025-02")] == 1
    assert sum(1 for (a, _), n in counts.items() if a == "usage" and n == 1) == 56
    runs = {r.run_id: r for r in backfill_runs(store, list_backfills(store)[0].backfill_id)}
    month = next(r for r in runs.values() if r.partition == "2025-02")
    days = [r for r in runs.values() if r.selection == "daily_usage"]
    assert all(d.created_at <= month.created_at for d in days)  # the roll-up ran last
    status = _legato(tenants, "partitions", "status", "monthly_report").stdout
    assert "materialized 1" in status
    again = _legato(
        tenants,
        "backfill",
        "usage+",
        "--from",
        "2025-02-01",
        "--to",
        "2025-02-28",
        "--missing-only",
        "--dry-run",
    ).stdout
    assert "56 key(s) already materialized, skipped" in again


def test_a_killed_backfill_resumes_without_gaps_or_duplicates(tenants):
    (tenants / "tenants" / "usage.py").write_text(
        (tenants / "tenants" / "usage.py")
        .read_text()
        .replace("    digest = hashlib", "    __import__('time').sleep(0.05)\n    digest = hashlib")
    )
    args = [
        "backfill",
        "usage",
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-20",
        "--max-concurrent",
        "2",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "legato", *args],
        cwd=tenants,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    store = _store(tenants)
    deadline = time.monotonic() + 120
    while True:  # kill it once 40% of its 40 runs exist
        assert time.monotonic() < deadline and proc.poll() is None, (
            proc.stderr and proc.stderr.read()
        )
        backfills = list_backfills(store) if (tenants / ".legato" / "legato.db").exists() else []
        if backfills and len(backfill_runs(store, backfills[0].backfill_id)) >= 16:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    proc.stderr.close()
    backfill_id = backfills[0].backfill_id
    assert len(backfill_runs(store, backfill_id)) < 40
    out = _legato(tenants, "backfills", "resume", backfill_id).stdout
    assert "completed" in out
    counts = _materializations(store)
    usage = {k: n for k, n in counts.items() if k[0] == "usage"}
    assert len(usage) == 40 and set(usage.values()) == {1}  # every key exactly once
    runs = backfill_runs(store, backfill_id)
    succeeded = Counter(
        r.idempotency_key.split(":")[2] for r in runs if r.status is RunStatus.SUCCEEDED
    )
    assert len(succeeded) == 40 and set(succeeded.values()) == {1}
    assert all(r.status.finished for r in runs)


def test_the_daemon_takes_over_a_backfill_whose_driver_died(tenants):
    args = [
        "backfill",
        "usage",
        "--from",
        "2025-04-01",
        "--to",
        "2025-04-10",
        "--max-concurrent",
        "2",
    ]
    (tenants / "tenants" / "usage.py").write_text(
        (tenants / "tenants" / "usage.py")
        .read_text()
        .replace("    digest = hashlib", "    __import__('time').sleep(0.05)\n    digest = hashlib")
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "legato", *args],
        cwd=tenants,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    store = _store(tenants)
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline and proc.poll() is None
        backfills = list_backfills(store) if (tenants / ".legato" / "legato.db").exists() else []
        if backfills and len(backfill_runs(store, backfills[0].backfill_id)) >= 4:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    backfill_id = backfills[0].backfill_id
    daemon = start_daemon(tenants, "--interval", "0.1", "--lease", "3")

    def completed() -> bool:
        status = list_backfills(store)[0].status
        assert status in ("running", "requested", "completed"), status
        return status == "completed"

    try:
        wait_for(completed, timeout=120, what="the daemon to finish the backfill")
    finally:
        stop_daemon(daemon)
    usage = {k: n for k, n in _materializations(store).items() if k[0] == "usage"}
    assert len(usage) == 20 and set(usage.values()) == {1}
    assert backfill_id == list_backfills(store)[0].backfill_id
