"""Webhooks: a signed POST starts a run of the pipeline whose ``Webhook`` trigger it names.

No login and no cookie: the signature is the credential. The sender signs
``<timestamp>.<delivery id>.<raw body>`` (HMAC-SHA256 with the secret in the server's environment
variable named by the trigger; see ``legato.definitions.webhooks``). A delivery signed outside the
trigger's tolerance is refused, so a captured request cannot be replayed later; the signed
delivery id is the idempotency key, so one replayed at once starts no second run. The run, its
tick and its audit-log entry commit together.
"""

from __future__ import annotations

import json
import logging
import os
import time
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from legato._internal.json_schema import non_finite_number
from legato.definitions.trigger_specs import WebhookSpec, kind_of, parse_trigger_spec
from legato.definitions.webhooks import (
    DEFAULT_TOLERANCE,
    DELIVERY_HEADER,
    DELIVERY_ID,
    SIGNATURE_HEADER,
    parse_signature,
    signature_matches,
)
from legato.graph.snapshot import DefinitionsSnapshot, PipelineSnapshot
from legato.store.automation import trigger_enabled, trigger_id
from legato.store.run_requests import NewRun, run_record
from legato.store.runs import get_run
from legato.store.snapshots import latest_snapshot
from legato.store.tick_writes import TickWrite, write_ticks_in
from legato.web.api.params import State
from legato.web.audit import record as record_audit
from legato.web.errors import ApiError
from legato.web.policy import V1

router = APIRouter(prefix=V1, tags=["webhooks"])
log = logging.getLogger("legato.web")

_SCHEME = (
    f"send {SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
    f"'<t>.<delivery id>.<raw body>' with the shared secret> and {DELIVERY_HEADER}: <delivery id> "
    "(legato.sign_webhook makes both)"
)


def _mismatch() -> ApiError:
    """The one answer for a wrong signature, a pipeline without a webhook and a webhook whose
    secret the server lacks, so that a caller without the secret cannot tell which pipelines
    take webhooks."""
    return ApiError(
        401,
        "the webhook signature does not match",
        field=SIGNATURE_HEADER,
        hint=f"{_SCHEME}; if it is signed so, the server's log says what it is missing",
    )


def _trigger(
    snapshot: DefinitionsSnapshot | None, pipeline: str
) -> tuple[PipelineSnapshot, int, WebhookSpec]:
    pipe = None if snapshot is None else snapshot.pipeline_index.get(pipeline)
    if pipe is not None:
        for index, described in enumerate(pipe.triggers):
            if kind_of(described) != "webhook":
                continue  # only the webhook's description is read, and must be readable
            spec = parse_trigger_spec(described, where=f"pipeline {pipeline!r}")
            assert isinstance(spec, WebhookSpec), spec
            return pipe, index, spec
    raise _mismatch()


def _credentials(request: Request) -> tuple[int, list[str], str]:
    """The signature's timestamp and digests and the delivery id; 401 if either is malformed."""
    parsed = parse_signature(request.headers.get(SIGNATURE_HEADER, "")[:1000])
    if parsed is None:
        raise ApiError(
            401, "missing or malformed webhook signature", field=SIGNATURE_HEADER, hint=_SCHEME
        )
    delivery = request.headers.get(DELIVERY_HEADER, "")
    if not DELIVERY_ID.fullmatch(delivery):
        raise ApiError(
            401,
            f"missing or malformed {DELIVERY_HEADER}",
            field=DELIVERY_HEADER,
            hint="send the delivery's id (1-200 letters, digits, '-', '_' or ':'), the same on "
            "each retry, and sign it with the body",
        )
    return parsed[0], parsed[1], delivery


def _check_age(timestamp: int, tolerance: float) -> None:
    skew = time.time() - timestamp
    if abs(skew) <= tolerance:
        return
    age = f"{round(skew)} s old" if skew > 0 else f"{round(-skew)} s ahead of the server's clock"
    raise ApiError(
        401,
        f"the webhook signature's timestamp is {age}; this trigger accepts deliveries signed "
        f"within {tolerance:g} s",
        field=SIGNATURE_HEADER,
        hint="sign each attempt with the current time (t=<unix seconds>), keeping its delivery "
        "id, and check the sender's clock",
    )


def _disabled(key: str) -> ApiError:
    return ApiError(
        409,
        f"the webhook trigger {key!r} is disabled; it requests no runs",
        code="trigger_disabled",
        field="pipeline",
        hint=f"enable it with 'legato automation enable {key}' or POST "
        f"/api/v1/automation/triggers/{quote(key, safe='')}/enable (operators)",
    )


@router.post("/webhooks/{pipeline}", status_code=202)
async def receive(pipeline: str, request: Request, state: State) -> JSONResponse:
    """Verify the signature and its age, then queue one run per signed delivery id."""
    timestamp, digests, delivery = _credentials(request)
    pipe, index, spec = _trigger(latest_snapshot(state.store, state.catalog.location), pipeline)
    secret = os.environ.get(spec.secret_env, "")
    if not secret:  # answered as a wrong signature: which pipelines take webhooks is no one's
        log.warning(  # business without the secret; whoever runs the server reads this
            "webhook of pipeline %r refused: the environment variable %s holding its secret is "
            "not set on the server",
            pipeline,
            spec.secret_env,
        )
        raise _mismatch()
    body = await request.body()
    if not signature_matches(secret, timestamp, delivery, body, digests):
        raise _mismatch()
    _check_age(timestamp, spec.tolerance or DEFAULT_TOLERANCE)
    try:
        config = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise ApiError(
            400, "the webhook body is not JSON", field="body", hint="send a JSON object"
        ) from None
    if not isinstance(config, dict):
        raise ApiError(400, "the webhook body must be a JSON object", field="body")
    where = non_finite_number(config, "body")
    if where is not None:
        raise ApiError(
            422,
            f"{where} is not a finite number (NaN, Infinity or out of range)",
            code="invalid_request",
            field=where,
            hint="JSON cannot carry one: send a finite number, or null",
        )
    field = spec.partition_field
    partition = config.get(field, "") if field else ""
    if not isinstance(partition, str) or len(partition) > 1024 or "|" in partition:
        raise ApiError(400, f"{field} must be one partition key", field=field)
    key = trigger_id(pipeline, index, "webhook")
    run = run_record(
        NewRun.of_pipeline(
            pipe,
            partition=partition,
            config=config,
            trigger="webhook",
            trigger_id=key,
            key=("webhook", key, delivery),
        )
    )
    write = TickWrite(key, delivery, status="requested", runs=[run])
    with state.store.transaction() as conn:
        if not trigger_enabled(conn, key):
            raise _disabled(key)
        [run_id] = write_ticks_in(conn, [write])[key]
        if run_id == run.run_id:
            detail = {"trigger": key, "delivery": delivery, "partition": partition}
            if request.client is not None:
                detail["client"] = request.client.host
            record_audit(conn, "webhook", "run.webhook", run_id, detail)
    duplicate = run_id != run.run_id
    status = get_run(state.store, run_id).status.value
    return JSONResponse(
        {"run_id": run_id, "status": status, "duplicate": duplicate},
        status_code=200 if duplicate else 202,
    )
