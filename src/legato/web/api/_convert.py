"""Store records and snapshot entries → API response models."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict
from typing import Any

import msgspec

from legato.events.errors import ErrorInfo
from legato.store.runs import RunRecord
from legato.web.catalog import Definitions
from legato.web.errors import ApiError
from legato.web.schemas import clean_text
from legato.web.schemas_definitions import NodeOut
from legato.web.schemas_runs import FailureOut, RunOut


def run_out(run: RunRecord) -> RunOut:
    return RunOut(
        run_id=run.run_id,
        status=run.status.value,
        pipeline=run.pipeline,
        selection=run.selection,
        partition=run.partition,
        created_at=run.created_at,
        started_at=run.started_at,
        ended_at=run.ended_at,
        duration=run.duration,
        parent_run_id=run.parent_run_id,
        from_failure=run.from_failure,
        trigger=run.trigger,
        executor=run.executor,
        priority=run.priority,
        backfill_id=run.backfill_id,
        tags=dict(run.tags),
        config=dict(run.config),
        error=error_out(run.error),
    )


def error_out(recorded: Any) -> FailureOut | None:
    """A recorded error (an object, or JSON text) as ``{type, message, traceback}``."""
    error = ErrorInfo.of(recorded)
    return FailureOut(**asdict(error)) if error else None


def node_data(defs: Definitions, key: str) -> dict[str, Any]:
    """A node of the definitions as ``NodeOut`` describes it, as plain data (the definitions
    route encodes thousands of them at once)."""
    node = defs.nodes[key]
    return {
        "key": key,
        "kind": node.kind,
        "group": node.group,
        "tags": node.tags,
        "description": node.description,
        "owners": node.owners,
        "source": node.source,
        "upstream": defs.upstream(key),
        "downstream": defs.downstream.get(key, []),
        "partitions": node.partitions,
        "pipelines": defs.pipelines_of.get(key, []),
        "config_schema": node.config_schema,
        "checks": node.checks,
        "check": None if node.check is None else msgspec.to_builtins(node.check),
    }


def node_out(defs: Definitions, key: str) -> NodeOut:
    return NodeOut(**node_data(defs, key))


def _pack(payload: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _unpack(cursor: str) -> Any:
    """The JSON inside an opaque cursor; raises ValueError (or a subclass) when it holds none."""
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def _bad_cursor() -> ApiError:
    return ApiError(
        400,
        "the cursor is not one this API returned",
        field="cursor",
        hint="pass the next_cursor of the previous page unchanged, or omit it",
    )


def encode_cursor(created_at: float, run_id: str) -> str:
    return _pack([created_at, run_id])


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        created_at, run_id = _unpack(cursor)
        if not isinstance(run_id, str) or isinstance(created_at, bool) or len(run_id) > 40:
            raise ValueError
        value = float(created_at)
        if value != value or abs(value) == float("inf"):
            raise ValueError
        return value, clean_text(run_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _bad_cursor() from None


def encode_key_cursor(key: str) -> str:
    """An opaque cursor naming the last partition key of a page."""
    return _pack(["k", key])


def decode_key_cursor(cursor: str) -> str:
    try:
        tag, key = _unpack(cursor)
        if tag != "k" or not isinstance(key, str) or len(key) > 4096:
            raise ValueError
        return clean_text(key)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _bad_cursor() from None
