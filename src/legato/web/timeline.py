"""Attempts of each step, from a run's events: what the Gantt timeline of the run page draws."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_ENDS = {
    "step_succeeded": "succeeded",
    "step_failed": "failed",
    "step_retry": "failed",  # this attempt failed; another follows
    "step_cancelled": "cancelled",
}


def attempts_by_step(events: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``{step_key: [{attempt, started_at, ended_at, status}, ...]}`` in attempt order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        step, kind = event.get("step") or "", event.get("type")
        if not step:
            continue
        attempts = out.setdefault(step, [])
        if kind in ("step_started", "step_expanded"):
            attempts.append(
                {
                    "attempt": int(event.get("attempt") or 0),
                    "started_at": event.get("ts"),
                    "ended_at": None,
                    "status": "running",
                }
            )
        elif kind in _ENDS and attempts and attempts[-1]["ended_at"] is None:
            attempts[-1]["ended_at"] = event.get("ts")
            attempts[-1]["status"] = _ENDS[kind]
            began = (event.get("data") or {}).get("started_at")
            if isinstance(began, int | float):  # began to execute (its start event: handed over)
                attempts[-1]["started_at"] = began
    return {k: v for k, v in out.items() if v}
