"""Subprocess steps: run a command from inside a step, its output streamed into the step's logs.

``run_command(["dbt", "run"])`` starts the command in its own session (process group), relays
its stdout and stderr line by line through the step's captured streams while it runs, and turns
its exit code into success or a :class:`CommandFailed` that names the command and shows the last
lines of stderr. Argument lists never go through a shell; ``shell=True`` must be asked for.

The command's whole process group is killed when the call times out or is interrupted (an
in-process step timeout, Ctrl-C), and also when the process calling it dies: a small guard
process, outside every group an executor kills, holds a pipe from the caller and kills the
command's group when that pipe closes (a SIGKILLed pool worker, a lost Dask worker, ``kill -9``).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from legato.definitions.policies import Retry
from legato.definitions.step import StepDef
from legato.definitions.task import task
from legato.errors import LegatoError, StepError

TAIL_LINES = 20
_POLL = 0.1  # how often a silent command is checked for having exited
_DRAIN = 0.5  # how long pipes held open by leftovers of an exited command are still read
_EXIT_POLL = 0.005  # how often a command that closed its pipes is checked for having exited
# The guard: read the command's group id, then wait. "done" means the caller reaped the command
# itself; anything else (EOF: the caller died) means kill the group.
_GUARD = 'read g; read x; [ "$x" = done ] || kill -s KILL -- "-$g" 2>/dev/null'


class CommandRefused(LegatoError, ValueError):
    """``run_command`` was called in a way that could run something other than intended."""


class CommandFailed(StepError):
    """A command exited with a non-zero code (or was killed)."""

    def __init__(
        self,
        command: str,
        returncode: int,
        stderr_tail: Sequence[str],
        *,
        how: str | None = None,
        hint: str = "see the step's logs for its full output",
    ) -> None:
        self.command = command
        self.returncode = returncode
        self.stderr_tail = tuple(stderr_tail)
        if how is None:
            how = (
                f"was killed by signal {_signal_name(-returncode)}"
                if returncode < 0
                else f"exited with code {returncode}"
            )
        tail = "\n".join(self.stderr_tail)
        super().__init__(
            f"command {command!r} {how}" + (f"; last lines of stderr:\n{tail}" if tail else ""),
            obj=command,
            hint=hint,
        )


class CommandTimeout(CommandFailed, TimeoutError):
    """A command ran past its ``timeout`` and its process group was killed."""

    def __init__(self, command: str, timeout: float, stderr_tail: Sequence[str]) -> None:
        super().__init__(
            command,
            -signal.SIGKILL,
            stderr_tail,
            how=f"ran longer than its timeout of {timeout:g} s and was killed",
            hint="raise timeout= or make the command faster",
        )


@dataclass(frozen=True)
class CommandResult:
    """What a finished command did. ``stdout_tail``/``stderr_tail`` keep its last lines."""

    command: str
    returncode: int
    duration: float
    stdout_tail: tuple[str, ...] = ()
    stderr_tail: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_command(
    args: Sequence[str] | str,
    *,
    shell: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    check: bool = True,
    kill_grace: float = 2.0,
) -> CommandResult:
    """Run a command, streaming its output into the current step's logs.

    Args:
        args: the program and its arguments as a list (``["dbt", "run", "--select", model]``);
            a single string only with ``shell=True``.
        shell: run ``args`` (a string) with ``/bin/sh -c``. Never pass untrusted text.
        env: variables laid over the current environment.
        cwd: working directory.
        timeout: seconds; then the group gets SIGTERM, ``kill_grace`` s later SIGKILL, and
            :class:`CommandTimeout` is raised.
        check: raise :class:`CommandFailed` on a non-zero exit code (else return the result).

    Example:
        >>> run_command(["echo", "hello"]).stdout_tail
        ('hello',)
    """
    argv, shown = _argv(args, shell)
    full_env = {**os.environ, **env} if env is not None else None
    guard = _start_guard()
    started = time.perf_counter()
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd=cwd,
            start_new_session=True,  # its own group: killed as one, apart from the caller's
        )
    except OSError as exc:
        _stop_guard(guard, None)
        raise CommandFailed(shown, 127, [f"{type(exc).__name__}: {exc}"]) from exc
    _arm_guard(guard, process.pid)
    try:
        outcome = _relay(process, timeout, kill_grace)
    except BaseException:  # interrupted (a step timeout, a cancel, Ctrl-C): kill the group
        _kill_group(process.pid, signal.SIGKILL)
        raise
    finally:
        _reap(process, guard)
    timed_out, out_tail, err_tail = outcome
    if timed_out:
        assert timeout is not None
        raise CommandTimeout(shown, timeout, err_tail)
    result = CommandResult(
        shown, process.returncode, time.perf_counter() - started, out_tail, err_tail
    )
    if check and process.returncode != 0:
        raise CommandFailed(shown, process.returncode, err_tail)
    return result


def command_step(
    key: str,
    args: Sequence[str] | str,
    *,
    shell: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    deps: Iterable[str] = (),
    retries: Retry | int | None = None,
    group: str | None = None,
    pool: str | None = None,
) -> StepDef:
    """Declare a task that runs one command (its result is the :class:`CommandResult`).

    ``timeout`` applies to the command (the step itself gets a little more, to report it).

    Example:
        >>> dbt_run = command_step("dbt_run", ["dbt", "run"], deps=["raw_orders"], timeout=600)
    """
    _argv(args, shell)  # refuse a bad call where it is declared, not when it first runs
    fixed_args = args if isinstance(args, str) else list(args)
    fixed_env = dict(env) if env is not None else None
    fixed_cwd = str(cwd) if cwd is not None else None

    def run() -> CommandResult:
        return run_command(fixed_args, shell=shell, env=fixed_env, cwd=fixed_cwd, timeout=timeout)

    run.__doc__ = f"Run {fixed_args!r}."
    return task(
        key=key,
        deps=list(deps),
        retries=retries,
        timeout=timeout + 5.0 if timeout else None,
        group=group,
        pool=pool,
    )(run)


# -- internals -------------------------------------------------------------------------------------


def _argv(args: Sequence[str] | str, shell: bool) -> tuple[list[str], str]:
    if isinstance(args, str):
        if not shell:
            raise CommandRefused(
                f"run_command got the string {args!r} without shell=True",
                obj=args,
                hint=f"pass a list of arguments ({shlex.split(args)!r}), or shell=True if you "
                "need the shell and the string holds no untrusted text",
            )
        return ["/bin/sh", "-c", args], args
    argv = list(args)
    if shell:
        raise CommandRefused(
            f"run_command got a list {argv!r} with shell=True",
            obj=" ".join(argv),
            hint="drop shell=True (a list never needs a shell), or pass one command string",
        )
    if not argv or not all(isinstance(a, str | os.PathLike) for a in argv):
        raise CommandRefused(
            f"run_command needs a non-empty list of strings, got {argv!r}",
            obj=repr(argv),
            hint='write run_command(["program", "arg", ...])',
        )
    argv = [os.fspath(a) for a in argv]
    return argv, shlex.join(argv)


def _relay(
    process: subprocess.Popen[bytes], timeout: float | None, grace: float
) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """Copy the command's lines to this thread's stdout/stderr until it has exited.

    Returns ``(timed_out, stdout_tail, stderr_tail)``; the command is left unreaped.
    """
    assert process.stdout is not None and process.stderr is not None
    tails = {"stdout": deque[str](maxlen=TAIL_LINES), "stderr": deque[str](maxlen=TAIL_LINES)}
    partial = {"stdout": b"", "stderr": b""}
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = False
    drain_until: float | None = None
    try:
        while True:
            reading = bool(selector.get_map())
            if not reading and _exited(process.pid, block=deadline is None):
                break
            wait = _POLL if reading else _EXIT_POLL
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            if reading:
                events = selector.select(wait)
            else:
                events = []
                time.sleep(wait)
            if deadline is not None and time.monotonic() >= deadline:
                if timed_out:  # SIGTERM was ignored for the grace period
                    _kill_group(process.pid, signal.SIGKILL)
                    _exited(process.pid, block=True)
                    break
                timed_out = True
                _kill_group(process.pid, signal.SIGTERM)
                deadline = time.monotonic() + grace
            if reading and not events and _exited(process.pid):
                # The command is gone but something it started keeps its pipes open: give it a
                # moment to flush, then stop reading (the group is killed on the way out).
                drain_until = drain_until or time.monotonic() + _DRAIN
                if time.monotonic() >= drain_until:
                    break
            for key, _ in events:
                name = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    if partial[name]:
                        _emit(name, partial[name], tails)
                    continue
                *lines, partial[name] = (partial[name] + chunk).split(b"\n")
                for line in lines:
                    _emit(name, line, tails)
    finally:
        selector.close()
    return timed_out, tuple(tails["stdout"]), tuple(tails["stderr"])


def _exited(pid: int, *, block: bool = False) -> bool:
    """True once ``pid`` has exited (it is left unreaped, so its group id cannot be reused)."""
    flags = os.WEXITED | os.WNOWAIT | (0 if block else os.WNOHANG)
    try:
        return os.waitid(os.P_PID, pid, flags) is not None
    except ChildProcessError:
        return True


def _emit(name: str, raw: bytes, tails: dict[str, deque[str]]) -> None:
    line = raw.decode("utf-8", errors="replace").rstrip("\r")
    tails[name].append(line)
    stream: IO[str] = sys.stdout if name == "stdout" else sys.stderr
    stream.write(line + "\n")  # the step's captured stream when a step is running


def _start_guard() -> subprocess.Popen[bytes] | None:
    try:
        return subprocess.Popen(
            ["/bin/sh", "-c", _GUARD],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # outside the groups executors kill, so it outlives them
        )
    except OSError:  # no /bin/sh: timeouts and interrupts still kill the group
        return None


def _arm_guard(guard: subprocess.Popen[bytes] | None, pgid: int) -> None:
    if guard is not None and guard.stdin is not None:
        with contextlib.suppress(OSError):
            guard.stdin.write(f"{pgid}\n".encode())
            guard.stdin.flush()


def _stop_guard(guard: subprocess.Popen[bytes] | None, pgid: int | None) -> None:
    if guard is None or guard.stdin is None:
        return
    with contextlib.suppress(OSError):
        if pgid is None:
            guard.stdin.write(b"0\n")
        guard.stdin.write(b"done\n")
        guard.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        guard.wait(5)


def _reap(process: subprocess.Popen[bytes], guard: subprocess.Popen[bytes] | None) -> None:
    # Wait without reaping, so the group id cannot be reused, then kill what the command left
    # behind in its group (daemonised grandchildren), tell the guard, and only then reap.
    _exited(process.pid, block=True)
    _kill_group(process.pid, signal.SIGKILL)
    _stop_guard(guard, process.pid)
    process.wait()
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
