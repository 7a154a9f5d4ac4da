"""GraphSnapshot: a JSON-able description of the project, for processes that never import user code.

The daemon and the web server read the latest snapshot from the store; whoever loads the user's
code (the CLI, the loader child process) writes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from legato.definitions.project import Project
from legato.graph.contracts import contracts_snapshot
from legato.graph.graph import Graph
from legato.graph.run_config import node_config_schema, selection_config_schema
from legato.graph.select import select


def _partitions(space: Any) -> Any:
    if space is None:
        return None
    describe = getattr(space, "describe", None)
    return describe() if callable(describe) else {"kind": type(space).__name__}


def snapshot(project: Project, graph: Graph) -> dict[str, Any]:
    """Everything the UI and the daemon need to know about the definitions, as plain data."""
    nodes = []
    for key in graph.order:
        node = graph[key]
        step = node.step
        nodes.append(
            {
                "key": key,
                "kind": step.kind,
                "group": step.group,
                "tags": dict(step.tags),
                "description": step.description,
                "owners": list(step.owners),
                "source": step.source,
                "upstream": list(node.upstream),
                "inputs": dict(node.inputs),
                "partitions": _partitions(step.partitions),
                "map_over": step.map_over,
                "retries": None if step.retries is None else step.retries.max_retries,
                "timeout": step.timeout,
                "io_manager": step.io_manager,
                "pool": step.pool,
                "freshness": None if step.freshness is None else step.freshness.describe(),
                "config_schema": node_config_schema(node),
                "check": None if step.check is None else dataclasses.asdict(step.check),
                "checks": list(graph.checks_of.get(key, ())),
                "external": step.external,
            }
        )
    pipelines = []
    for pipe in project.pipelines.values():
        try:
            members = sorted(select(graph, pipe.selection))
        except Exception:  # a broken selection is reported by `legato check`, not here
            members = []
        pipelines.append(
            {
                "name": pipe.name,
                "selection": list(pipe.selection),
                "tags": dict(pipe.tags),
                "description": pipe.description,
                "source": pipe.source,
                "nodes": members,
                "executor": pipe.executor,
                "priority": pipe.priority,
                "sla": pipe.sla,
                "retention": None if pipe.retention is None else pipe.retention.describe(),
                "triggers": [_trigger(t) for t in pipe.triggers],
                "config": dict(pipe.config),
                "config_schema": selection_config_schema(graph, members),
            }
        )
    return {
        "nodes": nodes,
        "pipelines": pipelines,
        "resources": sorted(project.resources),
        "secrets": sorted(project.secret_names()),  # names only: each process resolves its own
        "contracts": contracts_snapshot(graph),  # compared with other projects sharing the store
    }


def _trigger(trigger: Any) -> dict[str, Any]:
    data = dict(trigger.describe())
    data.pop("next_fires", None)  # depends on the clock; the daemon computes it
    return data


def fingerprint(data: dict[str, Any]) -> str:
    """A stable hash of a snapshot, to store a new one only when something changed."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
