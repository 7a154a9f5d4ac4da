"""How many steps of a plan could run at once: what a pool sizes its start-up by."""

from __future__ import annotations

from legato.definitions.keys import StepKey
from legato.graph.plan import Plan


def widest_wave(plan: Plan) -> int:
    """The most steps to execute that share a depth in the dependency order (0 when a dynamic
    fan-out makes the width unknown until run time). Reused steps do not run."""
    if any(s.template for s in plan.steps):
        return 0
    depth: dict[StepKey, int] = {}
    waves: dict[int, int] = {}
    for s in plan.steps:  # dependency order: every step after what it waits for
        if s.key in plan.reused:
            continue
        d = 1 + max((depth.get(w, -1) for w in s.waits_for), default=-1)
        depth[s.key] = d
        waves[d] = waves.get(d, 0) + 1
    return max(waves.values(), default=0)
