"""A step worker process as its pool sees it, and the clock of the step it runs.

A step's timeout counts the step's own run time: it starts when the worker is ready to run it,
not when the spec is sent. A fresh worker first starts Python and loads the project (seconds on
a loaded machine); it says ``READY`` once, and a step sent before that starts its clock then (a
worker that never gets there still ends its step, ``BOOT_GRACE`` s later).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from legato.execution.children import Child
from legato.execution.spec import StepSpec

READY = "ready"  # what a step worker sends once, when its project is loaded
BOOT_GRACE = 120.0  # seconds a worker may take to load the project before its step's clock runs


@dataclass
class StepChild(Child):
    spec: StepSpec | None = None
    deadline: float | None = None
    booted: bool = False

    def assign(self, spec: StepSpec) -> None:
        """Give this worker ``spec``; its clock starts now if the worker is ready."""
        self.spec = spec
        self.deadline = self._deadline(0.0 if self.booted else BOOT_GRACE)

    def saw_ready(self) -> None:
        self.booted = True
        self.deadline = self._deadline()

    def release(self) -> None:
        """The step ended (or was taken away): no spec, no clock."""
        self.spec = self.deadline = None

    def overran(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline

    def _deadline(self, grace: float = 0.0) -> float | None:
        spec = self.spec
        if spec is None or not spec.timeout:
            return None
        return time.monotonic() + grace + spec.timeout
