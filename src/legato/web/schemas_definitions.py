"""Response models of the definitions a project holds: nodes, pipelines, run config schemas,
load errors, and the graph and its layout."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CheckDefinitionOut(BaseModel):
    """What a check step checks: its asset, its name, and how a failure counts."""

    asset: str
    name: str
    blocking: bool = False
    severity: str = "error"


class NodeOut(BaseModel):
    key: str
    kind: str
    group: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
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
    check: CheckDefinitionOut | None = Field(default=None, description="set on a check")


class PipelineOut(BaseModel):
    name: str
    selection: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
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
    object: str | None = None
    source: str | None = None
    hint: str | None = None


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
