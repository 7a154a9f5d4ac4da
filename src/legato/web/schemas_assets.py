"""Responses about the data an asset holds: results of its checks, and series of the metadata
its materializations recorded."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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


class MetadataSeriesOut(BaseModel):
    name: str
    points: list[MetadataPointOut] = Field(
        description="the entry's value in each materialization that recorded a number, oldest "
        "first (the last `limit` materializations)"
    )
    names: list[str] = Field(description="every numeric entry recorded in those materializations")
