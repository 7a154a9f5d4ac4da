"""Contracts on hand-offs: what each step promises to produce and what each consumer expects,
compared on every edge of the graph when the project loads.

A step's output contract is its return annotation (``-> list[int]``) and, for a table, its
``contract=`` (or a ``TableContract`` in an ``Annotated`` return). A consumer's expectation is its
parameter's annotation and, for a table, the ``Needs(...)`` in an ``Annotated`` parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from legato.errors import ContractError
from legato.graph.compat import Mismatch, table_mismatch, value_mismatch
from legato.graph.graph import Graph, Node
from legato.graph.plan import single_valued
from legato.graph.shapes import ANY, Shape, render
from legato.graph.step_contracts import Expects

SNAPSHOT_FORMAT = "legato-contracts/1"


def handed_shape(graph: Graph, consumer: Node, param: str) -> tuple[Shape, bool] | None:
    """The shape of what ``consumer``'s ``param`` receives, and whether it is the producer's
    value as returned (not a list of mapped results, a ``{partition: value}`` or an item); None
    when it is not compared (a single-run step on either end)."""
    producer = graph[consumer.inputs[param]]
    if producer.step.single_run or consumer.step.single_run:
        return None
    shape, direct = producer.contract.output, True
    if producer.step.map_over is not None:  # its items' results, collected in order
        shape, direct = {"kind": "list", "item": shape}, False
    mapping = consumer.mappings.get(producer.key)
    if mapping is not None and not single_valued(mapping):  # several partitions: {key: value}
        shape, direct = {"kind": "dict", "key": {"kind": "str"}, "value": shape}, False
    if param == consumer.step.map_over:  # one item of the upstream's list
        item = shape.get("item") if shape["kind"] in ("list", "vartuple") else None
        shape, direct = item or ANY, False
    return shape, direct


def contract_errors(graph: Graph) -> list[ContractError]:
    """Every producer → consumer hand-off whose consumer expects what the producer's contract
    does not promise."""
    errors = []
    for consumer in graph.nodes.values():
        expects = consumer.contract.inputs
        for param, want in expects.items():
            handed = handed_shape(graph, consumer, param)
            if handed is None:
                continue
            shape, direct = handed
            producer = graph[consumer.inputs[param]]
            found = value_mismatch(shape, want.shape)
            if found is None and want.needs is not None and direct:
                table = producer.contract.table
                described = None if table is None else table.describe()
                found = table_mismatch(described, want.needs.describe())
            if found is not None:
                errors.append(_error(producer, consumer, param, shape, want, found))
    return errors


def _error(
    producer: Node, consumer: Node, param: str, shape: Shape, want: Expects, found: Mismatch
) -> ContractError:
    p, c = producer.step, consumer.step
    ends = f"{c.kind} {c.key!r} ({c.source}) reads {param!r} from {p.kind} {p.key!r} ({p.source})"
    if found.path.startswith("column"):
        message = f"{ends}: {found.reason}"
        column = found.path.removeprefix("column ")
        fix = (
            f"declare {column}: {found.expected!r} in {p.key}'s contract (and return it so), "
            f"or change what {c.key} Needs"
            if found.expected != "not null"
            else f"add {column} to not_null in {p.key}'s contract, or drop it from {c.key}'s "
            "not_null"
        )
    else:
        message = (
            f"{ends}: {p.key} returns {render(shape)}, {c.key} expects {render(want.shape)}; "
            f"at {found.path}: {found.reason}"
        )
        fix = (
            f"make {p.key} return {render(want.shape)} (its annotation and its values), or "
            f"annotate {c.key}'s parameter {param!r} as {render(shape)}"
        )
    return ContractError(
        message,
        producer=p.key,
        consumer=c.key,
        path=found.path,
        produced=found.produced,
        expected=found.expected,
        source=c.source,
        hint=fix,
    )


def contracts_snapshot(graph: Graph, root: Path | None = None) -> dict[str, Any]:
    """Every asset's and task's contracts as JSON, to compare two versions of a project;
    sources are relative to ``root``."""
    steps = {}
    for key in graph.order:
        node = graph[key]
        if node.step.kind not in ("asset", "task"):
            continue
        contract = node.contract
        inputs = {}
        for param, upstream in node.inputs.items():
            want = contract.inputs.get(param, Expects())
            inputs[param] = {
                "upstream": upstream,
                "expects": want.shape,
                "needs": None if want.needs is None else want.needs.describe(),
            }
        steps[key] = {
            "kind": node.step.kind,
            "source": _relative(node.step.source, root),
            "output": contract.output,
            "table": None if contract.table is None else contract.table.describe(),
            "inputs": inputs,
        }
    return {"format": SNAPSHOT_FORMAT, "steps": steps}


def _relative(source: str | None, root: Path | None) -> str | None:
    if source is None or root is None:
        return source
    path, _, line = source.rpartition(":")
    try:
        return f"{Path(path).resolve().relative_to(root.resolve())}:{line}"
    except ValueError:
        return source
