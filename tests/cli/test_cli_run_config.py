"""``legato run --config`` refuses a config that does not fit the steps' config models: exit 2
and a message naming the step, the path of each problem and the fix; ``legato backfill``
refuses steps that need a config its runs cannot have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from legato.store.backfills import backfill_runs, list_backfills
from legato.store.engine import Store
from legato.store.runs import list_runs

PROJECT = """
    import msgspec
    import legato as lg

    class Export(msgspec.Struct):
        table: str
        rows: int = 100

    @lg.task
    def export(config: Export) -> str:
        print(f"exporting {config.rows} rows to {config.table}")
        return config.table

    @lg.asset(partitions=lg.StaticPartitions(["eu", "us"]))
    def regional(context, config: Export) -> str:
        return config.table
"""


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/.legato/legato.db"
    return str(request.getfixturevalue("pg_schema_url"))


def test_a_config_that_does_not_fit_exits_2_naming_step_path_and_fix(project, database_url):
    project.write("legato.toml", 'modules = ["exports"]\nexecutor = "inprocess"\n')
    project.write("exports.py", PROJECT)
    bad = '{"export": {"tabel": "t", "rows": NaN}}'
    refused = project.legato("run", "export", "--config", bad, LEGATO_DATABASE_URL=database_url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    text = " ".join(refused.stderr.split())
    assert "the run config of step 'export' is invalid: 3 problems" in text
    assert "export.tabel is not a known key" in text and "did you mean 'table'?" in text
    assert "export.rows is not a finite number" in text
    assert "export.table: add 'table' (a string) to export" in text
    assert "run " not in refused.stdout  # nothing was recorded or executed
    backfill = project.legato(
        "backfill", "regional", "--keys", "eu,us", LEGATO_DATABASE_URL=database_url
    )
    assert backfill.returncode == 2, backfill.stdout + backfill.stderr
    said = " ".join(backfill.stderr.split())
    assert "the backfill's config: the run config of step 'regional' is invalid" in said
    assert "regional: add 'regional' (an object with 'table') to the run config" in said
    assert "legato backfill SELECTION --config JSON" in said
    assert "created" not in backfill.stdout


def test_a_backfill_s_config_is_checked_before_it_is_recorded_and_each_run_gets_it(
    project, database_url
):
    project.write("legato.toml", 'modules = ["exports"]\nexecutor = "inprocess"\n')
    project.write("exports.py", PROJECT)
    keys = ("--keys", "eu,us", "--executor", "inprocess")
    bad = project.legato(
        "backfill",
        "regional",
        *keys,
        "--config",
        '{"regional": {"tabel": "t"}}',
        LEGATO_DATABASE_URL=database_url,
    )
    assert bad.returncode == 2, bad.stdout + bad.stderr
    said = " ".join(bad.stderr.split())
    assert "regional.tabel is not a known key" in said and "did you mean 'table'?" in said
    assert list_backfills(Store(database_url)) == []
    config = {"regional": {"table": "sales", "rows": 5}}
    done = project.legato(
        "backfill",
        "regional",
        *keys,
        "--config",
        json.dumps(config),
        LEGATO_DATABASE_URL=database_url,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    store = Store(database_url)
    [record] = list_backfills(store)
    assert record.config == config
    runs = backfill_runs(store, record.backfill_id)
    assert sorted(r.partition for r in runs) == ["eu", "us"]
    assert [r.config for r in runs] == [config, config]
    assert {r.status.value for r in runs} == {"succeeded"}


def test_a_rerun_is_checked_against_the_definitions_as_they_are_now(project, database_url):
    project.write("legato.toml", 'modules = ["exports"]\nexecutor = "inprocess"\n')
    project.write("exports.py", PROJECT)
    ran = project.legato(
        "run", "export", "--config", '{"export": {"table": "t"}}', LEGATO_DATABASE_URL=database_url
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    [parent] = list_runs(Store(database_url))
    # the code changes: export needs a format, which the run's config does not have
    project.write(
        "exports.py", PROJECT.replace("rows: int = 100", "format: str\n        rows: int = 100")
    )
    refused = project.legato("rerun", parent.run_id, LEGATO_DATABASE_URL=database_url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    said = " ".join(refused.stderr.split())
    assert f"run {parent.run_id}'s config does not fit the current definitions" in said
    assert "export.format is required" in said
    assert "legato run SELECTION --config JSON" in said
    assert len(list_runs(Store(database_url))) == 1
