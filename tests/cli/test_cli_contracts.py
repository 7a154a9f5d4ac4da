"""``legato check --against``: the contract changes of a pull request, breaking ones failing CI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import legato as lg
from legato.cli.contracts import baseline, write_snapshot

BEFORE = """
    from typing import Annotated, Any

    import legato as lg

    @lg.asset(contract=lg.TableContract({"id": "int64", "amount": "float64"}, not_null=["id"]))
    def orders():
        ...

    @lg.asset
    def revenue(orders: Annotated[Any, lg.Needs({"amount": "float64"})]) -> float:
        return 0.0
"""

AFTER = """
    from typing import Annotated, Any

    import legato as lg

    @lg.asset(
        contract=lg.TableContract(
            {"id": "string", "amount": "float64", "region": "string"}, not_null=["id"]
        )
    )
    def orders():
        ...

    @lg.asset
    def revenue(orders: Annotated[Any, lg.Needs({"amount": "float64"})]) -> float:
        return 0.0

    @lg.asset
    def regions(orders: Annotated[Any, lg.Needs(["region"])]) -> list[str]:
        return []
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_check_against_the_previous_commit_lists_breaking_and_compatible_changes(project):
    _git(project.root, "init", "-q", "-b", "main")
    project.write("analytics/legato.toml", 'modules = ["sales"]\n')
    project.write("analytics/sales.py", BEFORE)
    _git(project.root, "add", ".")
    _git(project.root, "commit", "-q", "-m", "orders and revenue")
    project.write("analytics/sales.py", AFTER)
    _git(project.root, "commit", "-q", "-am", "id as text, a region column, regions")

    result = project.legato("--project", "analytics", "check", "--against", "HEAD~1")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "contracts since HEAD~1: 1 breaking, 2 compatible change(s)" in lines
    assert "breaking orders: column 'id' is string instead of int64 (sales.py:6)" in lines
    assert "compatible orders: column 'region' was added (string) (sales.py:6)" in lines
    assert "compatible new asset 'regions' (sales.py:18)" in lines


def test_a_snapshot_file_is_a_baseline_too(project):
    project.write("legato.toml", 'modules = ["sales_file"]\n')
    project.write("sales_file.py", BEFORE)
    saved = project.legato("check", "--snapshot-out", "contracts.json")
    assert saved.returncode == 0, saved.stderr
    data = json.loads((project.root / "contracts.json").read_text())
    assert data["steps"]["orders"]["table"]["columns"] == {"id": "int64", "amount": "float64"}

    project.write("sales_file.py", BEFORE + "\n    # only a comment changed\n")
    same = project.legato("check", "--against", "contracts.json")
    assert same.returncode == 0, same.stderr
    assert "contracts: no change since contracts.json" in same.stdout


def test_a_baseline_that_cannot_be_had_is_an_error_with_the_fix(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(lg.LegatoError) as info:
        baseline(str(tmp_path / "broken.json"), tmp_path)
    assert "cannot read it as JSON" in str(info.value)

    with pytest.raises(lg.LegatoError) as info:
        baseline("main", tmp_path)  # tmp_path is in no repository
    assert "is in no git repository" in str(info.value) and "--snapshot-out" in str(info.value)

    _git(tmp_path, "init", "-q", "-b", "main")
    with pytest.raises(lg.LegatoError) as info:
        baseline("no-such-branch", tmp_path)
    assert "--against no-such-branch: no such ref" in str(info.value)

    with pytest.raises(lg.LegatoError) as info:
        write_snapshot(tmp_path / "missing" / "contracts.json", {})
    assert "cannot write it" in str(info.value) and "directory that exists" in str(info.value)
