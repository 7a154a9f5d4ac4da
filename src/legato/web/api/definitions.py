"""Definitions from the latest snapshot: nodes, pipelines, errors, the graph and its layout, and
the latest status of every node (what colours the lineage)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from legato.graph.run_config import selection_config_schema
from legato.graph.snapshot import ErrorSnapshot, PipelineSnapshot
from legato.web.api._convert import node_data
from legato.web.api.params import Defs, State
from legato.web.errors import ApiError
from legato.web.layout import NODE_HEIGHT, NODE_WIDTH
from legato.web.policy import V1
from legato.web.responses import fast_json
from legato.web.schemas_assets import StatusOut
from legato.web.schemas_definitions import (
    ConfigSchemaOut,
    DefinitionErrorOut,
    DefinitionErrorsOut,
    DefinitionsOut,
    GraphNodeOut,
    GraphOut,
    LayoutOut,
)
from legato.web.selection import select_keys

router = APIRouter(prefix=V1, tags=["definitions"])

Selection = Annotated[
    str | None,
    Query(max_length=2000, description="a selection such as 'raw_orders+' or 'group:sales'"),
]
PipelineName = Annotated[str | None, Query(max_length=255, description="a pipeline's name")]


@router.get("/definitions", response_model=DefinitionsOut)
def definitions(defs: Defs) -> Response:
    """Every asset and task of the latest snapshot (topological order), pipelines and errors."""
    return fast_json(  # thousands of nodes: encoded from the snapshot's own structs at once
        {
            "fingerprint": defs.fingerprint,
            "created_at": defs.created_at,
            "nodes": [node_data(defs, k) for k in defs.nodes],
            "pipelines": [_pipeline(p) for p in defs.pipelines.values()],
            "errors": [_error(e) for e in defs.errors],
        }
    )


def _pipeline(pipeline: PipelineSnapshot) -> dict[str, Any]:
    """A pipeline as ``PipelineOut`` describes it."""
    return {
        "name": pipeline.name,
        "selection": pipeline.selection,
        "tags": pipeline.tags,
        "description": pipeline.description,
        "source": pipeline.source,
        "nodes": pipeline.nodes,
        "config": pipeline.config,
    }


def _error(error: ErrorSnapshot) -> dict[str, Any]:
    """A definition error as ``DefinitionErrorOut`` describes it."""
    return {
        "message": error.message,
        "object": error.object,
        "source": error.source,
        "hint": error.hint,
    }


@router.get("/definitions/errors", response_model=DefinitionErrorsOut)
def definition_errors(defs: Defs) -> DefinitionErrorsOut:
    """Errors the loader recorded with the snapshot (empty when the project loaded cleanly)."""
    return DefinitionErrorsOut(
        fingerprint=defs.fingerprint, errors=[DefinitionErrorOut(**_error(e)) for e in defs.errors]
    )


@router.get("/config-schema", response_model=ConfigSchemaOut)
def config_schema(
    defs: Defs, pipeline: PipelineName = None, select: Selection = None
) -> ConfigSchemaOut:
    """The JSON Schema of the config of a run of a pipeline or a selection (as ``POST /runs``
    would run it), with the pipeline's defaults: what a form for launching it needs."""
    described: PipelineSnapshot | None = None
    if pipeline is not None:
        described = defs.pipelines.get(pipeline)
        if described is None:
            raise ApiError(
                404,
                f"no pipeline {pipeline!r} in the current definitions",
                field="pipeline",
                hint=f"pipelines are {sorted(defs.pipelines)[:20]}",
            )
    terms = select or (described.selection if described is not None else None) or "*"
    schema = selection_config_schema(defs.nodes, select_keys(defs, terms))
    return ConfigSchemaOut(
        config_schema=schema,
        defaults=dict(described.config) if described is not None else {},
        steps=list((schema or {}).get("properties", {})),
    )


@router.get("/graph", response_model=GraphOut)
def graph(defs: Defs, select: Selection = None) -> GraphOut:
    """Nodes and edges, restricted to ``select`` (400 naming the term that matches nothing)."""
    keys = set(defs.nodes) if not select else select_keys(defs, select)
    ordered = [k for k in defs.lineage_keys() if k in keys]
    return GraphOut(
        fingerprint=defs.fingerprint,
        nodes=[
            GraphNodeOut(key=k, kind=defs.nodes[k].kind, group=defs.nodes[k].group) for k in ordered
        ],
        edges=[[a, b] for a, b in defs.edges() if a in keys and b in keys],
    )


@router.get("/graph/layout", response_model=LayoutOut)
def layout(defs: Defs, state: State) -> Response:
    """Positions of every node in one plane, computed on the server and cached per snapshot."""
    placed = state.catalog.layout(defs)
    nodes = [defs.nodes[k] for k in placed.keys]
    return fast_json(
        {
            "fingerprint": defs.fingerprint,
            "keys": placed.keys,
            "kinds": [n.kind for n in nodes],
            "groups": [n.group for n in nodes],
            "x": placed.x,
            "y": placed.y,
            "edges": placed.edges,
            "width": placed.width,
            "height": placed.height,
            "node_width": NODE_WIDTH,
            "node_height": NODE_HEIGHT,
        }
    )


@router.get("/graph/status", response_model=StatusOut)
def status(state: State, defs: Defs) -> StatusOut:
    """The status of each node's step in its newest recent run, and when each asset was last
    materialized."""
    statuses, materialized = state.statuses.get(defs)
    return StatusOut(statuses=statuses, materialized_at=materialized)
