"""The fork server starts spawn_child's children as forks of a copy of the process, with what a
fresh ``python -m`` child would have (session, directory, environment, command line, pipes), and
reports how each ended as Popen would. It needs a process of its own (a single thread at start),
so each test drives a fresh interpreter through ``fork_server_probe``."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("fork_server_probe.py")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def _probe(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, str(PROBE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_a_child_is_a_fork_that_looks_like_a_fresh_python_m_child(tmp_path: Path) -> None:
    seen = _probe("describe", str(tmp_path), env={"PROBE_MARK": "1"})
    assert seen["forked"] is True
    child = seen["child"]
    assert child["cwd"] == str(tmp_path)
    assert child["sys_path0"] == str(tmp_path)  # as python -m puts the working directory first
    assert child["mark"] == "from the parent's environment at spawn time"
    assert child["session_leader"] is True  # a session of its own, as start_new_session gave
    assert child["stdin"] == ""  # /dev/null
    assert "-m fork_server_child" in child["cmdline"]  # what ps shows, not the parent's command
    assert child["parent_is_server"] is True and seen["server"] != seen["parent"]
    assert seen["returncode"] == 0


def test_exit_codes_and_signals_read_as_popen_returncodes() -> None:
    seen = _probe("endings")
    assert seen == {"exit": 3, "raise": 1, "killed": -9, "timeout": "TimeoutExpired"}


def test_a_child_asked_to_die_with_its_parent_dies_when_the_parent_is_killed() -> None:
    seen = _probe("orphans")
    try:
        assert seen["die_with_parent"] == "gone"  # killed with the server, which died with us
        assert seen["survivor"] == "alive"  # a run worker outlives a killed daemon, as before
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(seen["survivor_pid"], 9)


def test_without_the_server_spawn_child_starts_a_fresh_interpreter() -> None:
    seen = _probe("describe", "/", env={"LEGATO_FORK_SERVER": "0"})
    assert seen["forked"] is False and seen["returncode"] == 0
    assert seen["child"]["sys_path0"] == "/"


def test_a_reused_pid_does_not_inherit_the_exit_status_of_its_earlier_child() -> None:
    """The server reports an exit before it can fork another child with that pid; the parent
    must then forget the old status, or the new child would look dead from its first poll."""
    from legato.execution.fork_server import ForkServer

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = ForkServer(ours, pid=0)
    try:
        server._ensure_reader()
        theirs.send(pickle.dumps(("exit", 4242, (0, 0.5))))
        theirs.send(pickle.dumps(("spawned", 7, 4242)))
        deadline = time.monotonic() + 10
        while 7 not in server._replies:
            assert time.monotonic() < deadline, "the reader never saw the reply"
            time.sleep(0.01)
        assert server.returncode(4242) is None
        theirs.send(pickle.dumps(("exit", 4242, (-9, 0.25))))
        assert server.wait(4242, 10) == -9
        assert server.children_cpu == 0.75  # each ended child's CPU, counted once
    finally:
        theirs.close()
        server.close()


def test_a_process_waits_at_exit_for_its_fork_server_to_end_and_reaps_it() -> None:
    """A server that stops (legato up, the daemon) leaves no process of its own behind."""
    script = (
        "import atexit, os\n"
        "from legato.execution import fork_server\n"
        "def check():\n"  # registered first, so it runs after the server's own exit handler
        "    try:\n"
        "        os.kill(server.pid, 0)\n"  # a zombie, not yet reaped, still answers
        "        print('left behind', flush=True)\n"
        "    except ProcessLookupError:\n"
        "        print('gone', flush=True)\n"
        "atexit.register(check)\n"
        "server = fork_server.start()\n"
        "assert server is not None\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["gone"], done.stdout + done.stderr
