"""Stopping a step that runs in a thread of this process (in-process, threads and Dask executors)."""

from __future__ import annotations

import ctypes


class StepInterrupted(KeyboardInterrupt):
    """The step was stopped from outside (its run was cancelled or taken over). Like Ctrl-C it
    passes every error boundary, up to the engine, which records the run as cancelled (or leaves
    it to the process that took it over)."""


def interrupt_thread(thread: int) -> None:
    """Raise StepInterrupted in thread ``thread`` at its next Python instruction."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), ctypes.py_object(StepInterrupted)
    )
