"""Step logs: pages by id with literal search, and a live tail over Server-Sent Events.

The stream polls the store (there is no other channel between the engine and the server) and
ends when the run has finished and every line was sent, or after ``Limits.sse_max_seconds``;
the browser's EventSource then reconnects with ``Last-Event-ID`` and misses nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator

from legato.store.logs import LogLine
from legato.store.runs import get_run
from legato.store.web_queries import search_logs
from legato.web.api.params import AfterId, RunId, State
from legato.web.errors import ApiError
from legato.web.policy import V1
from legato.web.schemas import clean_text
from legato.web.schemas_runs import LogLineOut, LogPage
from legato.web.state import WebState

router = APIRouter(prefix=V1, tags=["logs"])

StepQuery = Annotated[
    str | None,
    Query(max_length=1200, description="only this step's lines (its step key)"),
    AfterValidator(lambda v: v if v is None else clean_text(v)),
]
Search = Annotated[
    str | None,
    Query(max_length=200, description="case-insensitive literal substring"),
    AfterValidator(lambda v: v if v is None else clean_text(v)),
]
PAGE = 500


def _printable(text: str) -> str:
    """Lines may hold unpaired surrogates from undecodable bytes; send U+FFFD instead (B-05)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _out(line: LogLine) -> LogLineOut:
    return LogLineOut(
        id=line.id,
        step_key=_printable(line.step_key),
        ts=line.ts,
        level=line.level,
        stream=line.stream,
        message=_printable(line.message),
    )


@router.get("/runs/{run_id}/logs", response_model=LogPage)
def run_logs(
    run_id: RunId,
    state: State,
    step: StepQuery = None,
    q: Search = None,
    after_id: AfterId = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> LogPage:
    """Log lines of a run or one step, oldest first, optionally matching ``q``."""
    run = get_run(state.store, run_id)
    lines = search_logs(
        state.store, run.run_id, step_key=step, after_id=after_id, limit=limit, contains=q
    )
    return LogPage(
        lines=[_out(line) for line in lines],
        next_after_id=lines[-1].id if lines else after_id,
        run_status=run.status.value,
    )


@router.get(
    "/runs/{run_id}/logs/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "log lines as SSE"}},
)
def stream_logs(
    run_id: RunId,
    state: State,
    step: StepQuery = None,
    after_id: AfterId = 0,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Server-Sent Events: ``log`` events (data: a log line as JSON, id: its id), ``status``
    when the run's status changes, and ``end`` once the run finished and all lines were sent."""
    run = get_run(state.store, run_id)
    if state.open_streams >= state.limits.max_streams:
        raise ApiError(
            429,
            f"{state.open_streams} log streams are open; the limit is {state.limits.max_streams}",
            hint="close other tabs, or page with GET .../logs?after_id=",
        )
    start = after_id
    if last_event_id and last_event_id.isdigit():
        start = max(start, int(last_event_id))
    return StreamingResponse(
        _events(state, run.run_id, step, start),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


def _read(state: WebState, run_id: str, step: str | None, after_id: int) -> list[LogLine]:
    return search_logs(state.store, run_id, step_key=step, after_id=after_id, limit=PAGE)


async def _events(
    state: WebState, run_id: str, step: str | None, after_id: int
) -> AsyncIterator[str]:
    state.open_streams += 1
    try:
        async for chunk in _poll(state, run_id, step, after_id):
            yield chunk
    finally:
        state.open_streams -= 1


async def _poll(
    state: WebState, run_id: str, step: str | None, after_id: int
) -> AsyncIterator[str]:
    deadline = time.monotonic() + state.limits.sse_max_seconds
    last_sent = time.monotonic()
    status = None
    yield "retry: 2000\n\n"
    while True:
        run = await anyio.to_thread.run_sync(get_run, state.store, run_id)
        if run.status.value != status:
            status = run.status.value
            yield f"event: status\ndata: {json.dumps({'status': status})}\n\n"
        lines = await anyio.to_thread.run_sync(_read, state, run_id, step, after_id)
        for line in lines:
            data = json.dumps(_out(line).model_dump())
            yield f"id: {line.id}\nevent: log\ndata: {data}\n\n"
            after_id = line.id
            last_sent = time.monotonic()
        if len(lines) == PAGE:
            continue
        if run.status.finished:
            yield f"event: end\ndata: {json.dumps({'status': status})}\n\n"
            return
        if time.monotonic() > deadline:
            return
        if time.monotonic() - last_sent > 15:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        await anyio.sleep(state.limits.sse_poll_seconds)
