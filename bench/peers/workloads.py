"""The benchmark workloads, shared by every peer script and by the runner.

Each workload is a DAG of no-op steps with one of three shapes:

* ``single``: one step (W0), the fixed cost of starting a run;
* ``fanout``: root -> N parallel no-op steps -> join (W1: N=200, W3: N=1000);
* ``chain``: N no-op steps in sequence (W2: N=100).

``steps`` is the number of steps each workload executes, and is what the
per-step overhead is divided by. Stdlib only, so every peer venv can import it.

Every system's steps pass ints, the same values everywhere: the first step
returns 1; a chain step returns its upstream's value + 1; fan-out item ``i``
returns ``i + 1`` (its root's 1 + ``i``) and the join returns their sum. So
``result`` is 1 for W0, n for a chain and n(n+1)/2 for a fan-out. Each script
prints one ``bench-report`` line (``report``) with the steps it saw finish and
the final value; the runner checks both against ``steps`` and ``result`` after
every run.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Literal

Shape = Literal["single", "fanout", "chain"]


@dataclass(frozen=True)
class Workload:
    """One benchmark workload: a shape and its width or length."""

    name: str
    shape: Shape
    n: int

    @property
    def steps(self) -> int:
        """Number of steps executed: fan-out adds its root and its join."""
        if self.shape == "fanout":
            return self.n + 2
        return self.n

    @property
    def result(self) -> int:
        """The value the last step returns (see the module docstring)."""
        if self.shape == "fanout":
            return self.n * (self.n + 1) // 2
        return self.n


REPORT_PREFIX = "bench-report "


def report(steps: int, result: object) -> None:
    """Print what a run did, for the runner to check: steps finished and the final value."""
    print(REPORT_PREFIX + json.dumps({"steps": steps, "result": result}), flush=True)


WORKLOADS: dict[str, Workload] = {
    "W0": Workload("W0", "single", 1),
    "W1": Workload("W1", "fanout", 200),
    "W2": Workload("W2", "chain", 100),
    "W3": Workload("W3", "fanout", 1000),
}


def get(name: str) -> Workload:
    """Return the workload called ``name`` (W0..W3)."""
    try:
        return WORKLOADS[name]
    except KeyError:
        raise SystemExit(f"unknown workload {name!r}; choose from {sorted(WORKLOADS)}") from None


def parser(description: str, modes: list[str], default_mode: str) -> argparse.ArgumentParser:
    """The command line every peer script shares: --workload and --mode."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    p.add_argument("--mode", choices=modes, default=default_mode)
    return p
