"""Run config: the part of a run's config each step with a config model reads, and its checking.

A run's config is a JSON object. A step whose function takes a config model (see
``definitions/config.py``) reads the object under its own key, e.g. ``{"clean_orders":
{"min_amount": 5}}``; other top-level keys are free-form values every step sees in
``context.run_config``. The run's schema gathers the schemas of the config steps it executes, so
one JSON Schema describes a pipeline's or a selection's config (the API serves it, the UI renders
a form from it) and one check applies it, wherever the run is requested.

Every requester finds the schema the same way, :func:`selection_config_schema` (from the graph
where user code is loaded, from the definitions snapshot where it is not), and hands it to
``NewRun`` (``store/run_requests.py``), which refuses a config that does not fit before anything
is recorded. A requester whose runs cannot take the usual fix (a schedule's, a backfill's, a
re-run's) says so with :func:`check_run_config`'s ``context`` and ``fix``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from legato._internal.json_schema import Problem, dotted, non_finite_number, problems
from legato.definitions.config import config_schema
from legato.errors import RunConfigError
from legato.graph.graph import Graph, Node

if TYPE_CHECKING:  # the snapshot is built from the schemas found here
    from legato.graph.snapshot import NodeSnapshot


def run_nodes(
    selected: Iterable[str],
    upstream: Callable[[str], Iterable[str]],
    is_task: Callable[[str], bool],
) -> set[str]:
    """The nodes a run of ``selected`` executes: the selection and the tasks upstream of it (a
    task's result is not persistent, so it runs again)."""
    wanted = set(selected)
    frontier = list(wanted)
    while frontier:
        key = frontier.pop()
        for up in upstream(key):
            if up not in wanted and is_task(up):
                wanted.add(up)
                frontier.append(up)
    return wanted


def node_config_schema(node: Node) -> dict[str, Any] | None:
    """The JSON Schema of ``node``'s config model, or None if it takes no config (or is a
    check: a check taking a config model receives its asset's config)."""
    if node.config_param is None or node.step.check is not None:
        return None
    for param in node.step.params:
        if param.name == node.config_param:
            return config_schema(param.annotation)
    return None


def graph_config_schema(graph: Graph, nodes: Iterable[str]) -> dict[str, Any] | None:
    """The config schema of a run of ``nodes`` (None: none of them takes config)."""
    return run_config_schema({k: node_config_schema(graph[k]) for k in graph.sorted(nodes)})


def selection_config_schema(
    definitions: Graph | Mapping[str, NodeSnapshot], selected: Iterable[str]
) -> dict[str, Any] | None:
    """The config schema of a run of ``selected`` (with the tasks upstream of it, which run
    again): from the graph where user code is loaded, from a definitions snapshot's nodes (by
    key) where it is not. None: none of those steps takes config."""
    if isinstance(definitions, Graph):
        graph = definitions
        executed = run_nodes(
            (k for k in selected if k in graph),
            lambda k: graph[k].upstream,
            lambda k: graph[k].step.kind == "task",
        )
        return graph_config_schema(graph, executed)
    return snapshot_config_schema(definitions, selected)


def snapshot_config_schema(
    nodes: Mapping[str, NodeSnapshot], selected: Iterable[str]
) -> dict[str, Any] | None:
    """``graph_config_schema`` from a definitions snapshot's nodes by key (for processes without
    user code)."""

    def upstream(key: str) -> list[str]:
        node = nodes.get(key)
        return [] if node is None else node.upstream

    def is_task(key: str) -> bool:
        node = nodes.get(key)
        return node is not None and node.kind == "task"

    keys = run_nodes((k for k in selected if k in nodes), upstream, is_task)
    return run_config_schema({k: n.config_schema for k, n in nodes.items() if k in keys})


def run_config_schema(steps: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """One JSON Schema for a run's config from the schemas of its steps (each under its key)."""
    properties: dict[str, Any] = {}
    defs: dict[str, Any] = {}
    required = []
    for key, schema in steps.items():
        if schema is None:
            continue
        prefix = f"{key}."
        own = _rehome(dict(schema), prefix)
        for name, definition in own.pop("$defs", {}).items():
            defs[prefix + name] = definition
        properties[key] = own
        if schema.get("required"):
            required.append(key)
    if not properties:
        return None
    combined: dict[str, Any] = {
        "type": "object",
        "title": "Run config",
        "description": "each step's config under its key; other keys are free-form",
        "properties": properties,
        "required": required,
        "additionalProperties": True,
    }
    if defs:
        combined["$defs"] = defs
    return combined


def _rehome(schema: Any, prefix: str) -> Any:
    """``schema`` with its ``#/$defs/X`` references renamed ``#/$defs/<prefix>X``."""
    if isinstance(schema, dict):
        out = {k: _rehome(v, prefix) for k, v in schema.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = "#/$defs/" + prefix + ref.removeprefix("#/$defs/")
        return out
    if isinstance(schema, list):
        return [_rehome(v, prefix) for v in schema]
    return schema


def merge_config(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """A pipeline's default config with a run's own over it (one level deep inside each step)."""
    merged = dict(defaults)
    for key, value in given.items():
        base = merged.get(key)
        both = isinstance(base, Mapping) and isinstance(value, Mapping)
        merged[key] = {**base, **value} if both else value  # type: ignore[dict-item]
    return merged


def check_run_config(
    schema: Mapping[str, Any] | None,
    config: Mapping[str, Any],
    *,
    context: str | None = None,
    fix: str | None = None,
    complete: bool = True,
) -> None:
    """Raise ``RunConfigError`` naming every problem of ``config`` (with its step, path and fix):
    a number JSON cannot carry (NaN, infinity), and, with a ``schema``, what does not fit it.

    Args:
        context: what the requester is, before the message (``"the backfill's config"``): the
            message then says why the config is what it is.
        fix: what that requester can change, first in the hint (a schedule's runs get only
            their pipeline's config; a re-run, its parent's).
        complete: False: check only what ``config`` gives, not that it gives every required
            field (a pipeline's defaults, which each request completes).
    """
    if schema is not None and not complete:
        schema = _given_only(schema)
    found = problems(schema, dict(config), name="the run config") if schema is not None else []
    where = None if found else non_finite_number(dict(config), "")
    if where is not None:  # in a free-form value, which no schema describes
        path = where.removeprefix(".")
        found.append(
            Problem(tuple(path.split(".")), f"{path} is not a finite number", "write a finite one")
        )
    if found:
        raise _error(found, schema).framed(context, fix)


# What the runs of a trigger that carries no config of its own are called in an error.
_RUNS_OF = {
    "cron": "a scheduled run",
    "every": "a scheduled run",
    "on_update": "a run OnUpdate requests",
    "file_arrival": "a run a file arrival requests",
}


def check_triggered_config(
    schema: Mapping[str, Any] | None, config: Mapping[str, Any], pipeline: str, kind: str
) -> None:
    """The runs of a trigger that carries no config of its own (``kind``: a schedule, OnUpdate,
    file arrival) get their pipeline's config and nothing else: refuse a pipeline config
    (``Pipeline(config=...)``) that does not fit the steps it runs, naming the step, the field
    and the fix. The daemon asks before a schedule makes a run, ``legato check`` at load."""
    check_run_config(
        schema,
        config,
        context=f"{_RUNS_OF.get(kind, 'a triggered run')} gets only its pipeline's config",
        fix="give the config model's fields defaults, or set them in "
        f"Pipeline({pipeline!r}, config={{...}})",
    )


def _given_only(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with no step and no field of a step required (a nested object given is still
    checked whole: a request's config replaces it, it is not merged into)."""
    steps = {
        key: {k: v for k, v in step.items() if k != "required"} if isinstance(step, dict) else step
        for key, step in schema.get("properties", {}).items()
    }
    return {**schema, "properties": steps, "required": []}


def _error(found: list[Problem], schema: Mapping[str, Any] | None) -> RunConfigError:
    steps = set((schema or {}).get("properties", {}))
    listed = [
        {
            "step": str(p.path[0]) if p.path and p.path[0] in steps else "",
            "path": dotted(p.path),
            "message": p.message,
            "hint": p.hint,
        }
        for p in found[:50]
    ]
    named = sorted({p["step"] for p in listed if p["step"]})
    about = (
        f" of step{'s' if len(named) > 1 else ''} {', '.join(map(repr, named))}" if named else ""
    )
    count = f"{len(found)} problems: " if len(found) > 1 else ""
    message = f"the run config{about} is invalid: {count}" + "; ".join(p["message"] for p in listed)
    hint = "; ".join(f"{p['path']}: {p['hint']}" for p in listed)
    return RunConfigError(message, problems=listed, hint=hint)
