"""Check results: the latest of each check of an asset, or the history of one check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from legato.store.checks import CheckRecord, check_history, latest_check_results
from legato.web.api.params import BeforeId, Defs, Limit, PartitionQuery, State
from legato.web.catalog import Definitions
from legato.web.policy import V1
from legato.web.schemas import clean_text
from legato.web.schemas_assets import CheckOut, ChecksOut

router = APIRouter(prefix=V1, tags=["checks"])

AssetQuery = Annotated[
    str | None,
    Query(max_length=255, description="an asset key; default: every asset"),
    AfterValidator(lambda v: v and clean_text(v)),
]
CheckQuery = Annotated[
    str | None,
    Query(max_length=400, description="a check key, for its history"),
    AfterValidator(lambda v: v and clean_text(v)),
]


def check_out(record: CheckRecord) -> CheckOut:
    return CheckOut(
        id=record.id,
        check=record.check_key,
        asset_key=record.asset_key,
        partition=record.partition,
        outcome=record.outcome,
        severity=record.severity,
        blocking=record.blocking,
        metadata=record.metadata,
        description=record.description,
        run_id=record.run_id,
        target_run=record.target_run,
        ts=record.ts,
    )


def defined_checks(defs: Definitions, asset: str | None) -> list[str]:
    if asset is None:
        return [k for k, n in defs.nodes.items() if n.kind == "check"]
    node = defs.nodes.get(asset)
    return [] if node is None else list(node.checks)


@router.get("/checks", response_model=ChecksOut)
def checks(
    state: State,
    defs: Defs,
    asset: AssetQuery = None,
    check: CheckQuery = None,
    partition: PartitionQuery = None,
    before_id: BeforeId = None,
    limit: Limit = 100,
) -> ChecksOut:
    """Results of checks: the latest of each check on each partition of ``asset`` (or of every
    asset), or with ``check`` the results of that check, newest first."""
    if check is not None:
        owner = asset or check.split(":check:", 1)[0]
        rows = check_history(state.store, owner, check, before_id=before_id, limit=limit)
        return ChecksOut(
            checks=[check_out(r) for r in rows],
            defined=defined_checks(defs, owner),
            next_before_id=rows[-1].id if len(rows) == limit else None,
        )
    rows = latest_check_results(state.store, asset, partition=partition, limit=limit)
    return ChecksOut(
        checks=[check_out(r) for r in rows],
        defined=defined_checks(defs, asset),
        next_before_id=None,
    )
