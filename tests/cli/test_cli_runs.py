"""``legato runs``: the list of runs filtered by status, pipeline, asset, partition, tag and age."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from legato.cli.main import cli
from legato.events.status import RunStatus
from legato.store.engine import Store
from legato.store.runs import NewStep, RunRecord, create_run


@pytest.fixture(params=["sqlite", "postgres"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A project directory and its store's URL, with four runs: 3 days, 3 hours, 1 hour and
    a minute old."""
    (tmp_path / "legato.toml").write_text("modules = []\n")
    url = (
        f"sqlite:///{tmp_path}/.legato/legato.db"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    store = Store(url)
    now = time.time()
    for run_id, age, status, key, team, node in [
        ("old", 3 * 86400, RunStatus.FAILED, "2025-01-01", "data", "orders"),
        ("r3h", 3 * 3600, RunStatus.SUCCEEDED, "2025-01-02", "web", "orders"),
        ("r1h", 3600, RunStatus.FAILED, "2025-01-02", "data", "report"),
        ("new", 60, RunStatus.RUNNING, "", "data", "report"),
    ]:
        record = RunRecord(run_id, "*", status, now - age, partition=key, tags={"team": team})
        create_run(store, record, [NewStep(node, node, "asset")])
    store.dispose()
    yield tmp_path, url


def _runs(project: tuple[Path, str], *args: str) -> Result:
    root, url = project
    return CliRunner().invoke(
        cli, ["--project", str(root), "runs", *args], env={"LEGATO_DATABASE_URL": url}
    )


def _ids(project: tuple[Path, str], *args: str) -> list[str]:
    result = _runs(project, "--plain", *args)
    assert result.exit_code == 0, result.output
    return result.output.split()


def test_runs_filters_by_asset_partition_tag_status_and_age(project):
    assert _ids(project) == ["new", "r1h", "r3h", "old"]
    assert _ids(project, "--asset", "orders") == ["r3h", "old"]
    assert _ids(project, "--partition", "2025-01-02") == ["r1h", "r3h"]
    assert _ids(project, "--tag", "team=data", "--status", "failed") == ["r1h", "old"]
    assert _ids(project, "--status", "running", "--status", "succeeded") == ["new", "r3h"]
    assert _ids(project, "--since", "2h") == ["new", "r1h"]
    assert _ids(project, "--since", "2h", "--asset", "report", "--limit", "1") == ["new"]
    yesterday = time.strftime("%Y-%m-%d", time.localtime(time.time() - 86400))
    assert _ids(project, "--since", yesterday) == ["new", "r1h", "r3h"]
    none = _runs(project, "--asset", "nowhere")
    assert none.exit_code == 0 and "no runs match" in none.output


def test_runs_explains_a_bad_since_or_tag(project):
    since = _runs(project, "--since", "yesterday")
    assert since.exit_code == 2
    assert "neither a duration" in since.output and "2025-03-01" in since.output
    tag = _runs(project, "--tag", "team")
    assert tag.exit_code == 2 and "KEY=VALUE" in tag.output


def test_runs_pin_and_unpin_say_what_they_did(project):
    from legato.store.pins import is_pinned

    pinned = _runs(project, "pin", "old")
    assert pinned.exit_code == 0 and "run old pinned" in pinned.output
    store = Store(project[1])
    assert is_pinned(store, "old")
    assert "pinned" in _runs(project, "show", "old").output
    assert "run old unpinned" in _runs(project, "unpin", "old").output
    assert not is_pinned(store, "old")
    assert "pinned" not in _runs(project, "show", "old").output
    store.dispose()
    missing = _runs(project, "pin", "nosuchrun")
    assert missing.exit_code == 2 and "no run 'nosuchrun'" in missing.output
