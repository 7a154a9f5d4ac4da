"""Backfills: create one, the list with progress, one backfill with its runs, and pause /
resume / cancel.

The server plans nothing (planning needs the user's code): ``POST /backfills`` checks the request
against the snapshot and records the backfill unplanned; the daemon plans and drives it. Pause,
resume and cancel move its status: the daemon drives ``requested`` backfills, and a driver stops
launching runs once its backfill is paused or cancelled (cancelling also stops its running runs).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from legato._internal.ids import new_run_id
from legato.errors import LegatoError
from legato.store.backfills import BackfillRecord, create_backfill, get_backfill, set_status
from legato.store.partitions import dynamic_lookup
from legato.store.run_search import RunFilter
from legato.store.runs import list_runs
from legato.store.web_queries import GroupCounts, backfill_group_counts, backfills_page
from legato.web.api._convert import decode_cursor, encode_cursor, run_out
from legato.web.api.params import Defs, Limit, State
from legato.web.audit import audit
from legato.web.auth import principal_of
from legato.web.backfill_request import check_backfill
from legato.web.errors import ApiError, invalid_request
from legato.web.policy import V1
from legato.web.schemas import ErrorOut
from legato.web.schemas_ops import (
    BackfillDetailOut,
    BackfillOut,
    BackfillPage,
    BackfillProgressOut,
    BackfillRequest,
)

router = APIRouter(prefix=V1, tags=["backfills"])

BackfillId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="a backfill id (a unique prefix of at least 6 characters also works)",
    ),
]
Status = Literal["requested", "running", "paused", "completed", "failed", "cancelled"]
Statuses = Annotated[list[Status], Query(max_length=6, description="repeat to match several")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the last page")]
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}}

# action → (new status, statuses it may come from)
TRANSITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pause": ("paused", ("requested", "running")),
    "resume": ("requested", ("paused", "failed")),
    "cancel": ("cancelled", ("requested", "running", "paused", "failed")),
}


def backfill_out(record: BackfillRecord, counts: GroupCounts | None) -> BackfillOut:
    found = counts or GroupCounts()
    total = record.group_count
    return BackfillOut(
        backfill_id=record.backfill_id,
        selection=record.selection,
        status=record.status,
        planned=record.planned,
        created_at=record.created_at,
        updated_at=record.updated_at,
        keys=record.key_count,
        first_key=record.first_key,
        last_key=record.last_key,
        groups=total,
        max_concurrent=record.max_concurrent,
        missing_only=record.missing_only,
        executor=record.executor,
        tags=dict(record.tags),
        config=dict(record.config),
        driver=record.driver,
        lease_until=record.lease_until,
        error=record.error,
        progress=BackfillProgressOut(
            total=total,
            succeeded=found.succeeded,
            failed=max(0, found.started - found.succeeded - found.running),
            running=found.running,
            pending=max(0, total - found.started),
        ),
    )


def _outs(records: Sequence[BackfillRecord], state: State) -> list[BackfillOut]:
    counts = backfill_group_counts(state.store, [r.backfill_id for r in records])
    return [backfill_out(r, counts.get(r.backfill_id)) for r in records]


class _Unprocessable(APIRoute):
    """A request that does not fit its model is a 422 naming the field, like one that names
    keys outside the space: nothing of it is stored."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                raise invalid_request(exc, 422) from None

        return route


def create(body: BackfillRequest, request: Request, state: State, defs: Defs) -> BackfillOut:
    """Create a backfill of a selection over a range of partition keys (``range``: ``from``,
    ``to``, of its space or of one dimension of a product) or a list (``partitions``). The keys
    are checked against the definitions (422 naming the field otherwise); the daemon plans the
    runs with the project's code and drives them, ``max_concurrent`` at a time, skipping keys
    already materialized with ``missing_only``. Answers at once, with the backfill's id."""
    checked = check_backfill(body, defs, dynamic_lookup(state.store))
    record = create_backfill(
        state.store,
        new_run_id(),
        checked.selection,
        checked.keys,
        None,
        request=checked.request,
        max_concurrent=body.max_concurrent,
        missing_only=body.missing_only,
        executor="",  # the project's default, as the daemon's run workers know it
        config=body.config,
    )
    detail = {"selection": checked.selection, "keys": len(checked.keys)}
    audit(state.store, principal_of(request).actor, "backfill.create", record.backfill_id, detail)
    return _outs([record], state)[0]


router.add_api_route(
    "/backfills",
    create,
    methods=["POST"],
    response_model=BackfillOut,
    status_code=201,
    responses={
        409: {"model": ErrorOut, "description": "no definitions recorded yet"},
        422: {"model": ErrorOut, "description": "a field of the request is wrong (named)"},
    },
    route_class_override=_Unprocessable,
)


@router.get("/backfills", response_model=BackfillPage)
def list_backfills(
    state: State,
    status: Statuses = [],  # noqa: B006 - FastAPI copies defaults per request
    cursor: Cursor = None,
    limit: Limit = 50,
) -> BackfillPage:
    """Backfills newest first, each with the progress of its run groups; filter by status
    (repeatable) and continue with ``cursor``."""
    before = decode_cursor(cursor) if cursor else None
    records = backfills_page(state.store, statuses=status, before=before, limit=limit)
    last = records[-1] if len(records) == limit else None
    return BackfillPage(
        backfills=_outs(records, state),
        next_cursor=encode_cursor(last.created_at, last.backfill_id) if last else None,
    )


@router.get("/backfills/{backfill_id}", response_model=BackfillDetailOut, responses=_ERRORS)
def backfill_detail(
    backfill_id: BackfillId, state: State, cursor: Cursor = None, limit: Limit = 50
) -> BackfillDetailOut:
    """One backfill: its request, progress and error, and a page of its runs (newest first)."""
    record = get_backfill(state.store, backfill_id)
    before = decode_cursor(cursor) if cursor else None
    runs = list_runs(
        state.store, RunFilter(backfill_id=record.backfill_id), limit=limit, before=before
    )
    last = runs[-1] if len(runs) == limit else None
    return BackfillDetailOut(
        backfill=_outs([record], state)[0],
        keys_sample=list(record.keys[:20]),
        runs=[run_out(r) for r in runs],
        next_cursor=encode_cursor(last.created_at, last.run_id) if last else None,
    )


def _move(action: str, backfill_id: str, request: Request, state: State) -> BackfillOut:
    record = get_backfill(state.store, backfill_id)  # 404 before anything else
    status, allowed = TRANSITIONS[action]
    try:
        updated = set_status(state.store, record.backfill_id, status, allowed_from=allowed)
    except LegatoError as exc:
        raise ApiError(409, exc.message, field="backfill_id", hint=exc.hint) from None
    detail = {"from": record.status, "to": updated.status}
    audit(
        state.store, principal_of(request).actor, f"backfill.{action}", record.backfill_id, detail
    )
    return _outs([updated], state)[0]


@router.post("/backfills/{backfill_id}/pause", response_model=BackfillOut, responses=_ERRORS)
def pause(backfill_id: BackfillId, request: Request, state: State) -> BackfillOut:
    """Stop launching runs (running ones finish); 409 unless requested or running."""
    return _move("pause", backfill_id, request, state)


@router.post("/backfills/{backfill_id}/resume", response_model=BackfillOut, responses=_ERRORS)
def resume(backfill_id: BackfillId, request: Request, state: State) -> BackfillOut:
    """Hand a paused or failed backfill back to the daemon (status ``requested``): it creates
    only the missing runs and re-runs failed ones from their failure; 409 otherwise."""
    return _move("resume", backfill_id, request, state)


@router.post("/backfills/{backfill_id}/cancel", response_model=BackfillOut, responses=_ERRORS)
def cancel(backfill_id: BackfillId, request: Request, state: State) -> BackfillOut:
    """Cancel the backfill; its driver cancels the runs still running. 409 once it finished."""
    return _move("cancel", backfill_id, request, state)
