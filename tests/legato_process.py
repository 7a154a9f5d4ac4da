"""Running the ``legato`` command as a user does, in a test: one command to completion, or the
daemon, started in a project and stopped.

The daemon's output goes to a file, not a pipe: the processes it starts inherit it and may
outlive a daemon that a test kills.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cli_forks
from polling import poller

_wait = poller(timeout=5.0, interval=0.05)


def run_legato(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``legato ARGS`` in ``cwd``, to completion; with ``check``, a non-zero exit fails the test
    with the command's output."""
    result = cli_forks.run(cwd, args, dict(env if env is not None else os.environ), timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"legato {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def start_daemon(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> Any:
    """``legato daemon ARGS`` in ``cwd``, in a session of its own; ``.log`` is its output file."""
    log = open(cwd / f"daemon-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 - closed by stop
    environment = dict(env if env is not None else os.environ)
    proc = cli_forks.start(cwd, ("daemon", *args), environment, log.fileno())
    proc.log = log
    return proc


def stop_daemon(proc: Any, sig: int = signal.SIGTERM, timeout: float = 60) -> str:
    """Signal the daemon's process group (SIGTERM: a clean stop), wait, return its output.

    A daemon that has not stopped after ``timeout`` s fails the test with its output, which
    then ends with every thread's stack (SIGUSR1); it is killed and reaped first, whatever
    happens, so that nothing outlives the test."""
    try:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _dump_stacks(proc)
            raise AssertionError(
                f"the daemon did not stop within {timeout:g} s of {signal.Signals(sig).name}:\n"
                + Path(proc.log.name).read_text(errors="replace")
            ) from None
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        proc.log.close()
    return Path(proc.log.name).read_text()


def _dump_stacks(proc: Any) -> None:
    """Ask a running ``legato`` process for its threads' stacks (in its log) and wait for them."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGUSR1)
    log = Path(proc.log.name)
    with contextlib.suppress(AssertionError):  # none within the time: the log says what it has
        _wait(lambda: "most recent call first" in log.read_text(errors="replace"), what="stacks")
