"""Contracts on hand-offs: what each step promises to produce and what each consumer expects,
compared on every edge of the graph when the project loads.

A step's output contract is its return annotation (``-> list[int]``) and, for a table, its
``contract=`` (or a ``TableContract`` in an ``Annotated`` return). A consumer's expectation is its
parameter's annotation and, for a table, the ``Needs(...)`` in an ``Annotated`` parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    return hand_off(
        producer.contract.output,
        mapped=producer.step.map_over is not None,
        as_mapping=_as_mapping(consumer, producer.key),
        one_item=param == consumer.step.map_over,
    )


def hand_off(
    output: Shape, *, mapped: bool, as_mapping: bool, one_item: bool
) -> tuple[Shape, bool]:
    """What a consumer receives of a producer that returns ``output``, and whether it is that
    value as returned: a mapped producer's results come as a list, several partitions read at
    once as ``{partition: value}``, and a parameter a step maps over gets one item."""
    shape, direct = output, True
    if mapped:  # its items' results, collected in order
        shape, direct = {"kind": "list", "item": shape}, False
    if as_mapping:
        shape, direct = {"kind": "dict", "key": {"kind": "str"}, "value": shape}, False
    if one_item:  # one item of the upstream's list
        item = shape.get("item") if shape["kind"] in ("list", "vartuple") else None
        shape, direct = item or ANY, False
    return shape, direct


def _as_mapping(consumer: Node, upstream: str) -> bool:
    """Whether ``consumer`` reads several partitions of ``upstream`` at once."""
    mapping = consumer.mappings.get(upstream)
    return mapping is not None and not single_valued(mapping)


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
                p, c = producer.step, consumer.step
                errors.append(
                    pair_error(
                        End(p.kind, p.key, p.source),
                        End(c.kind, c.key, c.source),
                        param,
                        shape,
                        want.shape,
                        found,
                    )
                )
    return errors


@dataclass(frozen=True)
class End:
    """One end of a hand-off, as messages name it; ``project`` when it is another project's."""

    kind: str
    key: str
    source: str | None
    project: str | None = None

    def __str__(self) -> str:
        of = f" of project {self.project!r}" if self.project else ""
        return f"{self.kind} {self.key!r}{of} ({self.source})"


def pair_error(
    p: End,
    c: End,
    param: str,
    shape: Shape,
    expects: Shape,
    found: Mismatch,
    source: str | None = None,
) -> ContractError:
    """The error of one incompatible hand-off: both ends, where they disagree, the two types
    and the fix. ``source``: where to point (default: the consumer's)."""
    ends = f"{c} reads {param!r} from {p}"
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
            f"{ends}: {p.key} returns {render(shape)}, {c.key} expects {render(expects)}; "
            f"at {found.path}: {found.reason}"
        )
        fix = (
            f"make {p.key} return {render(expects)} (its annotation and its values), or "
            f"annotate {c.key}'s parameter {param!r} as {render(shape)}"
        )
    return ContractError(
        message,
        producer=p.key,
        consumer=c.key,
        path=found.path,
        produced=found.produced,
        expected=found.expected,
        source=source or c.source,
        hint=fix,
    )


def contracts_snapshot(graph: Graph, root: Path | None = None) -> dict[str, Any]:
    """Every asset's and task's contracts as JSON, to compare two versions of a project (or
    two projects); sources are relative to ``root``. How a value is handed over when it is not
    as returned is marked: ``mapped`` and ``single_run`` on a step, ``as_mapping`` and
    ``one_item`` on an input; ``external`` on an asset another project produces."""
    steps = {}
    for key in graph.order:
        node = graph[key]
        step = node.step
        if step.kind not in ("asset", "task"):
            continue
        contract = node.contract
        inputs = {}
        for param, upstream in node.inputs.items():
            want = contract.inputs.get(param, Expects())
            inputs[param] = {
                "upstream": upstream,
                "expects": want.shape,
                "needs": None if want.needs is None else want.needs.describe(),
                **_flags(as_mapping=_as_mapping(node, upstream), one_item=param == step.map_over),
            }
        steps[key] = {
            "kind": step.kind,
            "source": _relative(step.source, root),
            "output": contract.output,
            "table": None if contract.table is None else contract.table.describe(),
            "inputs": inputs,
            **_flags(mapped=step.map_over is not None, single_run=step.single_run),
        }
        if step.external is not None:
            steps[key]["external"] = step.external
    return {"format": SNAPSHOT_FORMAT, "steps": steps}


def _flags(**flags: bool) -> dict[str, bool]:
    """Only the flags that are set: a snapshot of plain hand-offs stays as it was."""
    return {name: True for name, value in flags.items() if value}


def _relative(source: str | None, root: Path | None) -> str | None:
    if source is None or root is None:
        return source
    path, _, line = source.rpartition(":")
    try:
        return f"{Path(path).resolve().relative_to(root.resolve())}:{line}"
    except ValueError:
        return source
