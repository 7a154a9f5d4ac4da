"""Runs, read side: filtered pages (keyset cursor), one run, its steps with attempts, its events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from legato.events.status import RunStatus
from legato.store.run_search import RunFilter
from legato.store.runs import get_events, get_run, get_steps
from legato.store.runs import list_runs as runs_matching
from legato.web.api._convert import decode_cursor, encode_cursor, error_out, run_out
from legato.web.api.params import (
    AfterId,
    KeyQuery,
    Limit,
    PartitionQuery,
    RunId,
    State,
    TagQuery,
    Timestamp,
)
from legato.web.policy import V1
from legato.web.schemas_runs import (
    AttemptOut,
    EventOut,
    EventPage,
    RunOut,
    RunPage,
    StepOut,
    StepsOut,
)
from legato.web.timeline import attempts_by_step

router = APIRouter(prefix=V1, tags=["runs"])

Statuses = Annotated[list[RunStatus], Query(max_length=6, description="repeat to match several")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the last page")]
Trigger = Annotated[str | None, Query(max_length=255, description="e.g. api:alice, schedule:x")]


@router.get("/runs", response_model=RunPage)
def list_runs(
    state: State,
    status: Statuses = [],  # noqa: B006 - FastAPI copies defaults per request
    pipeline: KeyQuery = None,
    asset: KeyQuery = None,
    partition: PartitionQuery = None,
    tag: TagQuery = [],  # noqa: B006 - FastAPI copies defaults per request
    trigger: Trigger = None,
    created_after: Timestamp = None,
    created_before: Timestamp = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RunPage:
    """Runs, newest first, filtered by status, pipeline, asset (runs with a step of it),
    partition, tag (``key=value``), trigger and creation time; continue with ``cursor``. Every
    filter and combination reads a page from an index, however long the history."""
    where = RunFilter(
        statuses=[s.value for s in status],
        pipeline=pipeline,
        asset=asset,
        partition=partition,
        tags=tag,
        trigger=trigger,
        created_after=created_after,
        created_before=created_before,
    )
    before = decode_cursor(cursor) if cursor else None
    runs = runs_matching(state.store, where, limit=limit, before=before)
    last = runs[-1] if len(runs) == limit else None
    return RunPage(
        runs=[run_out(r) for r in runs],
        next_cursor=encode_cursor(last.created_at, last.run_id) if last else None,
    )


@router.get("/runs/{run_id}", response_model=RunOut)
def run_detail(run_id: RunId, state: State) -> RunOut:
    """One run (a unique prefix of at least 6 characters also works)."""
    return run_out(get_run(state.store, run_id))


@router.get("/runs/{run_id}/steps", response_model=StepsOut)
def run_steps(run_id: RunId, state: State) -> StepsOut:
    """The run and its steps, each with its attempts (start, end, outcome) for the timeline."""
    run = get_run(state.store, run_id)
    attempts = attempts_by_step(get_events(state.store, run.run_id, limit=100_000))
    steps = [
        StepOut(
            step_key=s.step_key,
            node=s.node,
            partition=s.partition,
            map_index=s.map_index,
            kind=s.kind,
            status=s.status.value,
            attempt=s.attempt,
            started_at=s.started_at,
            ended_at=s.ended_at,
            reused_from=s.reused_from,
            error=error_out(s.error),
            attempts=[AttemptOut(**a) for a in attempts.get(s.step_key, [])],
        )
        for s in get_steps(state.store, run.run_id)
    ]
    steps.sort(key=lambda s: (s.started_at is None, s.started_at or 0.0, s.step_key))
    return StepsOut(run=run_out(run), steps=steps)


@router.get("/runs/{run_id}/events", response_model=EventPage)
def run_events(
    run_id: RunId,
    state: State,
    after_id: AfterId = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> EventPage:
    """The run's events in order; continue with ``after_id``."""
    run = get_run(state.store, run_id)
    events = get_events(state.store, run.run_id, after_id, limit=limit)
    return EventPage(
        events=[EventOut(**e) for e in events],
        next_after_id=events[-1]["id"] if events else after_id,
    )
