"""Webhooks: an HMAC-signed POST starts a run of the pipeline whose ``Webhook`` trigger it names.

No login and no cookie: the body's signature (``X-Legato-Signature: sha256=<hex>``, HMAC-SHA256
with the secret in the server's environment variable named by the trigger) is the credential.
The run, its tick and the delivery id commit together; a retried delivery starts no second run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from legato._internal.ids import new_run_id
from legato.events.status import RunStatus
from legato.store.automation import record_tick, trigger_id
from legato.store.runs import RunRecord, get_run
from legato.store.snapshots import latest_snapshot
from legato.web.api.params import State
from legato.web.errors import ApiError
from legato.web.policy import V1

router = APIRouter(prefix=V1, tags=["webhooks"])


def _trigger(snapshot: dict[str, Any], pipeline: str) -> tuple[dict[str, Any], int, dict[str, Any]]:
    for pipe in snapshot.get("pipelines", []):
        if pipe["name"] == pipeline:
            for index, spec in enumerate(pipe.get("triggers", [])):
                if spec.get("kind") == "webhook":
                    return pipe, index, spec
    raise ApiError(
        404,
        f"pipeline {pipeline!r} has no webhook trigger",
        field="pipeline",
        hint="add triggers=[Webhook(secret_env=...)] to the pipeline",
    )


@router.post("/webhooks/{pipeline}", status_code=202)
async def receive(pipeline: str, request: Request, state: State) -> JSONResponse:
    """Verify the signature, then queue one run (idempotent by ``X-Legato-Delivery``)."""
    pipe, index, spec = _trigger(latest_snapshot(state.store) or {}, pipeline)
    secret = os.environ.get(spec["secret_env"], "")
    if not secret:
        raise ApiError(
            503,
            f"the webhook secret of {pipeline!r} is not configured",
            hint=f"set the environment variable {spec['secret_env']} on the server",
        )
    body = await request.body()
    given = request.headers.get("x-legato-signature", "")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(
            401,
            "the webhook signature does not match",
            field="X-Legato-Signature",
            hint="sign the raw body: sha256=<hex HMAC-SHA256 with the shared secret>",
        )
    try:
        config = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(
            400, "the webhook body is not JSON", field="body", hint="send a JSON object"
        ) from None
    if not isinstance(config, dict):
        raise ApiError(400, "the webhook body must be a JSON object", field="body")
    field = spec.get("partition_field")
    partition = config.get(field, "") if field else ""
    if not isinstance(partition, str) or len(partition) > 1024 or "|" in partition:
        raise ApiError(400, f"{field} must be one partition key", field=field)
    delivery = request.headers.get("x-legato-delivery") or hashlib.sha256(body).hexdigest()
    delivery = delivery[:200]
    key = trigger_id(pipeline, index, "webhook")
    run = RunRecord(
        run_id=new_run_id(),
        selection=" ".join(pipe.get("selection", ["*"])),
        status=RunStatus.QUEUED,
        created_at=time.time(),
        pipeline=pipeline,
        partition=partition,
        idempotency_key=f"webhook:{key}:{delivery}",
        executor=pipe.get("executor") or "",
        tags=dict(pipe.get("tags", {})),
        config=config,
        trigger=f"webhook:{key}",
        priority=int(pipe.get("priority", 0)),
    )
    [run_id] = record_tick(state.store, key, delivery, status="requested", runs=[run])
    duplicate = run_id != run.run_id
    status = get_run(state.store, run_id).status.value
    return JSONResponse(
        {"run_id": run_id, "status": status, "duplicate": duplicate},
        status_code=200 if duplicate else 202,
    )
