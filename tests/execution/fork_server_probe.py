"""Drives the fork server from a fresh process (it needs a single thread at start); prints what
it saw as JSON on its last line. Used by tests/execution/test_fork_server.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ["PYTHONPATH"] = str(Path(__file__).parent)  # for a fresh interpreter's child

from legato.execution import fork_server
from legato.execution.children import spawn_child


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def describe(cwd: str) -> dict:
    server = fork_server.start()
    os.environ["PROBE_MARK"] = "from the parent's environment at spawn time"
    process, send, recv = spawn_child("fork_server_child", cwd=Path(cwd))
    send.send("describe")
    child = json.loads(recv.recv())
    child["parent_is_server"] = server is not None and child["parent"] == server.pid
    return {
        "forked": server is not None,
        "server": None if server is None else server.pid,
        "parent": os.getpid(),
        "child": child,
        "returncode": process.wait(10),
    }


def endings() -> dict:
    fork_server.start()
    out: dict = {}
    for how in ("exit", "raise"):
        process, send, _ = spawn_child("fork_server_child")
        send.send(how)
        out[how] = process.wait(10)
    process, send, _ = spawn_child("fork_server_child")
    send.send("hold")
    try:
        process.wait(0.2)
    except subprocess.TimeoutExpired as exc:
        out["timeout"] = type(exc).__name__
    os.killpg(process.pid, signal.SIGKILL)
    out["killed"] = process.wait(10)
    return out


def orphans() -> dict:
    """A middle process makes its server and two children, then is killed."""
    read, write = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(read)
        null = os.open(os.devnull, os.O_WRONLY)  # the survivor must not hold our output open
        os.dup2(null, 1)
        os.dup2(null, 2)
        fork_server.start()
        doomed, send_a, _ = spawn_child("fork_server_child", die_with_parent=True)
        survivor, send_b, _ = spawn_child("fork_server_child")
        send_a.send("hold")
        send_b.send("hold")
        os.write(write, json.dumps([doomed.pid, survivor.pid]).encode())
        time.sleep(60)
        os._exit(0)
    os.close(write)
    doomed_pid, survivor_pid = json.loads(os.read(read, 1000))
    os.kill(middle, signal.SIGKILL)
    os.waitpid(middle, 0)
    deadline = time.monotonic() + 10
    while _alive(doomed_pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return {
        "die_with_parent": "alive" if _alive(doomed_pid) else "gone",
        "survivor": "alive" if _alive(survivor_pid) else "gone",
        "survivor_pid": survivor_pid,
    }


if __name__ == "__main__":
    what, *rest = sys.argv[1:]
    result = {"describe": describe, "endings": endings, "orphans": orphans}[what](*rest)
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # not waiting for the children a test left holding
