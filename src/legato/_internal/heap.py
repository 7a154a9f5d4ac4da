"""Keeping the garbage collector off what a process keeps for its whole life.

A process that executes runs (``legato run``, a daemon's run worker, a step worker) holds its
project's modules, definitions and graph until it exits. CPython's full collections traverse
every tracked object, and a run of thousands of steps makes enough objects to trigger a few: for
a project of a thousand steps, tens of milliseconds each, spent finding the project still alive.
:func:`settle` moves what is alive now into the permanent generation, which collections skip;
what is made afterwards is collected as usual.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Exempt every object alive now from future collections. Call it once the state the process
    keeps for its life is built. Garbage cycles alive at this moment (from imports, a one-off
    amount) are then never reclaimed, so call it once, not per run."""
    gc.freeze()
