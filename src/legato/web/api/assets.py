"""Assets (and tasks): their definition, latest materialization (and whether its blocking checks
passed), history, check results and neighbours."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from legato.store.assets import metadata_series
from legato.store.checks import failed_blocking_checks, latest_check_results
from legato.store.web_queries import HistoryRow, asset_history_page
from legato.web.api._convert import node_out
from legato.web.api.checks import check_out
from legato.web.api.params import BeforeId, Defs, Limit, NodeKey, PartitionQuery, State
from legato.web.errors import ApiError
from legato.web.policy import V1
from legato.web.schemas import clean_text
from legato.web.schemas_assets import (
    AssetOut,
    MaterializationOut,
    MaterializationPage,
    MetadataPointOut,
    MetadataSeriesOut,
    SchemaChangeOut,
    TrustOut,
)
from legato.web.schemas_definitions import NodeOut

router = APIRouter(prefix=V1, tags=["assets"])


def _out(row: HistoryRow) -> MaterializationOut:
    return MaterializationOut(
        id=row.id,
        partition=row.partition,
        run_id=row.run_id,
        step_key=row.step_key,
        ts=row.ts,
        metadata=row.metadata,
    )


def _page(rows: list[HistoryRow], limit: int) -> MaterializationPage:
    return MaterializationPage(
        materializations=[_out(r) for r in rows],
        next_before_id=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/assets/{key}", response_model=AssetOut)
def asset(key: NodeKey, state: State, defs: Defs, limit: Limit = 20) -> AssetOut:
    """An asset or task: description, owners, code location, upstream/downstream, pipelines,
    its latest materialization and the first page of its history."""
    rows = asset_history_page(state.store, key, limit=limit)
    if key in defs.nodes:
        node = node_out(defs, key)
    elif rows:  # no longer defined, but its history is still worth showing
        node = NodeOut(key=key, kind="asset", description="(not in the current definitions)")
    else:
        raise ApiError(
            404,
            f"no asset or task {key!r} in the current definitions",
            field="key",
            hint="see GET /api/v1/definitions for the keys that exist",
        )
    statuses, _ = state.statuses.get(defs)
    trust = TrustOut(trusted=None, failed_checks=[])
    if rows:
        failed = failed_blocking_checks(state.store, key, rows[0].partition, rows[0].run_id)
        trust = TrustOut(trusted=not failed, failed_checks=failed)
    return AssetOut(
        node=node,
        latest=_out(rows[0]) if rows else None,
        history=_page(rows, limit),
        status=statuses.get(key),
        trust=trust,
        checks=[check_out(r) for r in latest_check_results(state.store, key, limit=50)],
    )


@router.get("/assets/{key}/materializations", response_model=MaterializationPage)
def materializations(
    key: NodeKey,
    state: State,
    partition: PartitionQuery = None,
    before_id: BeforeId = None,
    limit: Limit = 50,
) -> MaterializationPage:
    """Materializations of an asset, newest first, with their metadata; page with before_id."""
    rows = asset_history_page(
        state.store, key, partition=partition, before_id=before_id, limit=limit
    )
    return _page(rows, limit)


MetadataName = Annotated[
    str,
    Query(
        min_length=1,
        max_length=100,
        description="a metadata entry: rows, bytes, or one the step recorded",
    ),
    AfterValidator(clean_text),
]


@router.get("/assets/{key}/metadata", response_model=MetadataSeriesOut)
def metadata(
    key: NodeKey,
    state: State,
    name: MetadataName = "rows",
    partition: PartitionQuery = None,
    limit: Limit = 200,
) -> MetadataSeriesOut:
    """A metadata entry of an asset's materializations over time (e.g. its row count), oldest
    first: what a chart of the hand-offs needs."""
    series = metadata_series(state.store, key, name, partition=partition, limit=limit)
    return MetadataSeriesOut(
        name=name,
        points=[MetadataPointOut(**asdict(p)) for p in series.points],
        names=series.names,
        schemas=[SchemaChangeOut(**asdict(c)) for c in series.schemas],
    )
