"""Subprocess steps: argument lists, live logs, exit codes, timeouts, and no orphaned children."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import legato as lg
from legato.definitions.project import Project
from legato.events.status import RunStatus
from legato.execution.api import launch_run
from legato.execution.command import (
    CommandFailed,
    CommandRefused,
    CommandTimeout,
    command_step,
    run_command,
)
from legato.execution.executors.process_pool import ProcessPoolExecutor
from legato.graph.build import build_graph
from legato.store.engine import Store
from legato.store.logs import read_logs
from polling import poller

wait_for = poller(timeout=20.0)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_an_argument_list_runs_without_a_shell_and_returns_its_output():
    result = run_command(["echo", "hello; rm -rf /", "$HOME"])
    assert result.ok and result.returncode == 0
    assert result.stdout_tail == ("hello; rm -rf / $HOME",)
    assert result.command == "echo 'hello; rm -rf /' '$HOME'"


def test_a_string_needs_shell_true_and_a_list_refuses_it():
    with pytest.raises(CommandRefused, match=r"without shell=True.*\['ls', '-l'\]"):
        run_command("ls -l")
    with pytest.raises(CommandRefused, match="with shell=True"):
        run_command(["ls"], shell=True)
    with pytest.raises(CommandRefused, match="non-empty list"):
        run_command([])
    assert run_command("echo $((1 + 2))", shell=True).stdout_tail == ("3",)


def test_a_non_zero_exit_names_the_command_the_code_and_the_end_of_stderr():
    with pytest.raises(CommandFailed) as info:
        run_command(["sh", "-c", "echo first >&2; echo 'disk full' >&2; exit 3"])
    assert info.value.returncode == 3
    message = str(info.value)
    assert "sh -c" in message and "exited with code 3" in message and "disk full" in message
    result = run_command(["sh", "-c", "exit 3"], check=False)
    assert result.returncode == 3 and not result.ok


def test_a_missing_program_is_a_command_failure():
    with pytest.raises(CommandFailed, match="no-such-program-xyz"):
        run_command(["no-such-program-xyz"])


def test_a_timeout_kills_the_command_and_its_grandchildren(tmp_path):
    pid_file = tmp_path / "grandchild"
    started = time.monotonic()
    with pytest.raises(CommandTimeout, match=r"longer than its timeout of 0\.5 s"):
        run_command(["sh", "-c", f"sleep 60 & echo $! > {pid_file}; wait"], timeout=0.5)
    assert time.monotonic() - started < 30  # not the 60 s of the grandchild
    grandchild = int(pid_file.read_text())
    wait_for(lambda: not alive(grandchild), 5, "the grandchild to die")


def test_sigterm_is_sent_first_and_sigkill_after_the_grace_period(tmp_path):
    script = "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.05; done"
    with pytest.raises(CommandTimeout):
        run_command(["sh", "-c", script], timeout=0.3, kill_grace=5)
    stubborn = "trap '' TERM; while true; do sleep 0.05; done"
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        run_command(["sh", "-c", stubborn], timeout=0.3, kill_grace=0.3)
    assert time.monotonic() - started < 30  # it ignores SIGTERM forever: SIGKILL ended it


def test_a_background_process_holding_the_pipes_does_not_hang_the_step(tmp_path):
    pid_file = tmp_path / "bg"
    started = time.monotonic()
    result = run_command(["sh", "-c", f"sleep 60 & echo $! > {pid_file}; echo done"])
    assert result.stdout_tail == ("done",)
    assert time.monotonic() - started < 30  # not the 60 s of the process holding the pipes
    wait_for(lambda: not alive(int(pid_file.read_text())), 5, "the leftover to be killed")


def test_output_is_streamed_into_the_step_logs_line_by_line(tmp_path):
    @lg.task
    def shell_out():
        run_command(["sh", "-c", "echo one; sleep 0.4; echo two >&2; printf 'no newline'"])
        return 1

    result = lg.materialize([shell_out], executor="process", storage=tmp_path / "s")
    lines = read_logs(result.store, result.run_id, "shell_out")
    assert [(line.stream, line.message) for line in lines] == [
        ("stdout", "one"),
        ("stderr", "two"),
        ("stdout", "no newline"),
    ]
    assert lines[1].ts - lines[0].ts > 0.3  # captured as printed, not at the end


def test_a_failing_command_fails_its_step_with_the_exit_code(tmp_path):
    @lg.task
    def exits_three():
        run_command(["sh", "-c", "echo boom >&2; exit 3"])

    result = lg.materialize([exits_three], raise_on_error=False)
    error = result.steps["exits_three"].error
    assert error["type"] == "legato.execution.command.CommandFailed"
    assert "exited with code 3" in error["message"] and "boom" in error["message"]


def test_command_step_declares_a_task(tmp_path):
    marker = tmp_path / "out.txt"
    first = command_step("write_it", ["sh", "-c", f"echo written > {marker}"])
    second = command_step("read_it", ["cat", str(marker)], deps=["write_it"], timeout=10)
    result = lg.materialize([first, second])
    assert result.output("read_it").stdout_tail == ("written",)
    with pytest.raises(CommandRefused):
        command_step("bad", "echo hi")


def test_a_killed_worker_takes_its_command_and_grandchildren_with_it(tmp_path):
    pid_file = tmp_path / "pids"

    @lg.task
    def long_command():
        run_command(["sh", "-c", f"sleep 60 & echo $$ $! > {pid_file}; wait"])

    project = Project.of([long_command])
    engines = []
    outcome = {}

    def run():
        outcome["result"] = launch_run(
            project,
            build_graph(project),
            "*",
            store=Store(f"sqlite:///{tmp_path}/db.sqlite"),
            storage_root=Path(tmp_path / "s"),
            executor=ProcessPoolExecutor(1),
            engine_hook=engines.append,
        )

    thread = threading.Thread(target=run)
    thread.start()
    text = wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="the pids")
    shell, grandchild = (int(p) for p in text.split())
    engines[0].cancel_requested.set()  # the pool kills the worker's process group
    thread.join(30)
    assert outcome["result"].status is RunStatus.CANCELLED
    wait_for(lambda: not alive(shell) and not alive(grandchild), 10, "the command to die")


def test_sigkill_of_the_caller_kills_the_command(tmp_path):
    pid_file = tmp_path / "pids"
    code = (
        "from legato.execution.command import run_command\n"
        f"run_command(['sh', '-c', 'sleep 60 & echo $$ $! > {pid_file}; wait'])\n"
    )
    import subprocess
    import sys

    caller = subprocess.Popen([sys.executable, "-c", code])
    try:
        text = wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="pids")
        os.kill(caller.pid, signal.SIGKILL)  # only the caller: its command is in another group
        caller.wait(10)
        shell, grandchild = (int(p) for p in text.split())
        wait_for(lambda: not alive(shell) and not alive(grandchild), 30, "the command to die")
    finally:
        if caller.poll() is None:
            caller.kill()
