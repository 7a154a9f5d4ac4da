"""Request and response models of runs: launching and re-running, a run and its steps, events
and log lines, and the overview of what runs now."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from legato._internal.json_schema import non_finite_number
from legato.store._json import dumps
from legato.web.schemas import Key, Term, Text, _Strict

# -- requests -----------------------------------------------------------------------------------


def _storable_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run config the store can keep: finite numbers only, at most 256 KiB of JSON."""
    where = non_finite_number(config, "config")
    if where is not None:
        raise PydanticCustomError(
            "non_finite_number",
            "{where} is not a finite number (NaN, Infinity or out of range); JSON cannot "
            "carry one: send a finite number, or null",
            {"where": where},
        )
    try:
        encoded = dumps(config)
    except (TypeError, ValueError, UnicodeEncodeError, OverflowError) as exc:
        raise ValueError(f"config cannot be stored as JSON: {exc}") from None
    if len(encoded) > 256 * 1024:
        raise ValueError("config: at most 256 KiB of JSON")
    return config


RunConfigIn = Annotated[
    dict[str, Any],
    AfterValidator(_storable_config),
    Field(description="each config step's part under its key; checked against its config model"),
]


class LaunchRunRequest(_Strict):
    """A run to queue. Give a ``selection``, a ``pipeline``, or both (the selection then narrows
    the pipeline's defaults: its tags apply, its selection does not)."""

    selection: Annotated[Term, Field(max_length=2000)] | list[Term] | None = Field(
        default=None, examples=["raw_orders+", ["group:sales", "report"]]
    )
    pipeline: Key | None = None
    partition: Annotated[Text, Field(max_length=1024)] = ""
    config: RunConfigIn = Field(default_factory=dict)
    tags: dict[Key, Annotated[Text, Field(max_length=1024)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> LaunchRunRequest:
        if isinstance(self.selection, list) and len(self.selection) > 200:
            raise ValueError("selection: at most 200 terms")
        if len(self.tags) > 50:
            raise ValueError("tags: at most 50 tags")
        return self


class RerunRequest(_Strict):
    from_failure: bool = Field(
        default=True,
        description="re-execute only steps that did not succeed (and their downstream)",
    )


# -- responses ----------------------------------------------------------------------------------


class FailureOut(BaseModel):
    """Why a run or a step failed: the exception's type, its message and the traceback."""

    type: str = ""
    message: str = ""
    traceback: str = ""


class RunOut(BaseModel):
    run_id: str
    status: str
    pipeline: str | None
    selection: str
    partition: str
    created_at: float
    started_at: float | None
    ended_at: float | None
    duration: float | None
    parent_run_id: str | None
    from_failure: bool
    trigger: str
    executor: str
    priority: int
    backfill_id: str | None
    tags: dict[str, str]
    config: dict[str, Any]
    error: FailureOut | None = None


class RunPage(BaseModel):
    runs: list[RunOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page")


class LaunchedRun(BaseModel):
    run: RunOut


class PinOut(BaseModel):
    run_id: str
    pinned: bool = Field(description="kept whatever the retention policy says")


class AttemptOut(BaseModel):
    attempt: int
    started_at: float | None
    ended_at: float | None
    status: str


class StepOut(BaseModel):
    step_key: str
    node: str
    partition: str
    map_index: int
    kind: str
    status: str
    attempt: int
    started_at: float | None
    ended_at: float | None
    reused_from: str | None
    error: FailureOut | None = None
    attempts: list[AttemptOut]


class StepsOut(BaseModel):
    run: RunOut
    steps: list[StepOut]


class EventOut(BaseModel):
    id: int
    type: str
    step: str
    ts: float
    attempt: int
    status: str | None
    data: Any = None


class EventPage(BaseModel):
    events: list[EventOut]
    next_after_id: int


class LogLineOut(BaseModel):
    id: int
    step_key: str
    ts: float
    level: str
    stream: str
    message: str


class LogPage(BaseModel):
    lines: list[LogLineOut]
    next_after_id: int = Field(description="pass as ?after_id= to continue (or to tail)")
    run_status: str


class OverviewOut(BaseModel):
    running: list[RunOut]
    queued: list[RunOut]
    recent_failures: list[RunOut]
    daemon: dict[str, Any]
    definition_errors: int
