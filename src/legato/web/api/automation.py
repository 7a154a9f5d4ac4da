"""Automation: the daemon's triggers (schedules, sensors, file arrival, OnUpdate, ...) with their
spec, state and latest tick; a trigger's tick history; and switching a trigger on or off.

The daemon registers the triggers of the snapshot it evaluates; the server reads them and flips
their ``enabled`` flag (a disabled trigger is skipped; enabling it again makes it due at once,
and a schedule then follows its catch-up policy for the ticks it missed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from legato.definitions.schedule_specs import schedule_of
from legato.definitions.schedules import Cron, Every
from legato.definitions.trigger_specs import CronSpec, EverySpec, TriggerSpec, describe, kind_of
from legato.errors import LegatoError
from legato.store.automation import TickRow, TriggerRow, list_triggers, set_enabled
from legato.store.automation import trigger_id as make_trigger_id
from legato.store.web_queries import latest_ticks, ticks_page
from legato.web.api.params import BeforeId, Defs, KeyQuery, Limit, State
from legato.web.audit import audit
from legato.web.auth import principal_of
from legato.web.errors import ApiError
from legato.web.policy import V1
from legato.web.schemas import ErrorOut
from legato.web.schemas_ops import TickOut, TickPage, TriggerOut, TriggersOut

router = APIRouter(prefix=V1, tags=["automation"])

TriggerId = Annotated[
    str,
    Path(
        min_length=3,
        max_length=300,
        pattern=r"^[A-Za-z0-9_.\-]+#[0-9]{1,6}:[A-Za-z0-9_]{1,32}$",
        description="<pipeline>#<index>:<kind>, e.g. nightly#0:cron (URL-encode the '#')",
    ),
]
TickStatus = Literal["requested", "skipped", "failed"]
TickStatuses = Annotated[list[TickStatus], Query(max_length=3, description="repeatable")]
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}
NEXT_FIRES = 3


def next_fires(spec: TriggerSpec, now: datetime) -> list[float]:
    """The next fire times of a schedule, for the UI (none for other kinds, or for a schedule
    this version cannot rebuild: a preview never fails the page)."""
    schedule: Cron | Every | None = None
    if isinstance(spec, CronSpec | EverySpec):
        try:
            schedule = schedule_of(spec)
        except (LegatoError, KeyError, TypeError, ValueError):
            schedule = None
    fires: list[float] = []
    after = now
    while schedule is not None and len(fires) < NEXT_FIRES:
        try:
            after = schedule.next_fire(after)
        except (LegatoError, ValueError, OverflowError):  # a schedule that stops recurring
            break
        fires.append(after.timestamp())
    return fires


def tick_out(tick: TickRow) -> TickOut:
    return TickOut(
        id=tick.id,
        tick_key=tick.tick_key,
        ts=tick.ts,
        status=tick.status,
        run_id=tick.run_id,
        reason=tick.reason,
    )


def trigger_out(row: TriggerRow, latest: TickRow | None, now: datetime) -> TriggerOut:
    name = getattr(row.spec, "name", None)  # schedules, sensors and message triggers have one
    return TriggerOut(
        trigger_id=row.trigger_id,
        pipeline=row.pipeline,
        kind=row.kind,
        name=str(name) if name is not None else None,
        enabled=row.enabled,
        next_due=row.next_due if row.enabled and row.next_due > 0 else None,
        last_tick=row.last_tick,
        cursor=row.cursor[:500] if row.cursor is not None else None,
        spec=describe(row.spec),
        next_fires=next_fires(row.spec, now) if row.enabled else [],
        latest_tick=tick_out(latest) if latest is not None else None,
    )


def _find(state: State, wanted: str) -> TriggerRow:
    rows = list_triggers(state.store)
    for row in rows:
        if row.trigger_id == wanted:
            return row
    raise ApiError(
        404,
        f"no trigger {wanted!r}",
        field="trigger_id",
        hint="GET /api/v1/automation/triggers lists them; the daemon registers the triggers "
        "of the definitions when it starts",
    )


@router.get("/automation/triggers", response_model=TriggersOut)
def triggers(
    state: State, defs: Defs, kind: KeyQuery = None, pipeline: KeyQuery = None
) -> TriggersOut:
    """Every registered trigger with its spec (cron expression, zone and policies; sensor and
    OnUpdate settings), whether it is on, when the daemon looks next, the next fire times of a
    schedule, and its latest tick; filter by ``kind`` and ``pipeline``."""
    every = list_triggers(state.store)
    rows = [
        r
        for r in every
        if (kind is None or r.kind == kind) and (pipeline is None or r.pipeline == pipeline)
    ]
    latest = latest_ticks(state.store, [r.trigger_id for r in rows])
    now = datetime.now(UTC)
    registered = {r.trigger_id for r in every}
    defined = [
        make_trigger_id(name, index, kind_of(spec))
        for name, pipe in defs.pipelines.items()
        for index, spec in enumerate(pipe.triggers)
    ]
    return TriggersOut(
        triggers=[trigger_out(r, latest.get(r.trigger_id), now) for r in rows],
        unregistered=[t for t in defined if t not in registered],
    )


@router.get("/automation/triggers/{trigger_id}/ticks", response_model=TickPage, responses=_ERRORS)
def trigger_ticks(
    trigger_id: TriggerId,
    state: State,
    status: TickStatuses = [],  # noqa: B006 - FastAPI copies defaults per request
    before_id: BeforeId = None,
    limit: Limit = 50,
) -> TickPage:
    """A trigger's ticks, newest first: what each handled, whether it requested a run (and
    which), skipped or failed, and why; continue with ``before_id``."""
    row = _find(state, trigger_id)
    found = ticks_page(
        state.store, row.trigger_id, statuses=status, before_id=before_id, limit=limit
    )
    return TickPage(
        trigger_id=row.trigger_id,
        ticks=[tick_out(t) for t in found],
        next_before_id=found[-1].id if len(found) == limit else None,
    )


def _switch(wanted: str, enabled: bool, request: Request, state: State) -> TriggerOut:
    row = _find(state, wanted)
    set_enabled(state.store, row.trigger_id, enabled)
    action = "trigger.enable" if enabled else "trigger.disable"
    audit(state.store, principal_of(request).actor, action, row.trigger_id)
    updated = _find(state, row.trigger_id)
    latest = latest_ticks(state.store, [row.trigger_id]).get(row.trigger_id)
    return trigger_out(updated, latest, datetime.now(UTC))


@router.post(
    "/automation/triggers/{trigger_id}/enable", response_model=TriggerOut, responses=_ERRORS
)
def enable(trigger_id: TriggerId, request: Request, state: State) -> TriggerOut:
    """Switch a trigger on; the daemon evaluates it at its next look."""
    return _switch(trigger_id, True, request, state)


@router.post(
    "/automation/triggers/{trigger_id}/disable", response_model=TriggerOut, responses=_ERRORS
)
def disable(trigger_id: TriggerId, request: Request, state: State) -> TriggerOut:
    """Switch a trigger off: the daemon skips it until it is switched on again."""
    return _switch(trigger_id, False, request, state)
