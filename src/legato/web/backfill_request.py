"""Check a backfill request against the definitions the server knows (the snapshot: no user
code), before anything is stored: the selection exists and is partitioned, and the keys asked
for are keys of its spaces. Planning the runs needs the project's code; the daemon does it.

Every problem is a 422 that names the field of the request and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from legato.definitions.partitions import DynamicLookup, PartitionSpace, ProductPartitions
from legato.errors import PartitionError, SelectionError
from legato.graph.plan import canonical_key, key_range
from legato.graph.run_config import check_run_config, snapshot_config_schema
from legato.store.backfills import PlanRequest
from legato.web.catalog import Definitions
from legato.web.errors import ApiError
from legato.web.partition_view import space_of
from legato.web.schemas_ops import BackfillRequest, PartitionRangeIn
from legato.web.selection import select_keys, split_terms

MAX_KEYS = 1_000_000  # a bigger backfill is several: its keys are stored with it


@dataclass(frozen=True)
class CheckedBackfill:
    selection: str  # the terms, space-separated, as the CLI records them
    keys: list[str]
    request: PlanRequest  # what the daemon plans


def _refuse(message: str, field: str, hint: str | None = None) -> ApiError:
    return ApiError(422, message, code="invalid_request", field=field, hint=hint)


def check_backfill(
    body: BackfillRequest, defs: Definitions, dynamic: DynamicLookup
) -> CheckedBackfill:
    """The request's selection and keys, checked; ApiError (422) naming the field otherwise."""
    if not defs.nodes:
        raise ApiError(
            409,
            "the store holds no definitions yet, so no selection can be checked",
            code="no_definitions",
            hint="run the project once with 'legato run', or start the daemon, to record them",
        )
    if (body.range is None) == (body.partitions is None):
        raise _refuse(
            "give the partitions to backfill: either range or partitions",
            "range",
            'send "range": {"from": KEY, "to": KEY}, or "partitions": [KEY, ...]',
        )
    try:
        selected = select_keys(defs, body.selection)
        text = " ".join(split_terms(body.selection))
    except SelectionError as exc:
        raise _refuse(exc.message, "selection", exc.hint) from None
    spaces = [
        (key, space_of(key, node.partitions))
        for key, node in defs.nodes.items()  # in the graph's order, as the planner reads them
        if key in selected and node.partitions
    ]
    if not spaces:
        raise _refuse(
            f"nothing in selection {text!r} is partitioned, so there is nothing to backfill",
            "selection",
            "select partitioned assets; run an unpartitioned one with POST /api/v1/runs",
        )
    check_run_config(  # every run of the backfill gets it; the daemon checks it again
        snapshot_config_schema(defs.nodes, selected),
        body.config,
        context="the backfill's config",
        fix='give each of its runs\' config in "config"',
    )
    now = datetime.now(UTC)
    if body.range is not None:
        keys = _range(body.range, spaces, now, dynamic)
        return CheckedBackfill(text, keys, PlanRequest(range=(body.range.first, body.range.last)))
    return CheckedBackfill(
        text, _listed(body.partitions or [], spaces, now, dynamic), PlanRequest()
    )


def _range(
    wanted: PartitionRangeIn,
    spaces: list[tuple[str, PartitionSpace]],
    now: datetime,
    dynamic: DynamicLookup,
) -> list[str]:
    for end, field in ((wanted.first, "range.from"), (wanted.last, "range.to")):
        if not any(_has(space, end, now, dynamic) for _, space in spaces):
            asset, space = spaces[0]
            raise _refuse(
                f"{field}: {end!r} is not a partition key of {asset!r} ({space.summary()})",
                field,
                _why(space, end, now, dynamic),
            )
    try:
        found = key_range(
            [s for _, s in spaces], wanted.first, wanted.last, now=now, dynamic=dynamic
        )
    except PartitionError as exc:  # e.g. reversed
        raise _refuse(f"range: {exc.message}", "range", exc.hint) from None
    if found is None:
        raise _refuse(
            f"range: {wanted.first!r} and {wanted.last!r} are not keys of one space "
            "(or of one dimension of it)",
            "range",
            "give two keys of the same dimension, e.g. two dates",
        )
    if len(found.keys) > MAX_KEYS:
        raise _refuse(
            f"range: {len(found.keys):,} keys are more than one backfill takes ({MAX_KEYS:,})",
            "range",
            "split it into several backfills of smaller ranges",
        )
    return list(found.keys)


def _listed(
    keys: Sequence[str],
    spaces: list[tuple[str, PartitionSpace]],
    now: datetime,
    dynamic: DynamicLookup,
) -> list[str]:
    out: dict[str, None] = {}
    for index, raw in enumerate(keys):
        for _, space in spaces:
            key = canonical_key(space, raw)
            if space.contains(key, now, dynamic):
                out[key] = None
                break
        else:
            asset, space = spaces[0]
            field = f"partitions.{index}"
            raise _refuse(
                f"{field}: {raw!r} is not a partition key of {asset!r} ({space.summary()})",
                field,
                _why(space, canonical_key(space, raw), now, dynamic),
            )
    return list(out)


def _has(space: PartitionSpace, key: str, now: datetime, dynamic: DynamicLookup) -> bool:
    """``key`` is a key of ``space``, or of one of its dimensions."""
    if space.contains(canonical_key(space, key), now, dynamic):
        return True
    return isinstance(space, ProductPartitions) and any(
        dim.contains(key, now, dynamic) for _, dim in space.dimensions
    )


def _why(space: PartitionSpace, key: str, now: datetime, dynamic: DynamicLookup) -> str | None:
    try:
        space.validate_key(key, now, dynamic)
    except PartitionError as exc:
        return exc.hint
    return None
