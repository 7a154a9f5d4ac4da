"""Project → Graph: resolve each parameter, find cycles and typos, report them with file:line."""

from __future__ import annotations

import difflib
from collections import defaultdict, deque
from dataclasses import replace

from legato.definitions.config import config_schema, model_kind
from legato.definitions.partitions import PartitionMapping, infer_mapping
from legato.definitions.project import Project
from legato.definitions.resources import Resource
from legato.definitions.step import CONTEXT_PARAM, StepDef
from legato.errors import (
    CycleError,
    DefinitionError,
    LegatoError,
    MissingUpstreamError,
    PartitionError,
)
from legato.graph.contracts import contract_errors
from legato.graph.graph import Graph, Node
from legato.graph.step_contracts import step_contract


def build_graph(project: Project) -> Graph:
    """Build the graph, raising the first definition error (``find_errors`` lists them all)."""
    graph, errors = _build(project)
    if errors:
        raise errors[0]
    return graph


def find_errors(project: Project) -> list[LegatoError]:
    """Every definition error in the project, for ``legato check``."""
    return _build(project)[1]


def build_graph_with_errors(project: Project) -> tuple[Graph, list[LegatoError]]:
    """The graph as far as it can be built, and every definition error (for snapshots that show
    a broken project's errors next to what still works)."""
    return _build(project)


def _build(project: Project) -> tuple[Graph, list[LegatoError]]:
    steps = {s.key: s for s in project.steps}
    steps = {k: _placed(s, steps) for k, s in steps.items()}
    by_name: dict[str, list[str]] = defaultdict(list)
    for key in steps:
        by_name[key.rsplit(".", 1)[-1]].append(key)
    errors: list[LegatoError] = []
    nodes: dict[str, Node] = {}
    for step in steps.values():
        try:
            nodes[step.key] = _resolve(step, steps, by_name, project)
        except LegatoError as exc:
            errors.append(exc)
            nodes[step.key] = Node(step)
    downstream: dict[str, list[str]] = defaultdict(list)
    for node in nodes.values():
        for up in node.upstream:
            downstream[up].append(node.key)
    order, cycle = _toposort(nodes)
    if cycle:
        path = " → ".join(cycle)
        first = steps[cycle[0]]
        errors.append(
            CycleError(
                f"dependency cycle: {path}",
                obj=cycle[0],
                source=first.source,
                hint=(
                    "remove one of these dependencies; each step is listed with its source: "
                    + "; ".join(f"{k} ({steps[k].source})" for k in cycle[:-1])
                ),
            )
        )
    checks_of: dict[str, list[str]] = defaultdict(list)
    for key, node in nodes.items():
        if node.step.check is not None and node.upstream:
            checks_of[node.step.check.asset].append(key)
    graph = Graph(
        nodes,
        tuple(_checks_after_assets(order, checks_of)),
        {k: tuple(v) for k, v in downstream.items()},
        {k: tuple(v) for k, v in checks_of.items()},
    )
    errors += contract_errors(graph)
    return graph, errors


def _placed(step: StepDef, steps: dict[str, StepDef]) -> StepDef:
    """A check takes its asset's partitions (one check step per materialized key) and group."""
    asset = steps.get(step.check.asset) if step.check is not None else None
    if asset is None:
        return step
    return replace(step, partitions=asset.partitions, group=step.group or asset.group)


def _checks_after_assets(order: list[str], checks_of: dict[str, list[str]]) -> list[str]:
    """Each asset's checks right after it: they run as soon as it is materialized, and the
    planner sees them before any downstream step that waits for them."""
    placed = {c for checks in checks_of.values() for c in checks}
    out: list[str] = []
    for key in order:
        if key not in placed:
            out.append(key)
            out.extend(checks_of.get(key, ()))
    return out


def _resolve(
    step: StepDef, steps: dict[str, StepDef], by_name: dict[str, list[str]], project: Project
) -> Node:
    what = f"{step.kind} {step.key!r} ({step.source})"
    inputs: dict[str, str] = {}
    resources: dict[str, str] = {}
    context_param = config_param = None
    for param in step.params:
        explicit = step.ins.get(param.name)
        if explicit is not None:
            inputs[param.name] = _existing(explicit.key, what, steps, step)
            continue
        if (
            param.name == CONTEXT_PARAM
            or getattr(param.annotation, "__name__", "") == "StepContext"
        ):
            context_param = param.name
            continue
        named_upstream = param.name in steps or param.name in by_name
        if model_kind(param.annotation) is not None and not named_upstream:
            # a model-typed parameter is the step's config, unless it names an upstream: then
            # it receives that upstream's value (a Struct handed over, checked by its contract)
            if config_param is not None:
                raise DefinitionError(
                    f"{what} takes two config models: {config_param!r} and {param.name!r}",
                    obj=step.key,
                    source=step.source,
                    hint="merge them into one model (a field may hold the other)",
                )
            _describable(param.annotation, what, step)
            config_param = param.name
            continue
        resource = _resource_for(param.name, param.annotation, project)
        if resource is not None:
            resources[param.name] = resource
            continue
        if param.name in steps:
            inputs[param.name] = param.name
            continue
        candidates = by_name.get(param.name, [])
        if len(candidates) == 1:
            inputs[param.name] = candidates[0]
        elif len(candidates) > 1:
            raise DefinitionError(
                f"{what}: parameter {param.name!r} could mean any of {sorted(candidates)}",
                obj=step.key,
                source=step.source,
                hint=f'say which with ins={{"{param.name}": "{sorted(candidates)[0]}"}}',
            )
        elif not param.has_default:
            raise MissingUpstreamError(
                f"{what} depends on {param.name!r}, which no asset, task or resource defines",
                obj=step.key,
                source=step.source,
                hint=_did_you_mean(param.name, steps, project),
            )
    upstream = list(dict.fromkeys(inputs.values()))
    for dep in step.deps:
        key = _existing(dep.key, what, steps, step)
        if key not in upstream:
            upstream.append(key)
    if step.key in upstream:
        raise CycleError(
            f"{what} depends on itself",
            obj=step.key,
            source=step.source,
            hint="remove the self-dependency",
        )
    if step.check is not None:
        _check_target(step, steps, upstream, what)
    if step.map_over is not None and step.map_over not in inputs:
        raise DefinitionError(
            f"{what}: map_over={step.map_over!r} must name an upstream input",
            obj=step.key,
            source=step.source,
            hint="map over a parameter whose upstream returns a list",
        )
    mappings = _mappings(step, upstream, steps, what)
    contract = step_contract(step, inputs)
    return Node(
        step, inputs, resources, context_param, config_param, tuple(upstream), mappings, contract
    )


def _check_target(step: StepDef, steps: dict[str, StepDef], upstream: list[str], what: str) -> None:
    """A check reads one asset: the one it checks."""
    assert step.check is not None
    asset = step.check.asset
    if steps[asset].kind != "asset":
        raise DefinitionError(
            f"{what} checks {asset!r}, which is a {steps[asset].kind}",
            obj=step.key,
            source=step.source,
            hint="checks apply to assets; make it an asset, or check an asset downstream",
        )
    others = [k for k in upstream if k != asset]
    if others:
        raise DefinitionError(
            f"{what} reads {others[0]!r} besides the asset it checks, {asset!r}",
            obj=step.key,
            source=step.source,
            hint="a check reads only its asset: check the asset that joins them, or read the "
            "other data through a resource",
        )


def _describable(model: type, what: str, step: StepDef) -> None:
    """A config model must have a JSON Schema: runs are checked against it, forms made from it."""
    try:
        config_schema(model)
    except Exception as exc:  # each library raises its own kinds of errors here
        raise DefinitionError(
            f"{what}: config model {model.__name__} has no JSON Schema: {exc}",
            obj=step.key,
            source=step.source,
            hint="use field types JSON can carry (str, int, float, bool, lists, dicts, "
            "enums, dates, nested models)",
        ) from None


def _mappings(
    step: StepDef, upstream: list[str], steps: dict[str, StepDef], what: str
) -> dict[str, PartitionMapping]:
    """The partition mapping of every edge into ``step``: given on the Dep, else inferred."""
    given = {d.key: d.mapping for d in (*step.ins.values(), *step.deps) if d.mapping is not None}
    out: dict[str, PartitionMapping] = {}
    for up in upstream:
        up_space, down_space = steps[up].partitions, step.partitions
        if up_space is None and down_space is None and up not in given:
            continue
        try:
            mapping = given.get(up) or infer_mapping(up_space, down_space)
            mapping.check(up_space, down_space)
        except PartitionError as exc:
            raise PartitionError(
                f"{what} depends on {up!r}: {exc.message}",
                obj=step.key,
                source=step.source,
                hint=(exc.hint or "")
                + f'; give it as ins={{"param": Dep({up!r}, mapping=...)}} or deps=[Dep(...)]',
            ) from None
        out[up] = mapping
    return out


def _existing(key: str, what: str, steps: dict[str, StepDef], step: StepDef) -> str:
    if key not in steps:
        raise MissingUpstreamError(
            f"{what} depends on {key!r}, which no asset or task defines",
            obj=step.key,
            source=step.source,
            hint=_did_you_mean(key, steps, None),
        )
    return key


def _resource_for(name: str, annotation: object, project: Project) -> str | None:
    if name in project.resources:
        return name
    if isinstance(annotation, type) and issubclass(annotation, Resource):
        matches = [n for n, r in project.resources.items() if isinstance(r, annotation)]
        if len(matches) == 1:
            return matches[0]
        return name  # reported when resources are set up, with the config to add
    return None


def _did_you_mean(name: str, steps: dict[str, StepDef], project: Project | None) -> str:
    pool = list(steps) + [k.rsplit(".", 1)[-1] for k in steps]
    if project is not None:
        pool += list(project.resources)
    tokens = sorted(name.lower().split("_"))
    close = [p for p in pool if sorted(p.lower().split("_")) == tokens]  # words swapped
    close = close or difflib.get_close_matches(name, pool, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "define it, fix the parameter name, or give the parameter a default"


def _toposort(nodes: dict[str, Node]) -> tuple[list[str], list[str]]:
    """Kahn's algorithm in declaration order; on a cycle, also return one cycle's path."""
    indegree = dict.fromkeys(nodes, 0)
    children: dict[str, list[str]] = defaultdict(list)
    for node in nodes.values():
        for up in node.upstream:
            if up in nodes:
                indegree[node.key] += 1
                children[up].append(node.key)
    ready = deque(k for k, d in indegree.items() if d == 0)
    order: list[str] = []
    while ready:
        key = ready.popleft()
        order.append(key)
        for child in children[key]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if len(order) == len(nodes):
        return order, []
    left = {k for k, d in indegree.items() if d > 0}
    return order, _find_cycle(left, nodes)


def _find_cycle(left: set[str], nodes: dict[str, Node]) -> list[str]:
    start = min(left)
    path: list[str] = []
    index: dict[str, int] = {}
    key = start
    while key not in index:
        index[key] = len(path)
        path.append(key)
        key = next(up for up in nodes[key].upstream if up in left)
    cycle = [*path[index[key] :], key]
    cycle.reverse()  # upstream first: a → b means b depends on a
    return cycle
