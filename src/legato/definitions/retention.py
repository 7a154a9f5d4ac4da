"""``Retention``: how long the runs of a pipeline are kept, as pure data.

A run is deleted (with its steps, events and logs) once it is older than ``days`` or no longer
among the newest ``runs`` of its pipeline, whichever comes first; ``Retention()`` keeps every run.
Some runs are always kept whatever the policy says: see ``legato.store.retention``.

An invalid policy is reported where it is given (a pipeline, ``legato.toml``), so the error
names that place; ``problem`` says what is wrong and how to fix it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Retention:
    """How long runs are kept: at most ``days`` old and at most the newest ``runs`` of their
    pipeline (either limit may be left out; with neither, every run is kept).

    Example:
        >>> nightly = Pipeline("nightly", retention=Retention(days=30, runs=1000))
    """

    days: Any = None
    runs: Any = None
    problem: tuple[str, str] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        days, runs = self.days, self.runs
        if days is not None and (
            isinstance(days, bool)
            or not isinstance(days, int | float)
            or not math.isfinite(days)
            or days <= 0
        ):
            problem = (f"days={days!r} is not a number of days > 0", "write days=30")
        elif runs is not None and (isinstance(runs, bool) or not isinstance(runs, int) or runs < 1):
            problem = (f"runs={runs!r} is not a whole number ≥ 1", "write runs=1000")
        else:
            return
        object.__setattr__(self, "problem", problem)

    @property
    def keeps_everything(self) -> bool:
        return self.days is None and self.runs is None

    def describe(self) -> dict[str, Any]:
        """The policy as plain data (for the definitions snapshot)."""
        return {"days": self.days, "runs": self.runs}

    @classmethod
    def from_description(cls, data: Any) -> Retention | None:
        """The policy a snapshot describes, or None if it describes none (or an invalid one)."""
        if not isinstance(data, dict):
            return None
        policy = cls(days=data.get("days"), runs=data.get("runs"))
        return None if policy.problem else policy
