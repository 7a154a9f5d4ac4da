"""Processes that keep a project for their whole life exempt it from garbage collection once it
is loaded (``legato run``, step workers); a caller that merely invokes the CLI is left alone."""

import gc
import os
import textwrap

import pytest
from click.testing import CliRunner

from legato.cli.main import cli
from legato_process import run_legato

STEPS = """
    import gc
    from pathlib import Path

    import legato as lg

    @lg.task
    def frozen() -> int:
        Path(__file__).with_name("frozen.txt").write_text(str(gc.get_freeze_count()))
        return 1
"""


def _project(tmp_path):
    (tmp_path / "legato.toml").write_text('modules = ["steps"]\n')
    (tmp_path / "steps.py").write_text(textwrap.dedent(STEPS))
    env = {k: v for k, v in os.environ.items() if k != "LEGATO_DATABASE_URL"}
    return tmp_path / "frozen.txt", env


@pytest.mark.parametrize("executor", ["inprocess", "process"])
def test_the_process_that_runs_steps_has_its_project_out_of_the_collectors_way(tmp_path, executor):
    found, env = _project(tmp_path)
    run_legato(tmp_path, "run", "frozen", "--executor", executor, env=env, check=True)
    assert int(found.read_text()) > 0  # objects in the permanent generation where the step ran


def test_the_cli_invoked_inside_another_program_leaves_its_collector_alone(tmp_path, monkeypatch):
    found, _ = _project(tmp_path)
    monkeypatch.delenv("LEGATO_DATABASE_URL", raising=False)
    before = gc.get_freeze_count()
    result = CliRunner().invoke(
        cli, ["--project", str(tmp_path), "run", "frozen", "--executor", "inprocess"]
    )
    assert result.exit_code == 0, result.output
    assert int(found.read_text()) == before == gc.get_freeze_count()
