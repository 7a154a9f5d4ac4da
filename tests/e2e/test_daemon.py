"""The daemon as a user runs it: schedules and queued runs execute, a run executes the code on
disk, a project that no longer loads fails its run with the reason. Kills, crashes and a second
daemon on one store are journeys (tests/journeys: test_crash_recovery, test_fresh_database)."""

import os
import signal
import textwrap
import time

from legato.events.status import RunStatus
from legato.store.engine import Store
from legato.store.runs import get_run, get_steps, list_runs
from legato_process import run_legato, start_daemon, stop_daemon
from polling import poller

PROJECT = """
    import os, time
    from pathlib import Path
    import legato as lg

    @lg.task
    def heartbeat_job() -> int:
        return 1

    tick = lg.Pipeline("tick", select="heartbeat_job", triggers=[lg.Every(1)])

    @lg.asset
    def first() -> int:
        with open("first.count", "a") as f:
            f.write("x")
        return 1

    @lg.asset(retries=lg.Retry(1, delay=0))
    def second(first: int) -> int:
        marker = Path("second.pid")
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(120)
        return first + 1
"""


def _project(tmp_path):
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\nexecutor = "threads"\n')
    (tmp_path / "pipes.py").write_text(textwrap.dedent(PROJECT))
    return tmp_path


def _daemon(cwd, *extra):
    return start_daemon(cwd, "--interval", "0.1", *extra)


_wait = poller(timeout=60.0, interval=0.1)


def _store(project):
    return Store(f"sqlite:///{project}/.legato/legato.db")


def _stop(proc):
    return stop_daemon(proc)


def test_the_daemon_runs_schedules_and_queued_runs_and_stops_cleanly(tmp_path):
    project = _project(tmp_path)
    queued = run_legato(project, "run", "first", "--queue", timeout=60)
    assert queued.returncode == 0 and "queued" in queued.stdout
    daemon = _daemon(project, "--lease", "5")
    try:
        store = _wait(lambda: (project / ".legato" / "legato.db").exists() and _store(project))
        _wait(
            lambda: (
                sum(
                    r.status is RunStatus.SUCCEEDED and r.pipeline == "tick"
                    for r in list_runs(store, limit=100)
                )
                >= 2
            ),
            what="two scheduled runs",
        )
        manual = [r for r in list_runs(store, limit=100) if r.trigger == "cli"]
        _wait(
            lambda: get_run(store, manual[0].run_id).status is RunStatus.SUCCEEDED,
            what="the queued run",
        )
    finally:
        out = _stop(daemon)
    assert daemon.returncode == 0, out
    assert "daemon stopped" in out


VERSIONED = """
    import legato as lg

    VERSION = {version}

    @lg.task
    def which() -> int:
        with open("versions.txt", "a") as f:
            f.write(f"{{VERSION}}\\n")
        return VERSION
"""


def _queue(project, selection):
    run_legato(project, "run", selection, "--queue", check=True, timeout=60)


def test_a_run_executes_the_code_on_disk_when_it_starts(tmp_path):
    """Run workers keep the project loaded between runs; an edit must still take effect."""
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\nexecutor = "inprocess"\n')
    module = tmp_path / "pipes.py"
    module.write_text(textwrap.dedent(VERSIONED.format(version=1)))
    versions = tmp_path / "versions.txt"
    daemon = _daemon(tmp_path)
    try:
        _queue(tmp_path, "which")
        _wait(lambda: versions.exists() and versions.read_text() == "1\n", what="the first run")
        module.write_text(textwrap.dedent(VERSIONED.format(version=2)))
        later = time.time() + 5  # a coarse file system clock must still see a change
        os.utime(module, (later, later))
        _queue(tmp_path, "which")
        _wait(lambda: versions.read_text() == "1\n2\n", what="the second run, with the edit")
    finally:
        out = _stop(daemon)
    assert daemon.returncode == 0, out


def test_a_run_of_a_project_that_no_longer_loads_fails_with_the_reason(tmp_path):
    project = _project(tmp_path)
    _queue(project, "first")
    (project / "pipes.py").write_text("import legato as lg\n\nthis is not python\n")
    daemon = _daemon(project)
    try:
        store = _wait(lambda: (project / ".legato" / "legato.db").exists() and _store(project))
        [run] = [r for r in list_runs(store) if r.trigger == "cli"]
        _wait(lambda: get_run(store, run.run_id).status.finished, what="the run to fail")
        assert daemon.poll() is None  # the daemon goes on
    finally:
        out = _stop(daemon)
    assert get_run(store, run.run_id).status is RunStatus.FAILED, out
    [step] = get_steps(store, run.run_id)
    assert "does not load" in step.error["message"] and "pipes.py" in step.error["message"]


def test_sigusr1_prints_every_threads_stack_to_the_log_and_the_daemon_goes_on(tmp_path):
    project = _project(tmp_path)
    daemon = _daemon(project)
    try:
        log = project / daemon.log.name
        store = _wait(lambda: (project / ".legato" / "legato.db").exists() and _store(project))
        # a scheduled run has been launched: the run queue's thread is running beside the loop
        _wait(lambda: any(r.pipeline == "tick" for r in list_runs(store)), what="a tick's run")
        os.kill(daemon.pid, signal.SIGUSR1)

        def dumped() -> bool:  # the main thread's stack, and the run queue's
            text = log.read_text()
            return "run_forever" in text and text.count("most recent call first") >= 2

        _wait(dumped, what="every thread's stack")
        assert daemon.poll() is None
    finally:
        out = _stop(daemon)
    assert daemon.returncode == 0 and "daemon stopped" in out, out
