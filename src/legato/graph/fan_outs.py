"""What a plan's dynamic fan-outs need: one list, made in the same run.

A ``map_over`` step becomes one step per item once its run knows how long the list is; the engine
learns that from the step that made the list. So the list must come from one key of its
producer, and that producer must run (or be reused) in the same run. A plan that breaks either
rule is refused before the run starts, saying which step and what to change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from legato.errors import PartitionError, SelectionError
from legato.graph.graph import Graph

if TYPE_CHECKING:
    from legato.graph.plan import PlannedStep


def check_fan_outs(
    graph: Graph, steps: Sequence[PlannedStep], made: Collection[tuple[str, str]]
) -> None:
    """Raise unless every fan-out of ``steps`` maps over one list made by a step of ``made``
    ((node, partition key) of every step the plan runs)."""
    for planned in steps:
        node = graph[planned.key.node]
        param = node.step.map_over
        if param is None:
            continue
        source = node.inputs[param]
        read = planned.upstream.get(source)
        keys = read.keys if read is not None else ("",)
        where = f"{planned.key} (map_over={param!r})"
        if len(keys) != 1:
            raise PartitionError(
                f"{where} would read {len(keys)} partitions of {source!r}, but a fan-out maps "
                "over one list",
                obj=str(planned.key),
                hint=f"give {node.key!r} the partitions of {source!r} (partitions=) so that each "
                f"of its partitions maps over one list, or map over a task that combines them",
            )
        if (source, keys[0]) not in made:
            shown = f"{source}[{keys[0]}]" if keys[0] else source
            raise SelectionError(
                f"{where} maps over {shown}, which this run does not make: a fan-out learns how "
                "many items it has from the step that made its list, in the same run",
                obj=str(planned.key),
                hint=f"select {source!r} too (e.g. '{source}+')",
            )
