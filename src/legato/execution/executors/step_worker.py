"""Entry point of a step worker: load the project once, then run steps until told to stop.

Step workers are the processes of the process-pool executor and the slots of a remote
``legato worker``; they run single step attempts. (The daemon's run workers, which execute whole
runs, are ``automation/run_worker``; the remote ``legato worker`` loop is ``execution/remote_worker``.)

Started as ``python -m legato.execution.executors.step_worker READ_FD WRITE_FD``. The first message is
(storage root, sys.path), the second the pickled project; the worker answers ``READY`` once the
project is loaded, then step specs, each answered by log chunks and an outcome; ``None`` means stop. EOF (the
engine died) also stops the worker.
"""

from __future__ import annotations

import pickle
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from legato._internal.masking import mask_process_output
from legato.execution.children import child_connections

# What a step worker imports besides the project: a process that forks step workers
# (fork_server) imports these once for all of them.
STEP_WORKER_MODULES = (
    "legato._internal.heap",
    "legato.execution.capture",
    "legato.execution.executors._step_child",
    "legato.execution.io.fs",
    "legato.execution.resources",
    "legato.execution.spec",
    "legato.execution.step",
)


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine decides when a step stops
    mask_process_output()
    recv, send = child_connections(argv)
    try:
        storage, path = recv.recv()  # plain strings: safe to read before user code is importable
        sys.path[:0] = [p for p in path if p not in sys.path]
        project = pickle.loads(recv.recv_bytes())  # definitions travel by module reference
    except EOFError:
        return

    from legato._internal.heap import settle
    from legato.execution.capture import capturing
    from legato.execution.executors._step_child import READY
    from legato.execution.io.fs import FilesystemIOManager
    from legato.execution.resources import WorkerEnv
    from legato.execution.spec import LogChunk, StepSpec
    from legato.execution.step import run_step

    # the engine made the signing key before starting us; a worker never makes one of its own
    env = WorkerEnv(project, FilesystemIOManager(Path(storage), create_key=False))
    settle()  # the project and its graph live as long as this process
    sending = threading.Lock()  # log batches are also sent by the log-flush thread
    send.send(READY)  # a step's timeout counts from here, not from this process's start
    with capturing():
        while True:
            try:
                spec = recv.recv()
            except EOFError:
                break
            if spec is None:
                break

            def send_logs(batch: list[Any], spec: StepSpec = spec) -> None:
                with sending:
                    send.send(LogChunk(spec.step, spec.attempt, batch))

            outcome = run_step(spec, env, send_logs)
            with sending:
                send.send(outcome)
    env.close()


if __name__ == "__main__":
    main(sys.argv[1:])
