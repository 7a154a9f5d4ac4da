"""The definitions snapshot: a typed description of the project, for processes that never import
user code.

Whoever loads the user's code (the CLI, the daemon's code server) builds it with
:func:`snapshot` and records it as plain data (:func:`as_data`); the daemon and the web server
read the latest one back with :func:`read_snapshot` into the same structs, so a snapshot that
does not fit is a :class:`~legato.errors.SnapshotError` naming the snapshot and the field, never
a ``KeyError`` deep in a loop. The JSON names are the fields' names. Fields added after the first
version have defaults, so a snapshot recorded by an older Legato still reads; unknown fields are
ignored.

Some parts stay plain JSON, each read by its own typed reader where it is used:

- ``partitions``, ``freshness`` (a node's) and ``retention`` (a pipeline's): a policy's or a
  space's ``describe()``, rebuilt by ``space_from_description``, ``Freshness.from_description``
  and ``Retention.from_description``, which know every kind and every older form;
- ``triggers``: each trigger's description, tagged by ``kind`` and read by
  ``parse_trigger_spec`` one trigger at a time, so a trigger this version cannot read fails
  that trigger, not the whole snapshot;
- ``config_schema`` (JSON Schema), ``config`` (a pipeline's default run config, any JSON) and
  ``contracts`` (``contracts_snapshot``, read by ``graph.cross_project``): documents whose shape
  is their own format's.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from legato.definitions.project import Project
from legato.errors import LegatoError, SnapshotError
from legato.graph.contracts import contracts_snapshot
from legato.graph.graph import Graph
from legato.graph.run_config import node_config_schema, selection_config_schema
from legato.graph.select import select

RECORD_AGAIN = (
    "load the project with this Legato to record its definitions again: restart the daemon "
    "(it records them within seconds), or run `legato assets` in the project"
)


# The structs hold plain data and never form cycles, so the garbage collector does not track them
# (gc=False): reading the snapshot of a project of 10,000 nodes sets off far fewer collections.


class CheckSnapshot(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What a check step checks: its asset, its name, and how a failure counts."""

    asset: str
    name: str
    blocking: bool = False
    severity: str = "error"


class NodeSnapshot(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An asset, task or check, as the daemon and the web server know it."""

    key: str
    kind: str  # asset, task or check
    group: str | None = None
    tags: dict[str, str] = {}
    description: str | None = None
    owners: list[str] = []
    source: str | None = None  # file:line
    upstream: list[str] = []  # every upstream key: inputs, then order-only dependencies
    inputs: dict[str, str] = {}  # parameter → upstream key
    partitions: dict[str, Any] | None = None  # the space's description
    map_over: str | None = None
    retries: int | None = None
    timeout: float | None = None
    io_manager: str | None = None
    pool: str | None = None
    freshness: dict[str, Any] | None = None  # the policy's description
    config_schema: dict[str, Any] | None = None
    check: CheckSnapshot | None = None  # set on a check
    checks: list[str] = []  # an asset's checks
    external: str | None = None  # the project that produces it ("": any), never run here


class PipelineSnapshot(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A pipeline: its selection and the nodes it selects, its run defaults and its triggers."""

    name: str
    selection: list[str] = []
    tags: dict[str, str] = {}
    description: str | None = None
    source: str | None = None
    nodes: list[str] = []  # empty when its selection does not resolve
    executor: str | None = None
    priority: int = 0
    sla: float | None = None  # seconds
    retention: dict[str, Any] | None = None  # the policy's description
    triggers: list[dict[str, Any]] = []  # each trigger's description (kind first)
    config: dict[str, Any] = {}
    config_schema: dict[str, Any] | None = None  # of a run of its selection


class ErrorSnapshot(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A definition error of a project that loads only in part (``LegatoError.as_dict``)."""

    error: str | None = None  # its kind, e.g. DefinitionError
    message: str
    object: str | None = None
    source: str | None = None
    hint: str | None = None

    def describe(self) -> str:
        """One line: what is wrong, then ``fix:`` and the hint (``message`` ends with it)."""
        if not self.hint:
            return self.message
        return f"{self.message.removesuffix(f'; {self.hint}')}; fix: {self.hint}"


class DefinitionsSnapshot(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    """Everything the daemon and the web server know about a project's definitions (``dict``:
    its indexes are computed once, on first use)."""

    nodes: list[NodeSnapshot] = []  # in topological order
    pipelines: list[PipelineSnapshot] = []
    resources: list[str] = []
    secrets: list[str] = []  # names only: each process resolves its own
    contracts: dict[str, Any] | None = None  # compared with other projects sharing the store
    errors: list[ErrorSnapshot] = []  # a project that loads in part: what failed, and where

    @functools.cached_property
    def node_index(self) -> dict[str, NodeSnapshot]:
        """The nodes by key, in topological order."""
        return {n.key: n for n in self.nodes}

    @functools.cached_property
    def pipeline_index(self) -> dict[str, PipelineSnapshot]:
        """The pipelines by name."""
        return {p.name: p for p in self.pipelines}


def _partitions(space: Any) -> Any:
    if space is None:
        return None
    describe = getattr(space, "describe", None)
    return describe() if callable(describe) else {"kind": type(space).__name__}


def snapshot(
    project: Project, graph: Graph, errors: list[LegatoError] | None = None
) -> DefinitionsSnapshot:
    """Everything the UI and the daemon need to know about the definitions; ``errors``: what
    failed to load, for a project that loads in part (``graph`` is then what does)."""
    nodes = []
    for key in graph.order:
        node = graph[key]
        step = node.step
        check = step.check
        nodes.append(
            NodeSnapshot(
                key=key,
                kind=step.kind,
                group=step.group,
                tags=dict(step.tags),
                description=step.description,
                owners=list(step.owners),
                source=step.source,
                upstream=list(node.upstream),
                inputs=dict(node.inputs),
                partitions=_partitions(step.partitions),
                map_over=step.map_over,
                retries=None if step.retries is None else step.retries.max_retries,
                timeout=step.timeout,
                io_manager=step.io_manager,
                pool=step.pool,
                freshness=None if step.freshness is None else step.freshness.describe(),
                config_schema=node_config_schema(node),
                check=None
                if check is None
                else CheckSnapshot(
                    asset=check.asset,
                    name=check.name,
                    blocking=check.blocking,
                    severity=check.severity,
                ),
                checks=list(graph.checks_of.get(key, ())),
                external=step.external,
            )
        )
    pipelines = []
    for pipe in project.pipelines.values():
        try:
            members = sorted(select(graph, pipe.selection))
        except Exception:  # a broken selection is reported by `legato check`, not here
            members = []
        pipelines.append(
            PipelineSnapshot(
                name=pipe.name,
                selection=list(pipe.selection),
                tags=dict(pipe.tags),
                description=pipe.description,
                source=pipe.source,
                nodes=members,
                executor=pipe.executor,
                priority=pipe.priority,
                sla=pipe.sla,
                retention=None if pipe.retention is None else pipe.retention.describe(),
                triggers=[_trigger(t) for t in pipe.triggers],
                config=dict(pipe.config),
                config_schema=selection_config_schema(graph, members),
            )
        )
    return DefinitionsSnapshot(
        nodes=nodes,
        pipelines=pipelines,
        resources=sorted(project.resources),
        secrets=sorted(project.secret_names()),
        contracts=contracts_snapshot(graph),
        errors=[_error(e) for e in errors or ()],
    )


def _error(error: LegatoError) -> ErrorSnapshot:
    described: ErrorSnapshot = msgspec.convert(error.as_dict(), ErrorSnapshot)
    return described


def _trigger(trigger: Any) -> dict[str, Any]:
    data = dict(trigger.describe())
    data.pop("next_fires", None)  # depends on the clock; the daemon computes it
    return data


def as_data(snap: DefinitionsSnapshot) -> dict[str, Any]:
    """The snapshot as plain JSON data, as the store records it and the code server sends it."""
    data: dict[str, Any] = msgspec.to_builtins(snap)
    return data


def read_snapshot(data: Any, *, where: str = "a definitions snapshot") -> DefinitionsSnapshot:
    """The snapshot recorded as ``data`` (as :func:`as_data` gives it); ``where`` names it in
    the SnapshotError raised when it does not fit (a missing or mistyped field)."""
    try:
        snap: DefinitionsSnapshot = msgspec.convert(data, DefinitionsSnapshot)
    except msgspec.ValidationError as exc:
        raise SnapshotError(
            f"{where} cannot be read by this Legato: {_located(str(exc), data)}",
            obj=where,
            hint=RECORD_AGAIN,
        ) from None
    return snap


_ENTRY = re.compile(r"`\$\.(nodes|pipelines)\[(\d+)\]")


def _located(problem: str, data: Any) -> str:
    """msgspec's ``... - at `$.nodes[3].kind``` with the node or pipeline named too."""
    found = _ENTRY.search(problem)
    if found is None or not isinstance(data, Mapping):
        return problem
    entries, index = data.get(found[1]), int(found[2])
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    name = entry.get("key" if found[1] == "nodes" else "name") if isinstance(entry, dict) else None
    if not isinstance(name, str):
        return problem
    what = "node" if found[1] == "nodes" else "pipeline"
    return f"{problem} ({what} {name!r})"


def fingerprint(data: Mapping[str, Any]) -> str:
    """A stable hash of a snapshot's data (:func:`as_data`), to store a new snapshot only when
    something changed; the same as for the untyped snapshots of earlier versions."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
