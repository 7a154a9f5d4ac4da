"""The projects the benchmarks run with ``legato run`` (bench/cli_projects.py): each runs as a
user runs it, and the check the benchmark makes after every run reads the right steps and value."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "cli_projects.py"


def _script(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "workload, steps, result",
    [("W1", 7, 15), ("W2", 4, 4)],  # root → 5 → join: 1+…+5; a chain of 4 counting up from 1
)
def test_a_generated_project_runs_with_legato_run_and_reports_its_steps_and_result(
    project, workload, steps, result
):
    width = "5" if workload == "W1" else "4"
    _script("write", workload, str(project.root), "--width", width)
    project.legato("run", "*", "--executor", "inprocess", check=True)
    report = _script("check", str(project.root), workload, "--width", width)
    assert report.startswith("bench-report ")
    assert json.loads(report.removeprefix("bench-report ")) == {"steps": steps, "result": result}
