"""``legato partitions status``: counts from the store (stale ones included) and a matrix that
draws only the newest keys, or those up to ``--end``."""

from __future__ import annotations

import time

from click.testing import CliRunner

from legato.cli.main import cli
from legato.store import schema
from legato.store.engine import Store
from legato.store.latest_counts import add_changes, status_changes
from legato.store.partitions import add_dynamic_keys

PROJECT = """
    import legato as lg

    tenants = lg.DynamicPartitions("tenants")
    days = lg.DailyPartitions(start="2024-11-01", end="2025-03-01")

    @lg.asset(partitions=tenants * days)
    def usage() -> int:
        return 1

    @lg.asset(partitions=tenants * days)
    def billed(usage: int) -> int:
        return usage
"""


def _record(store: Store, asset: str, keys: list[str], at: float, status: str) -> None:
    rows = [
        {
            "asset_key": asset,
            "partition": key,
            "status": status,
            "run_id": "r",
            "step_key": f"{asset}[{key}]",
            "ts": at,
            "materialized_at": at if status == "materialized" else None,
            "materialized_run": "r",
            "metadata": "{}",
        }
        for key in keys
    ]
    with store.transaction() as conn:
        conn.execute(schema.asset_latest.insert(), rows)
        add_changes(conn, status_changes((asset, None, status) for _ in rows))


def test_status_counts_from_the_store_and_draws_the_newest_keys(project):
    project.write("legato.toml", 'modules = ["status_pipes"]\n')
    project.write("status_pipes.py", PROJECT)
    store = Store(f"sqlite:///{project.root}/.legato/legato.db")
    add_dynamic_keys(store, "tenants", ["acme", "globex"], at=0)
    days = [f"2025-02-{d:02d}" for d in range(1, 29)]
    now = time.time()
    billed = [f"tenants=acme,date={d}" for d in days]
    _record(store, "billed", billed, now, "materialized")
    _record(store, "billed", ["tenants=globex,date=2025-02-28"], now, "failed")
    _record(store, "billed", ["tenants=globex,date=2025-02-27"], now, "in_progress")
    _record(store, "usage", billed[:3], now + 5, "materialized")  # changed after: 3 stale
    store.dispose()

    runner = CliRunner()
    args = ["--project", str(project.root), "partitions", "status", "billed"]
    result = runner.invoke(cli, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "240 key(s)" in result.output  # 2 tenants x 120 days
    assert "materialized 25  stale 3  failed 1  in progress 1  missing 210" in result.output
    assert "date: 2024-12-29 … 2025-02-28" in result.output  # the newest 62 days
    rows = [line for line in result.output.splitlines() if "tenants=" in line]
    assert len(rows) == 2, result.output
    acme, globex = (row.split()[1] for row in rows)
    assert acme == "·" * 34 + "◆◆◆" + "■" * 25 and globex == "·" * 60 + "●✗"

    early = runner.invoke(cli, [*args, "--end", "2025-02-02"], terminal_width=200)
    assert early.exit_code == 0, early.output
    assert "2024-12-03 … 2025-02-02" in early.output
    assert "·" * 60 + "◆◆" in early.output
    wrong = runner.invoke(cli, [*args, "--end", "2025-13-01"])
    assert wrong.exit_code == 2 and "--end '2025-13-01'" in wrong.output
