"""Health probe and the overview: what runs now, what failed lately, how the daemon is."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from legato.events.status import RunStatus
from legato.store.run_search import RunFilter
from legato.store.runs import list_runs
from legato.store.web_queries import ping
from legato.web.api._convert import run_out
from legato.web.api.params import Defs, State
from legato.web.policy import V1
from legato.web.schemas import HealthOut
from legato.web.schemas_runs import OverviewOut

router = APIRouter(prefix=V1, tags=["system"])

RECENT_FAILURES_WINDOW = 24 * 3600.0
# What a probe without credentials learns of the daemon: whether it runs, not who it is (its id
# names the host and process).
_PUBLIC_DAEMON_FIELDS = ("state", "running")


@router.get("/health", response_model=HealthOut)
def health(request: Request, state: State) -> HealthOut:
    """Liveness and readiness: 200 once the server answers and the store is reachable (503 with
    the error shape otherwise). Needs no login; the daemon's id and details are shown only to a
    logged-in caller."""
    ping(state.store)
    daemon = state.daemon()
    if getattr(request.state, "principal", None) is None:
        daemon = {k: v for k, v in daemon.items() if k in _PUBLIC_DAEMON_FIELDS}
    return HealthOut(status="ok", daemon=daemon)


@router.get("/overview", response_model=OverviewOut)
def overview(state: State, defs: Defs) -> OverviewOut:
    """Runs in progress, queued runs, failures of the last 24 hours, and the daemon's health."""
    active = (RunStatus.RUNNING.value, RunStatus.CANCELING.value)
    running = list_runs(state.store, RunFilter(statuses=active), limit=50)
    queued = list_runs(state.store, RunFilter(statuses=(RunStatus.QUEUED.value,)), limit=20)
    since = time.time() - RECENT_FAILURES_WINDOW
    failed = list_runs(
        state.store, RunFilter(statuses=(RunStatus.FAILED.value,), created_after=since), limit=20
    )
    return OverviewOut(
        running=[run_out(r) for r in running],
        queued=[run_out(r) for r in queued],
        recent_failures=[run_out(r) for r in failed],
        daemon=state.daemon(),
        definition_errors=len(defs.errors),
    )
