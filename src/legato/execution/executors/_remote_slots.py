"""The step processes of one ``legato worker``: one long-lived process per slot, one step each.

Slots run the process pool's worker entry point (``executors.step_worker``), so a step runs the same
way on a remote worker as in a local pool. Each job carries the queue row it came from, so
outcomes never mix up two runs' attempts of the same step. A slot that crashes fails only its
step (``WorkerLost``); one past its deadline is killed (``StepTimeout``). On Linux every slot also
dies with its worker (``PR_SET_PDEATHSIG``), so a SIGKILLed worker leaves no step running.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from legato.execution.children import how_it_ended, spawn_child
from legato.execution.executors._step_child import READY, StepChild
from legato.execution.executors.base import Message, WorkerLost
from legato.execution.spec import StepOutcome, StepSpec
from legato.execution.step import StepTimeout, describe_error


@dataclass
class _Slot(StepChild):
    job: int | None = None


class SlotPool:
    """Up to ``size`` step processes, started on demand with the worker's project."""

    def __init__(self, size: int, boot: bytes, storage: str, sys_path: Sequence[str]) -> None:
        self.size = size
        self._boot = boot
        self._paths = (storage, tuple(sys_path))
        self._slots: list[_Slot] = []

    @property
    def free(self) -> int:
        return self.size - sum(1 for s in self._slots if s.job is not None)

    @property
    def busy(self) -> list[int]:
        return [s.job for s in self._slots if s.job is not None]

    def start(self, job: int, spec: StepSpec) -> None:
        """Run ``spec`` (for queue row ``job``) on a free slot."""
        slot = next((s for s in self._slots if s.job is None), None) or self._spawn()
        slot.job = job
        slot.assign(spec)
        try:
            slot.send.send(spec)
        except OSError:  # the idle slot had died: its replacement takes the job
            self._kill(slot)
            self.start(job, spec)

    def poll(
        self, timeout: float, also: Sequence[Any] = ()
    ) -> tuple[list[tuple[int, Message]], bool]:
        """Wait up to ``timeout`` s for messages; also wake if one of ``also`` is readable.

        Returns ``(job, message)`` pairs and whether one of ``also`` became readable.
        """
        busy = [s for s in self._slots if s.job is not None]
        deadlines = [s.deadline for s in busy if s.deadline is not None]
        if deadlines:
            timeout = min(timeout, max(0.0, min(deadlines) - time.monotonic()))
        ready = set(wait([*(s.recv for s in busy), *also], timeout))
        out: list[tuple[int, Message]] = []
        for slot in busy:
            if slot.recv in ready:
                self._receive(slot, out)
            elif slot.overran(time.monotonic()):
                job, spec = slot.job, slot.spec
                assert job is not None and spec is not None
                self._kill(slot)
                error = describe_error(
                    StepTimeout(f"step ran longer than its timeout of {spec.timeout:g} s")
                )
                out.append((job, StepOutcome(spec.step, spec.attempt, False, error=error)))
        return out, any(a in ready for a in also)

    def abandon(self, job: int) -> None:
        """Stop the step of ``job`` now (its lease was lost or it was cancelled)."""
        for slot in list(self._slots):
            if slot.job == job:
                self._kill(slot)

    def close(self, *, kill: bool = False) -> None:
        for slot in list(self._slots):
            if kill or slot.job is not None:
                self._kill(slot)
                continue
            with contextlib.suppress(OSError):
                slot.send.send(None)
        for slot in list(self._slots):
            try:
                slot.process.wait(5)
            except subprocess.TimeoutExpired:
                self._kill(slot)
                continue
            self._close(slot)

    def _receive(self, slot: _Slot, out: list[tuple[int, Message]]) -> None:
        job = slot.job
        assert job is not None
        try:
            while slot.recv.poll():
                message = slot.recv.recv()
                if message == READY:
                    slot.saw_ready()
                    continue
                out.append((job, message))
                if isinstance(message, StepOutcome):
                    slot.job = None
                    slot.release()
                    return
        except (EOFError, OSError):
            spec = slot.spec
            assert spec is not None
            why = how_it_ended(slot.process, "the step process")
            self._kill(slot)
            error = describe_error(WorkerLost(why))
            out.append((job, StepOutcome(spec.step, spec.attempt, False, error=error)))

    def _spawn(self) -> _Slot:
        # its own session: a timeout kills the step's whole group, not the worker
        slot = _Slot(*spawn_child("legato.execution.executors.step_worker", die_with_parent=True))
        slot.send.send(self._paths)
        slot.send.send_bytes(self._boot)
        self._slots.append(slot)
        return slot

    def _kill(self, slot: _Slot) -> None:
        slot.job = None
        slot.release()
        slot.kill()
        self._close(slot)

    def _close(self, slot: _Slot) -> None:
        slot.close()
        if slot in self._slots:
            self._slots.remove(slot)
