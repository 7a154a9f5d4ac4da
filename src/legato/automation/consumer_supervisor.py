"""The daemon's message consumers: one child process (``legato.automation.consumers``) kept
running while any pipeline has an ``OnMessage`` trigger, restarted at the daemon's next look
(every iteration, twice a second by default) when it exits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from legato.automation.tick_report import TickReport
from legato.definitions.trigger_specs import kind_of
from legato.store.snapshots import SnapshotCache


class ConsumerSupervisor:
    def __init__(self, project_dir: Path, snapshots: SnapshotCache, *, enabled: bool) -> None:
        self.project_dir, self.snapshots, self.enabled = project_dir, snapshots, enabled
        self._child: subprocess.Popen[bytes] | None = None

    def stop(self, deadline: float) -> None:
        """Ask the child to stop after its current batch; kill it at ``deadline`` (monotonic):
        messages it had not acknowledged are delivered again."""
        child = self._child
        if child is None:
            return
        if child.poll() is None:
            child.terminate()
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def check(self, report: TickReport) -> None:
        """Keep the message-consumer child running while any pipeline has an OnMessage trigger."""
        snap = self.snapshots.get()
        wanted = any(kind_of(t) == "message" for p in snap.pipelines for t in p.triggers)
        proc = self._child
        if not wanted or not self.enabled or (proc is not None and proc.poll() is None):
            return
        if proc is not None:
            report.errors.append(f"message consumers exited with {proc.returncode}; restarting")
        self._child = subprocess.Popen(
            [sys.executable, "-m", "legato.automation.consumers", "--daemon-pid", str(os.getpid())],
            cwd=self.project_dir,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
