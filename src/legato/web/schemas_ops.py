"""Request and response models of the operations routes: partitions (dynamic sets, per-key
status, the status matrix), backfills and automation triggers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from legato.web.schemas import Text, _Strict
from legato.web.schemas_runs import RunConfigIn, RunOut

# -- partitions ---------------------------------------------------------------------------------


class PartitionKeyOut(BaseModel):
    key: str
    status: str = Field(description="materialized | failed | in_progress | missing")
    run_id: str | None = Field(default=None, description="the run of its latest attempt")
    materialized_at: float | None = None


class PartitionDimensionOut(BaseModel):
    name: str
    kind: str = Field(description="time_window | static | dynamic")
    count: int


class PartitionCountsOut(BaseModel):
    total: int = Field(description="keys in the space now")
    materialized: int
    failed: int
    in_progress: int
    missing: int


class AssetPartitionsOut(BaseModel):
    asset: str
    summary: str
    partitions: dict[str, Any] = Field(description="the space's description from the snapshot")
    dimensions: list[PartitionDimensionOut]
    time_dimension: str | None
    counts: PartitionCountsOut
    keys: list[PartitionKeyOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page of keys")


class MatrixRowOut(BaseModel):
    label: str
    cells: list[PartitionKeyOut | None] = Field(description="one per column; null: no such key")


class PartitionMatrixOut(BaseModel):
    asset: str
    layout: Literal["grid", "sequence"] = Field(
        description="grid: columns are values of one dimension, rows the other dimensions; "
        "sequence: the keys of a one-dimension space in order, row by row"
    )
    column_dimension: str | None
    row_dimension: str | None
    columns: list[str]
    rows: list[MatrixRowOut]
    earlier_end: str | None = Field(description="pass as ?end= for the earlier columns")
    later_end: str | None = Field(description="pass as ?end= for the later columns")
    next_row_after: str | None = Field(description="pass as ?row_after= for the next rows")


class DynamicSetOut(BaseModel):
    name: str
    count: int
    assets: list[str] = Field(description="assets of the current definitions partitioned by it")


class DynamicSetsOut(BaseModel):
    sets: list[DynamicSetOut]


class DynamicKeyOut(BaseModel):
    key: str
    added_at: float
    added_by: str


class DynamicSetPage(BaseModel):
    name: str
    count: int
    assets: list[str]
    keys: list[DynamicKeyOut]
    next_cursor: str | None


class AddKeysRequest(_Strict):
    """Keys to add to a dynamic partition set; each must follow the partition-key grammar."""

    # Long keys pass here so that the grammar check can say why they are refused.
    keys: list[Annotated[Text, Field(max_length=16_384)]] = Field(
        min_length=1, max_length=1000, examples=[["acme", "globex"]]
    )


class AddedKeysOut(BaseModel):
    name: str
    added: list[str]
    already_present: list[str]
    count: int = Field(description="keys in the set now")


# -- backfills ----------------------------------------------------------------------------------


class BackfillProgressOut(BaseModel):
    """Run groups by the state of their latest run."""

    total: int
    succeeded: int
    failed: int = Field(description="finished without success (a resume re-runs them)")
    running: int = Field(description="queued or running now")
    pending: int = Field(description="not started yet (waiting their turn or on a failed group)")


class PartitionRangeIn(_Strict):
    """Every key from ``from`` to ``to`` (both included) of the selection's partition space, or
    of one dimension of a product space (then every key of the other dimensions)."""

    first: Annotated[Text, Field(min_length=1, max_length=1024, alias="from")]
    last: Annotated[Text, Field(min_length=1, max_length=1024, alias="to")]


class BackfillRequest(_Strict):
    """A backfill to create: a selection, and either a range of partition keys or a list."""

    selection: (
        Annotated[Text, Field(min_length=1, max_length=2000)]
        | list[Annotated[Text, Field(min_length=1, max_length=500)]]
    ) = Field(examples=["usage+", ["usage", "daily_usage"]])
    range: PartitionRangeIn | None = Field(
        default=None, examples=[{"from": "2025-01-01", "to": "2025-01-31"}]
    )
    partitions: list[Annotated[Text, Field(min_length=1, max_length=1024)]] | None = Field(
        default=None, max_length=10_000, description="explicit keys (at most 10,000)"
    )
    max_concurrent: int = Field(default=2, ge=1, le=256, description="runs at once")
    missing_only: bool = Field(default=False, description="skip partitions already materialized")
    config: RunConfigIn = Field(default_factory=dict, description="the run config of each run")


class BackfillOut(BaseModel):
    backfill_id: str
    selection: str
    status: str = Field(description="requested | running | paused | completed | failed | cancelled")
    planned: bool = Field(
        description="false until the daemon has planned its runs (created through the API)"
    )
    created_at: float
    updated_at: float
    keys: int
    first_key: str | None
    last_key: str | None
    groups: int
    max_concurrent: int
    missing_only: bool
    executor: str
    tags: dict[str, str]
    config: dict[str, Any] = Field(description="the run config each of its runs gets")
    driver: str | None
    lease_until: float | None
    error: str | None
    progress: BackfillProgressOut


class BackfillPage(BaseModel):
    backfills: list[BackfillOut]
    next_cursor: str | None


class BackfillDetailOut(BaseModel):
    backfill: BackfillOut
    keys_sample: list[str] = Field(description="its first partition keys (at most 20)")
    runs: list[RunOut] = Field(description="its runs, newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for older runs")


# -- automation ---------------------------------------------------------------------------------


class TickOut(BaseModel):
    id: int
    tick_key: str = Field(description="the scheduled time, cursor or message id it handled")
    ts: float
    status: str = Field(description="requested | skipped | failed")
    run_id: str | None
    reason: str | None


class TriggerOut(BaseModel):
    trigger_id: str
    pipeline: str
    kind: str = Field(description="cron | every | on_update | sensor | file_arrival | ...")
    name: str | None
    enabled: bool
    next_due: float | None = Field(description="when the daemon looks next; null: at once")
    last_tick: float | None
    cursor: str | None = Field(description="a sensor's or OnUpdate's cursor (cut at 500 chars)")
    spec: dict[str, Any] = Field(description="the trigger's description from the snapshot")
    next_fires: list[float] = Field(description="the next fire times of a schedule")
    latest_tick: TickOut | None


class TriggersOut(BaseModel):
    triggers: list[TriggerOut]
    unregistered: list[str] = Field(
        description="triggers of the current definitions the daemon has not registered yet"
    )


class TickPage(BaseModel):
    trigger_id: str
    ticks: list[TickOut]
    next_before_id: int | None
