"""A blocking check stops what reads its asset: ``legato run`` says which check failed and why
the downstream steps were skipped, and exits 1; ``legato checks`` shows the results, and
``legato checks run`` runs them again alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from legato.cli.main import cli

PROJECT = """
    import legato as lg

    @lg.asset(checks=[lg.checks.not_null("id", blocking=True)])
    def orders() -> list[dict]:
        return [{"id": 1}, {"id": None}]

    @lg.check(asset="orders", severity="warn")
    def big_enough(orders) -> bool:
        return len(orders) > 10

    @lg.asset
    def revenue(orders) -> int:
        return len(orders)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/.legato/legato.db"
    return str(request.getfixturevalue("pg_schema_url"))


def test_a_failing_blocking_check_stops_downstream_and_legato_run_exits_1(project, database_url):
    project.write("legato.toml", 'modules = ["shop_checks"]\nexecutor = "inprocess"\n')
    project.write("shop_checks.py", PROJECT)
    run = project.legato("run", "orders+", LEGATO_DATABASE_URL=database_url)
    assert run.returncode == 1, run.stdout + run.stderr
    out = " ".join(run.stdout.split())
    assert "check orders:check:not_null_id: fail (blocking) nulls=1, rows=2" in out
    assert "check orders:check:big_enough: warn" in out
    assert "skipped revenue: blocking check orders:check:not_null_id failed on orders" in out
    assert "revenue │ asset │ skipped" in out and " failed" in out.rsplit("run ", 1)[1]
    run_id = out.rsplit("run ", 1)[1].split()[0]
    shown = CliRunner().invoke(
        cli,
        ["--project", str(project.root), "runs", "show", run_id],
        env={"LEGATO_DATABASE_URL": database_url, "COLUMNS": "200"},
    )
    assert shown.exit_code == 0, shown.output
    [row] = [line for line in shown.output.splitlines() if line.startswith(" revenue ")]
    assert "│ skipped" in row
    assert row.rstrip().endswith("blocking check orders:check:not_null_id failed on orders"), row
    assert "skipped revenue: blocking check orders:check:not_null_id failed on orders\n" in (
        shown.output
    )
    listed = CliRunner().invoke(
        cli,
        ["--project", str(project.root), "checks", "orders"],
        env={"LEGATO_DATABASE_URL": database_url},
    )
    assert listed.exit_code == 0, listed.output
    cells = [[c.strip() for c in line.split("│")] for line in listed.output.splitlines()]
    outcomes = {row[0]: (row[2], row[3]) for row in cells if ":check:" in row[0]}
    assert outcomes == {
        "orders:check:not_null_id": ("fail", "yes"),
        "orders:check:big_enough": ("warn", "no"),
    }
    alone = project.legato("checks", "run", "orders", LEGATO_DATABASE_URL=database_url)
    assert alone.returncode == 1, alone.stdout + alone.stderr  # against the same stored value
    assert "orders:check:not_null_id │ check │ failed" in alone.stdout
    assert "orders │ asset" not in alone.stdout  # nothing was materialized again
