"""Code locations: where the daemon asks for snapshots and trigger evaluations.

``SubprocessCode`` keeps the user's code in a child process (``python -m
legato.automation.code_server``), so broken or hostile code can hang or crash only that child:
it is killed at its timeout and started again. ``InProcessCode`` evaluates in this process, for
tests and the virtual clock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from legato.automation.backfill_plans import plan_recorded
from legato.automation.evaluate import evaluate
from legato.automation.evaluation import Evaluation, read_evaluation
from legato.definitions.project import Project
from legato.errors import LegatoError, SnapshotError
from legato.execution import fork_server
from legato.execution.children import with_pipes
from legato.graph.build import build_graph
from legato.graph.snapshot import DefinitionsSnapshot, read_snapshot, snapshot
from legato.store.engine import Store


class CodeLocation(Protocol):
    def snapshot(self) -> DefinitionsSnapshot: ...

    def evaluate(self, request: Mapping[str, Any]) -> Evaluation: ...

    def plan_backfill(self, backfill_id: str) -> dict[str, Any]: ...

    def interrupt(self) -> None: ...

    def close(self) -> None: ...


class CodeServerError(LegatoError):
    """The code server failed, timed out or answered with an error."""


class InProcessCode:
    """Evaluates triggers with a project loaded in this process."""

    def __init__(self, project: Project, store: Store) -> None:
        self.project = project
        self.graph = build_graph(project)
        self.store = store

    def snapshot(self) -> DefinitionsSnapshot:
        return snapshot(self.project, self.graph)

    def evaluate(self, request: Mapping[str, Any]) -> Evaluation:
        try:
            return evaluate(self.project, self.graph, self.store, request)
        except LegatoError:
            raise
        except Exception as exc:  # user code failed: the tick fails, the daemon goes on
            raise CodeServerError(
                f"{type(exc).__name__}: {exc}",
                hint="fix the trigger's function; see the tick history",
            ) from exc

    def plan_backfill(self, backfill_id: str) -> dict[str, Any]:
        return plan_recorded(self.graph, self.store, backfill_id)

    def interrupt(self) -> None:
        pass  # user code runs in the caller's thread: nothing waits on another process

    def close(self) -> None:
        pass


class SubprocessCode:
    """Talks JSON lines to a child process that loads the project; restarts it when it fails."""

    def __init__(
        self, project_dir: Path, *, timeout: float = 60.0, env: Mapping[str, str] | None = None
    ) -> None:
        self.project_dir = project_dir
        self.timeout = timeout
        self.env = dict(env or os.environ)
        self._proc: subprocess.Popen[str] | fork_server.Forked | None = None
        self._lock = threading.Lock()
        self._last_snapshot: tuple[bytes, DefinitionsSnapshot] | None = None
        self._interrupted = False
        self._interrupt_pipe: tuple[int, int] | None = None  # wakes a wait for an answer

    def _start(self) -> subprocess.Popen[str] | fork_server.Forked:
        if self._proc is None or self._proc.poll() is not None:
            server = fork_server.current()
            if server is not None:
                self._proc = _forked(server, self.project_dir, self.env)
            else:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "legato.automation.code_server"],
                    cwd=self.project_dir,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=None,
                    text=True,
                    env=self.env,
                    start_new_session=True,
                )
        return self._proc

    def _call(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return self._answer(self._call_line(request))

    def _call_line(self, request: Mapping[str, Any]) -> str:
        """The code server's answer to ``request``: one line of JSON."""
        with self._lock:
            if self._interrupted:
                raise CodeServerError("the daemon is stopping: user code is not called now")
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request) + "\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._kill()
                raise CodeServerError("the code server died", hint=self._stderr_hint()) from None
            waited: list[Any] = [proc.stdout, self._interrupt_fd()]
            ready, _, _ = select.select(waited, [], [], self.timeout)
            if self._interrupted:
                self._kill()
                raise CodeServerError(
                    f"the daemon is stopping: {request.get('op')!r} was abandoned",
                    hint="user code that takes long (a sensor, a module import) is not awaited "
                    "by a daemon that stops",
                )
            if not ready:
                self._kill()
                raise CodeServerError(
                    f"the code server did not answer {request.get('op')!r} within "
                    f"{self.timeout:g} s; it was restarted",
                    hint="look for user code that blocks (a sensor, a module import)",
                )
            line = proc.stdout.readline()
            if not line:
                hint = self._stderr_hint()
                self._kill()
                raise CodeServerError("the code server exited", hint=hint)
        return line

    def _answer(self, line: str) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise CodeServerError(answer["error"], hint=answer.get("hint"))
        return answer

    def _stderr_hint(self) -> str:
        # The code server's stderr (user prints, tracebacks) goes to the daemon's own log; a pipe
        # nobody reads would block a chatty sensor once it filled.
        return "see the daemon's log for the code server's output"

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                os.killpg(self._proc.pid, 9)
            self._proc.wait(10)
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
            self._proc = None

    def snapshot(self) -> DefinitionsSnapshot:
        """The definitions; the same object as last time when the code server's answer is the
        same text (the daemon asks every few seconds: reading 10,000 nodes again costs a
        quarter of a second, comparing the text a few milliseconds)."""
        line = self._call_line({"op": "snapshot"})
        digest = hashlib.sha256(line.encode()).digest()
        if self._last_snapshot is not None and self._last_snapshot[0] == digest:
            return self._last_snapshot[1]
        answer = self._answer(line)["snapshot"]
        try:
            snap = read_snapshot(answer, where="the snapshot the code server answered")
        except SnapshotError as exc:
            raise CodeServerError(
                exc.message,
                hint="the daemon and its code server must be the same Legato; restart the daemon",
            ) from exc
        self._last_snapshot = (digest, snap)
        return snap

    def evaluate(self, request: Mapping[str, Any]) -> Evaluation:
        return read_evaluation(self._call({"op": "evaluate", **request})["result"])

    def plan_backfill(self, backfill_id: str) -> dict[str, Any]:
        answer = self._call({"op": "plan_backfill", "backfill_id": backfill_id})
        return answer["result"]  # type: ignore[no-any-return]

    def interrupt(self) -> None:
        """Abandon the answer being waited for, and every later call: the daemon is stopping,
        and user code still running (a sensor that sleeps) must not hold the stop up. Safe to
        call from a signal handler."""
        self._interrupted = True
        if self._interrupt_pipe is not None:
            with contextlib.suppress(OSError):
                os.write(self._interrupt_pipe[1], b"x")

    def _interrupt_fd(self) -> int:
        if self._interrupt_pipe is None:
            self._interrupt_pipe = os.pipe()
            os.set_blocking(self._interrupt_pipe[1], False)
        return self._interrupt_pipe[0]

    def close(self) -> None:
        with self._lock:
            self._kill()
            if self._interrupt_pipe is not None:
                for fd in self._interrupt_pipe:
                    os.close(fd)
                self._interrupt_pipe = None


def _forked(
    server: fork_server.ForkServer, cwd: Path, env: Mapping[str, str]
) -> fork_server.Forked:
    """The code server as a fork of the daemon's fork server, its stdin and stdout piped here."""

    def start(stdin: int, stdout: int) -> fork_server.Forked:
        return server.spawn(
            "legato.automation.code_server",
            (stdin, stdout),
            cwd=cwd,
            die_with_parent=False,
            stdio=True,
            env=env,
        )

    proc, to_stdin, from_stdout = with_pipes(start)
    proc.stdin = open(to_stdin, "w")  # noqa: SIM115 - closed with the process (_kill)
    proc.stdout = open(from_stdout)  # noqa: SIM115
    return proc
