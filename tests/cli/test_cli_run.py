"""The command line end to end, as a user types it."""

import os
import signal
import time

from legato.events.status import RunStatus
from legato.store.engine import Store
from legato.store.runs import get_run, list_runs

PIPELINE = """
    import os, time
    import legato as lg

    @lg.asset(group="sales")
    def raw_orders() -> list[int]:
        print("loading raw orders")
        return [5, -1, 7]

    @lg.asset(group="sales")
    def clean_orders(raw_orders: list[int]) -> list[int]:
        if os.environ.get("BREAK_CLEAN"):
            raise RuntimeError("clean_orders is broken")
        return [x for x in raw_orders if x > 0]

    @lg.task
    def report(clean_orders):
        print(f"total={sum(clean_orders)}")
        return sum(clean_orders)

    nightly = lg.Pipeline("nightly", select="group:sales+")
"""


def _setup(project):
    project.write("legato.toml", 'modules = ["pipes"]\n')
    project.write("pipes.py", PIPELINE)


def _store(project) -> Store:
    return Store(f"sqlite:///{project.root}/.legato/legato.db")


def test_init_scaffolds_a_project_that_checks_runs_and_passes_its_test(project):
    result = project.legato("init", "acme", check=True)
    assert "created project acme" in result.stdout
    acme = project.root / "acme"
    inner = type(project)(acme)
    assert "ok: 2 asset(s), 1 task(s), 1 pipeline(s)" in inner.legato("check", check=True).stdout
    run = inner.legato("run", "--pipeline", "nightly", check=True)
    assert "succeeded" in run.stdout
    import os
    import subprocess
    import sys

    test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=acme,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},  # plain pytest, as a user has
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert test.returncode == 0, test.stdout + test.stderr


def test_run_records_steps_logs_and_assets(project):
    _setup(project)
    result = project.legato("run", "group:sales+", "--executor", "process", check=True)
    assert "clean_orders" in result.stdout and "succeeded" in result.stdout
    [run] = list_runs(_store(project))
    assert run.status is RunStatus.SUCCEEDED and run.executor == "process"
    logs = project.legato("logs", run.run_id[:10], check=True).stdout
    assert "loading raw orders" in logs and "total=12" in logs
    assert "total=12" in project.legato("logs", run.run_id, "report", check=True).stdout
    assets = project.legato("assets", check=True).stdout
    assert "raw_orders" in assets and run.run_id in assets
    assert run.run_id in project.legato("runs", check=True).stdout


def test_rerun_from_failure_skips_successful_steps(project):
    _setup(project)
    failed = project.legato("run", "--pipeline", "nightly", BREAK_CLEAN="1")
    assert failed.returncode == 1 and "clean_orders is broken" in failed.stdout + failed.stderr
    [first] = list_runs(_store(project))
    rerun = project.legato("rerun", first.run_id, "--from-failure", check=True)
    assert "2 step(s) to execute, 1 reused" in rerun.stdout
    second = list_runs(_store(project))[0]
    assert second.parent_run_id == first.run_id and second.status is RunStatus.SUCCEEDED
    logs = project.legato("logs", second.run_id, check=True).stdout
    assert "loading raw orders" not in logs and "total=12" in logs


def test_bad_selection_is_explained_and_records_nothing(project):
    _setup(project)
    result = project.legato("run", "clean_ordres")
    assert result.returncode == 2
    assert "did you mean 'clean_orders'" in result.stderr
    assert list_runs(_store(project)) == []


def test_ctrl_c_cancels_the_run_and_stops_its_workers(project):
    project.write("legato.toml", 'modules = ["slow"]\n')
    project.write(
        "slow.py",
        """
        import os, time
        import legato as lg

        @lg.task
        def long_step():
            with open("worker.pid", "w") as f:
                f.write(str(os.getpid()))
            time.sleep(120)
    """,
    )
    proc = project.popen("run", "long_step", "--executor", "process")
    pid_file = project.root / "worker.pid"
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    [run] = list_runs(_store(project))
    assert get_run(_store(project), run.run_id).status is RunStatus.CANCELLED
    deadline = time.monotonic() + 10
    while True:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the worker outlived the cancelled run"
        time.sleep(0.05)


WIDE = """
    import legato as lg

    @lg.task
    def root() -> int:
        return 1

    def _middle(i):
        def middle(root: int) -> int:
            if i == 7:
                raise ValueError("m7 cannot count")
            return root + i
        return middle

    for i in range(60):
        globals()[f"m{i}"] = lg.task(key=f"m{i}")(_middle(i))
"""


def _shown(output: str, names: list[str]) -> list[str]:
    return [n for n in names if f" {n} " in output or f" {n}:" in output]


def test_a_large_run_ends_with_a_summary_and_steps_prints_the_table(project):
    """Runs of more than 50 rows end with counts, failures and the slowest steps; --steps and
    small runs keep the table."""
    project.write("legato.toml", 'modules = ["wide"]\n')
    project.write("wide.py", WIDE)
    names = [f"m{i}" for i in range(60)]
    summary = project.legato("run", "*", "--executor", "inprocess")
    assert summary.returncode == 1, summary.stdout + summary.stderr
    out = summary.stdout
    assert "61 steps: 60 succeeded, 1 failed" in out
    assert "m7: ValueError: m7 cannot count" in out
    assert "slowest steps" in out and "--steps prints the full table (61 rows)" in out
    assert len(_shown(out, names)) <= 11  # the failed step and the ten slowest, no more
    [run] = list_runs(_store(project))
    assert out.rstrip().splitlines()[-1] == f"run {run.run_id} failed"

    table = project.legato("run", "*", "--executor", "inprocess", "--steps")
    assert table.returncode == 1
    assert _shown(table.stdout, names) == names and "slowest steps" not in table.stdout
    last = list_runs(_store(project))[0]
    assert table.stdout.rstrip().splitlines()[-1] == f"run {last.run_id} failed"

    small = project.legato("run", "+m1", "+m2", "--executor", "inprocess", check=True)
    assert _shown(small.stdout, ["root", "m1", "m2"]) == ["root", "m1", "m2"]
    assert "slowest steps" not in small.stdout and "--steps" not in small.stdout
