"""Runs, write side: launch, cancel, re-run, pin. The server executes nothing: it queues a run
record (no steps; the daemon's launcher plans and executes it), asks a run to stop or pins it
against retention, and writes who did it to the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import AfterValidator

from legato.errors import PartitionError, SelectionError
from legato.events.status import RunStatus
from legato.events.transitions import IllegalTransition
from legato.graph.plan import canonical_key, split_partitions
from legato.graph.run_config import check_run_config, selection_config_schema
from legato.graph.snapshot import PipelineSnapshot
from legato.store.partitions import dynamic_lookup
from legato.store.pins import pin_run, unpin_run
from legato.store.run_requests import NewRun, request_run_in
from legato.store.runs import RunRecord, get_run, get_steps, request_cancel
from legato.web.api._convert import run_out
from legato.web.api.params import Defs, RunId, State
from legato.web.audit import audit
from legato.web.audit import record as record_audit
from legato.web.auth import Principal, principal_of
from legato.web.catalog import Definitions
from legato.web.errors import ApiError
from legato.web.partition_view import space_of
from legato.web.policy import V1
from legato.web.schemas import ErrorOut, clean_text
from legato.web.schemas_runs import LaunchedRun, LaunchRunRequest, PinOut, RerunRequest, RunOut
from legato.web.selection import select_keys, split_terms
from legato.web.state import WebState

router = APIRouter(prefix=V1, tags=["runs"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=512,
        description="a retried request with the same key creates no second run; "
        "the 409 names the first",
    ),
    AfterValidator(lambda v: v if v is None else clean_text(v)),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}
_LAUNCH_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    422: {
        "model": ErrorOut,
        "description": "the config does not fit the steps' config models, holds a number JSON "
        "cannot carry (NaN, Infinity), or a partition key is outside the selection's space",
    },
}


def _queue(state: WebState, principal: Principal, request: NewRun, action: str) -> RunOut:
    with state.store.transaction() as conn:
        run_id, created = request_run_in(conn, request)
        if created:
            detail = {"selection": request.selection, "partition": request.partition}
            if request.parent_run_id:
                detail["parent_run_id"] = request.parent_run_id
            record_audit(conn, principal.actor, action, run_id, detail)
    if not created:
        raise ApiError(
            409,
            f"a run with this Idempotency-Key already exists: {run_id}",
            code="duplicate_run",
            field="Idempotency-Key",
            hint="the first request was accepted; follow that run, or send a new key",
            extra={"run_id": run_id},
        )
    return run_out(get_run(state.store, run_id))


def _check_partition(
    state: WebState, defs: Definitions, selected: set[str], partition: str
) -> None:
    """Refuse partition keys the planner would refuse (422, as a backfill's keys): each must be a
    key of a selected asset or task (checked against the spaces of the snapshot and the store's
    dynamic sets)."""
    keys = split_partitions(partition)
    if not keys:
        return
    spaces = [
        (key, node.kind, space_of(key, node.partitions))
        for key, node in defs.nodes.items()
        if key in selected and node.partitions
    ]
    if not spaces:
        raise ApiError(
            422,
            f"partition {keys[0]!r} was given, but nothing selected is partitioned",
            code="invalid_request",
            field="partition",
            hint="leave out partition, or select partitioned assets",
        )
    dynamic = dynamic_lookup(state.store)
    for wanted in keys:
        if any(s.contains(canonical_key(s, wanted), None, dynamic) for _, _, s in spaces):
            continue
        node, kind, space = spaces[0]
        try:
            space.validate_key(canonical_key(space, wanted), None, dynamic)
        except PartitionError as exc:
            raise ApiError(
                422,
                f"partition {wanted!r} is not a key of {kind} {node!r}: {exc.message}",
                code="invalid_request",
                field="partition",
                hint=exc.hint,
            ) from None


@router.post("/runs", response_model=LaunchedRun, status_code=201, responses=_LAUNCH_ERRORS)
def launch_run(
    body: LaunchRunRequest,
    request: Request,
    state: State,
    defs: Defs,
    idempotency_key: IdempotencyKey = None,
) -> LaunchedRun:
    """Queue a run of a selection and/or a pipeline; the daemon plans and executes it. Its
    config is checked against the config models of the steps it runs (422 listing each problem,
    with its path and the fix)."""
    if not defs.nodes:
        raise ApiError(
            409,
            "the store holds no definitions yet, so no selection can be checked",
            code="no_definitions",
            hint="run the project once with 'legato run', or start the daemon, to record them",
        )
    pipeline: PipelineSnapshot | None = None
    if body.pipeline is not None:
        pipeline = defs.pipelines.get(body.pipeline)
        if pipeline is None:
            known = sorted(defs.pipelines)[:20]
            raise ApiError(
                400,
                f"no pipeline {body.pipeline!r} in the current definitions",
                field="pipeline",
                hint=f"pipelines are {known}"
                if known
                else "define a Pipeline, or send a selection",
            )
    terms = body.selection or (pipeline.selection if pipeline is not None else None)
    if not terms:
        raise ApiError(
            400,
            "nothing to run",
            field="selection",
            hint="send a selection such as 'raw_orders+' or '*', or a pipeline name",
        )
    try:
        selected = select_keys(defs, terms)
        text = " ".join(split_terms(terms))
    except SelectionError as exc:
        raise ApiError(400, exc.message, field="selection", hint=exc.hint) from None
    _check_partition(state, defs, selected, body.partition)
    principal = principal_of(request)
    asked: dict[str, Any] = {
        "selection": text,
        "partition": body.partition,
        "tags": body.tags,
        "config": body.config,
        "key": () if idempotency_key is None else (idempotency_key,),
        "trigger": "api",
        "trigger_id": principal.name,
        "config_schema": selection_config_schema(defs.nodes, selected),
    }
    run = NewRun.of_pipeline(pipeline, **asked) if pipeline is not None else NewRun(**asked)
    return LaunchedRun(run=_queue(state, principal, run, "run.launch"))


@router.post("/runs/{run_id}/cancel", response_model=RunOut, responses=_ERRORS)
def cancel_run(run_id: RunId, request: Request, state: State) -> RunOut:
    """Cancel a queued run at once, or ask a running one to stop (409 if it already finished)."""
    run = get_run(state.store, run_id)
    try:
        updated = request_cancel(state.store, run.run_id)
    except IllegalTransition:
        raise ApiError(
            409,
            f"run {run.run_id} is {run.status}; only queued or running runs can be cancelled",
            field="run_id",
        ) from None
    audit(state.store, principal_of(request).actor, "run.cancel", run.run_id)
    return run_out(updated)


def _rerun_config_schema(
    state: WebState, defs: Definitions, parent: RunRecord, from_failure: bool
) -> dict[str, Any] | None:
    """The config schema of a re-run of ``parent`` under the CURRENT definitions, over the nodes
    the launcher will plan: the parent's steps when re-running from its failure, else its
    selection (the code may have changed since it ran)."""
    if not defs.nodes:  # no definitions recorded: nothing to check against
        return None
    nodes: set[str] = set()
    if from_failure:
        nodes = {s.node for s in get_steps(state.store, parent.run_id) if s.map_index < 0}
    if not nodes:
        try:
            nodes = select_keys(defs, parent.selection)
        except SelectionError as exc:
            raise ApiError(
                409,
                f"run {parent.run_id} selected {parent.selection!r}, which the current "
                f"definitions no longer match: {exc.message}",
                field="run_id",
                hint="launch a new run of what the project defines now (POST /api/v1/runs)",
            ) from None
    return selection_config_schema(defs.nodes, nodes)


@router.post(
    "/runs/{run_id}/rerun", response_model=LaunchedRun, status_code=201, responses=_LAUNCH_ERRORS
)
def rerun(
    run_id: RunId,
    request: Request,
    state: State,
    defs: Defs,
    body: RerunRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> LaunchedRun:
    """Queue a new run with the same selection, partition and config; with ``from_failure``
    (the default) the launcher reuses what succeeded and re-executes the rest. The config is
    checked again against the config models of the CURRENT definitions (422 listing each
    problem): a re-run whose steps changed since cannot start with it."""
    options = body or RerunRequest()
    parent = get_run(state.store, run_id)
    if not parent.status.finished:
        raise ApiError(
            409,
            f"run {parent.run_id} is {parent.status}; it can be re-run once finished",
            field="run_id",
            hint="wait for it, or cancel it first",
        )
    if options.from_failure and parent.status is RunStatus.SUCCEEDED:
        raise ApiError(
            409,
            f"run {parent.run_id} succeeded; there is no failure to re-run from",
            field="from_failure",
            hint="send from_failure=false to run all of it again",
        )
    schema = _rerun_config_schema(state, defs, parent, options.from_failure)
    check_run_config(
        schema,
        parent.config,
        context=f"run {parent.run_id}'s config does not fit the current definitions",
        fix="the steps' config models changed since it ran: launch a new run with a config "
        "that fits (POST /api/v1/runs; GET /api/v1/config-schema?select=... gives its schema)",
    )
    principal = principal_of(request)
    run = NewRun(
        selection=parent.selection,
        pipeline=parent.pipeline,
        partition=parent.partition,
        parent_run_id=parent.run_id,
        key=() if idempotency_key is None else (idempotency_key,),
        executor=parent.executor,
        tags=parent.tags,
        config=parent.config,
        trigger="api",
        trigger_id=principal.name,
        from_failure=options.from_failure,
        config_schema=schema,
    )
    return LaunchedRun(run=_queue(state, principal, run, "run.rerun"))


@router.post("/runs/{run_id}/pin", response_model=PinOut, responses=_ERRORS)
def pin(run_id: RunId, request: Request, state: State) -> PinOut:
    """Keep the run whatever the retention policy says, with the runs it needs (its parent, the
    runs whose outputs it reused); pinning a pinned run changes nothing."""
    actor = principal_of(request).actor
    full = pin_run(state.store, run_id, by=actor)
    audit(state.store, actor, "run.pin", full)
    return PinOut(run_id=full, pinned=True)


@router.delete("/runs/{run_id}/pin", response_model=PinOut, responses=_ERRORS)
def unpin(run_id: RunId, request: Request, state: State) -> PinOut:
    """Let retention delete the run once its policy no longer keeps it."""
    actor = principal_of(request).actor
    full = unpin_run(state.store, run_id)
    audit(state.store, actor, "run.unpin", full)
    return PinOut(run_id=full, pinned=False)
