"""Responses about assets and the data they hold: status, materializations, results of their
checks, and series of the metadata their materializations recorded."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from legato.web.schemas_definitions import NodeOut


class CheckOut(BaseModel):
    id: int
    check: str = Field(description="the check's key, <asset>:check:<name>")
    asset_key: str
    partition: str
    outcome: str = Field(description="pass, warn (failed with severity warn) or fail")
    severity: str
    blocking: bool
    metadata: dict[str, Any]
    description: str | None = None
    run_id: str = Field(description="the run that evaluated it")
    target_run: str | None = Field(description="the run whose materialization it checked")
    ts: float


class ChecksOut(BaseModel):
    checks: list[CheckOut] = Field(
        description="the latest result of each check on each partition, newest first; with "
        "?check=, that check's results, newest first"
    )
    defined: list[str] = Field(description="the asset's checks in the current definitions")
    next_before_id: int | None = Field(description="with ?check=: pass as before_id for more")


class TrustOut(BaseModel):
    trusted: bool | None = Field(
        description="false when a blocking check failed on the latest materialization; null "
        "when there is none"
    )
    failed_checks: list[str] = Field(description="the blocking checks that failed on it")


class MetadataPointOut(BaseModel):
    ts: float
    run_id: str
    partition: str
    value: float


class SchemaChangeOut(BaseModel):
    ts: float
    run_id: str
    partition: str
    schema_hash: str


class MetadataSeriesOut(BaseModel):
    name: str
    points: list[MetadataPointOut] = Field(
        description="the entry's value in each materialization that recorded a number, oldest "
        "first (the last `limit` materializations)"
    )
    names: list[str] = Field(description="every numeric entry recorded in those materializations")
    schemas: list[SchemaChangeOut] = Field(
        description="the schema hash of the first of those materializations, then each one "
        "whose schema hash differs from the one before it, oldest first"
    )


class StatusOut(BaseModel):
    statuses: dict[str, str] = Field(description="node key → status of its latest step")
    materialized_at: dict[str, float]


class MaterializationOut(BaseModel):
    id: int
    partition: str
    run_id: str
    step_key: str
    ts: float
    metadata: dict[str, Any]


class MaterializationPage(BaseModel):
    materializations: list[MaterializationOut]
    next_before_id: int | None


class AssetOut(BaseModel):
    node: NodeOut
    latest: MaterializationOut | None
    history: MaterializationPage
    status: str | None
    trust: TrustOut = Field(
        description="whether the latest materialization passed its blocking checks"
    )
    checks: list[CheckOut] = Field(
        default_factory=list, description="the latest result of each check, newest first"
    )
