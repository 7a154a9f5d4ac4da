"""Request and response models of the REST API: validation at the boundary, and the OpenAPI spec.

Every string a client sends is bounded in length and refused if it holds a NUL or an unpaired
surrogate (neither can be stored faithfully in every database); run config must be a JSON
object that the store can encode.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from legato._internal.json_schema import non_finite_number
from legato.store._json import dumps
from legato.web.policy import Role
from legato.web.schemas_assets import CheckOut, TrustOut


def clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(clean_text)]
Key = Annotated[str, Field(max_length=255), AfterValidator(clean_text)]
Term = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(clean_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests -----------------------------------------------------------------------------------


class LaunchRunRequest(_Strict):
    """A run to queue. Give a ``selection``, a ``pipeline``, or both (the selection then narrows
    the pipeline's defaults: its tags apply, its selection does not)."""

    selection: Annotated[Term, Field(max_length=2000)] | list[Term] | None = Field(
        default=None, examples=["raw_orders+", ["group:sales", "report"]]
    )
    pipeline: Key | None = None
    partition: Annotated[Text, Field(max_length=1024)] = ""
    config: dict[str, Any] = Field(default_factory=dict)
    tags: dict[Key, Annotated[Text, Field(max_length=1024)]] = Field(default_factory=dict)

    @field_validator("config")
    @classmethod
    def _finite(cls, config: dict[str, Any]) -> dict[str, Any]:
        where = non_finite_number(config, "config")
        if where is not None:
            raise PydanticCustomError(
                "non_finite_number",
                "{where} is not a finite number (NaN, Infinity or out of range); JSON cannot "
                "carry one: send a finite number, or null",
                {"where": where},
            )
        return config

    @model_validator(mode="after")
    def _check(self) -> LaunchRunRequest:
        if isinstance(self.selection, list) and len(self.selection) > 200:
            raise ValueError("selection: at most 200 terms")
        if len(self.tags) > 50:
            raise ValueError("tags: at most 50 tags")
        try:
            encoded = dumps(self.config)
        except (TypeError, ValueError, UnicodeEncodeError, OverflowError) as exc:
            raise ValueError(f"config cannot be stored as JSON: {exc}") from None
        if len(encoded) > 256 * 1024:
            raise ValueError("config: at most 256 KiB of JSON")
        return self


class RerunRequest(_Strict):
    from_failure: bool = Field(
        default=True,
        description="re-execute only steps that did not succeed (and their downstream)",
    )


class LoginRequest(_Strict):
    username: Annotated[Text, Field(min_length=1, max_length=64)]
    password: Annotated[Text, Field(min_length=1, max_length=1024)]


class TokenRequest(_Strict):
    label: Annotated[Text, Field(max_length=128)] = ""
    expires_in: Annotated[
        Text | None,
        Field(
            max_length=32,
            description='how long the token lasts, e.g. "30d" or "12h" (1 minute to 3650 days; '
            "default: the server's api_token_expiry setting, 90 days unless set)",
        ),
    ] = None


class UserPatch(_Strict):
    role: Role | None = None
    active: bool | None = None


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
    tags: dict[str, Any]
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


class NodeOut(BaseModel):
    key: str
    kind: str
    group: str | None = None
    tags: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
    owners: list[str] = Field(default_factory=list)
    source: str | None = None
    upstream: list[str] = Field(default_factory=list)
    downstream: list[str] = Field(default_factory=list)
    partitions: Any = None
    pipelines: list[str] = Field(default_factory=list)
    config_schema: dict[str, Any] | None = Field(
        default=None, description="JSON Schema of the step's config model, if it takes one"
    )
    checks: list[str] = Field(default_factory=list, description="an asset's checks")
    check: dict[str, Any] | None = Field(
        default=None, description="a check's asset, name, blocking and severity"
    )


class PipelineOut(BaseModel):
    name: str
    selection: list[str] = Field(default_factory=list)
    tags: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
    source: str | None = None
    nodes: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict, description="its runs' default config")


class ConfigSchemaOut(BaseModel):
    config_schema: dict[str, Any] | None = Field(
        description="JSON Schema of the run config (each step's config under its key); null "
        "when no step of the run takes config"
    )
    defaults: dict[str, Any] = Field(description="the pipeline's default config, if any")
    steps: list[str] = Field(description="the steps of the run that take config")


class DefinitionErrorOut(BaseModel):
    message: str
    object: Any = None
    source: Any = None
    hint: Any = None


class DefinitionsOut(BaseModel):
    fingerprint: str
    created_at: float | None
    nodes: list[NodeOut]
    pipelines: list[PipelineOut]
    errors: list[DefinitionErrorOut]


class DefinitionErrorsOut(BaseModel):
    fingerprint: str
    errors: list[DefinitionErrorOut]


class GraphNodeOut(BaseModel):
    key: str
    kind: str
    group: str | None = None


class GraphOut(BaseModel):
    fingerprint: str
    nodes: list[GraphNodeOut]
    edges: list[list[str]] = Field(description="(upstream, downstream) key pairs")


class LayoutOut(BaseModel):
    fingerprint: str
    keys: list[str]
    kinds: list[str]
    groups: list[str | None]
    x: list[float]
    y: list[float]
    edges: list[list[int]] = Field(description="(upstream, downstream) indexes into keys")
    width: float
    height: float
    node_width: float
    node_height: float


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


class OverviewOut(BaseModel):
    running: list[RunOut]
    queued: list[RunOut]
    recent_failures: list[RunOut]
    daemon: dict[str, Any]
    definition_errors: int


class HealthOut(BaseModel):
    status: Literal["ok"]
    daemon: dict[str, Any]


class PrincipalOut(BaseModel):
    name: str
    role: str
    via: str


class SessionOut(BaseModel):
    user: PrincipalOut | None
    csrf_token: str
    local_mode: bool = Field(description="true when the implicit local admin applies")
    login_hint: str | None = Field(
        default=None, description="how to get in, when not logged in (e.g. local mode's token)"
    )


class UserOut(BaseModel):
    name: str
    role: str
    active: bool
    created_at: float


class UsersOut(BaseModel):
    users: list[UserOut]


class TokenOut(BaseModel):
    token_id: str
    label: str
    created_at: float
    expires_at: float
    last_used_at: float | None = Field(description="recorded at most once a minute")
    revoked_at: float | None
    state: Literal["active", "expired", "revoked"]


class TokensOut(BaseModel):
    tokens: list[TokenOut]


class CreatedToken(TokenOut):
    token: str = Field(description="shown once; store it now")


class AuditEntryOut(BaseModel):
    id: int
    ts: float
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before_id: int | None


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # e.g. run_id on a duplicate launch

    code: str
    message: str
    field: str | None = None
    hint: str | None = None


class ErrorOut(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorDetail
