"""``legato db current`` and ``legato db upgrade``: the store's revision, and upgrading it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from legato.cli.main import cli
from legato.store.engine import Store
from newer_schema import CURRENT, NEXT, pretend_a_newer_legato


@pytest.fixture(params=["sqlite", "postgres"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A project directory and the URL of its store, which is empty."""
    (tmp_path / "legato.toml").write_text("modules = []\n")
    if request.param == "sqlite":
        yield tmp_path, f"sqlite:///{tmp_path}/.legato/legato.db"
        return
    yield tmp_path, request.getfixturevalue("pg_schema_url")


def _db(project: tuple[Path, str], *args: str) -> Result:
    root, url = project
    return CliRunner().invoke(
        cli, ["--project", str(root), "db", *args], env={"LEGATO_DATABASE_URL": url}
    )


def test_db_upgrade_creates_an_empty_store_and_db_current_says_it_is_up_to_date(project):
    empty = _db(project, "current")
    assert empty.exit_code == 1 and "empty" in empty.output, empty.output
    created = _db(project, "upgrade")
    assert created.exit_code == 0 and f"created at revision {CURRENT}" in created.output, (
        created.output
    )
    current = _db(project, "current")
    assert current.exit_code == 0, current.output
    assert f"revision {CURRENT} (head), up to date" in current.output
    again = _db(project, "upgrade")
    assert again.exit_code == 0 and "nothing to do" in again.output, again.output
    assert "password" not in current.output


def test_db_current_exits_1_behind_and_db_upgrade_says_from_and_to(
    project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    Store(project[1]).dispose()  # at CURRENT, made by this Legato
    pretend_a_newer_legato(tmp_path, monkeypatch)
    behind = _db(project, "current")
    assert behind.exit_code == 1, behind.output
    assert f"revision {CURRENT}, behind {NEXT} (head)" in behind.output
    assert "legato db upgrade" in behind.output
    upgraded = _db(project, "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded from revision {CURRENT} to {NEXT}" in upgraded.output
    assert _db(project, "current").exit_code == 0


def test_db_current_names_a_store_upgraded_by_a_newer_legato(project):
    assert _db(project, "upgrade").exit_code == 0
    store = Store(project[1], create=False)
    with store.transaction() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    store.dispose()
    newer = _db(project, "current")
    assert newer.exit_code == 1 and "newer Legato" in newer.output, newer.output
    refused = _db(project, "upgrade")
    assert refused.exit_code == 2 and "upgrade Legato" in refused.output, refused.output
