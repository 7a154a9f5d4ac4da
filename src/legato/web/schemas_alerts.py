"""Response models of freshness (policies, SLAs and their violations) and of alerts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ViolationOut(BaseModel):
    id: int
    kind: str = Field(description="freshness | sla")
    subject: str = Field(description="the asset (with its non-time partition), or the pipeline")
    asset: str | None
    pipeline: str | None
    partition: str = Field(description="the partition key found late ('' unpartitioned)")
    run_id: str | None = Field(description="sla: the run that missed it")
    late_since: float
    opened_at: float
    resolved_at: float | None
    detail: dict[str, Any]


class SubjectOut(BaseModel):
    subject: str
    partition: str
    late: bool
    late_since: float | None
    materialized_at: float | None
    expected: str


class AssetFreshnessOut(BaseModel):
    asset: str
    policy: dict[str, Any] = Field(description="max_lag_seconds, or deadline and timezone")
    status: str = Field(description="fresh | late | unknown (it could not be assessed)")
    error: str | None = None
    subjects: list[SubjectOut]


class PipelineSlaOut(BaseModel):
    pipeline: str
    sla_seconds: float
    status: str = Field(description="ok | missed")
    run_id: str | None = Field(description="the run that missed it")


class FreshnessOut(BaseModel):
    now: float
    assets: list[AssetFreshnessOut]
    pipelines: list[PipelineSlaOut]
    violations: list[ViolationOut] = Field(description="recorded by the daemon, newest first")
    next_before_id: int | None = Field(description="pass as ?before_id= for older violations")


class DeliveryOut(BaseModel):
    channel: str
    event: str = Field(description="firing | resolved")
    status: str = Field(description="pending | sent | failed")
    attempts: int
    next_attempt_at: float | None = Field(description="pending: when it is tried next")
    sent_at: float | None
    last_error: str | None


class AlertOut(BaseModel):
    alert_id: int
    kind: str = Field(description="run_failed | freshness_missed | sla_missed | ...")
    subject: str
    status: str = Field(description="open | resolved")
    summary: str
    detail: dict[str, Any]
    channels: list[str]
    opened_at: float
    last_seen_at: float
    occurrences: int = Field(description="facts folded into this alert while it was open")
    resolved_at: float | None
    deliveries: list[DeliveryOut]


class AlertsOut(BaseModel):
    alerts: list[AlertOut]
    next_before_id: int | None = Field(description="pass as ?before_id= for older alerts")
