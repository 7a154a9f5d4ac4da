"""The snapshot selector agrees with the graph selector on every form of the language."""

from __future__ import annotations

import pytest
import web_sample as sample

from legato.errors import SelectionError
from legato.graph.build import build_graph
from legato.graph.select import select
from legato.graph.snapshot import snapshot
from legato.web.catalog import index_snapshot
from legato.web.selection import select_keys

CASES = [
    "*",
    "raw_orders",
    "raw_orders+",
    "+report",
    "1+report",
    "raw_orders+1",
    "group:sales",
    "tag:tier",
    "tag:tier=bronze",
    "kind:task",
    "kind:asset",
    "*_orders",
    "report broken",
    "group:sales,broken",
    "+clean_orders+",
]


@pytest.fixture(scope="module")
def both():  # type: ignore[no-untyped-def]
    project = sample.project()
    graph = build_graph(project)
    return graph, index_snapshot(snapshot(project, graph), 1, "f", 0.0)


@pytest.mark.parametrize("selection", CASES)
def test_same_keys_as_the_graph_selector(both, selection):  # type: ignore[no-untyped-def]
    graph, defs = both
    assert select_keys(defs, selection) == select(graph, selection)


@pytest.mark.parametrize(
    "selection", ["nope", "group:none", "tag:x=y", "kind:table", "", "x" * 600, "a " * 300]
)
def test_errors_like_the_graph_selector(both, selection):  # type: ignore[no-untyped-def]
    _, defs = both
    with pytest.raises(SelectionError):
        select_keys(defs, selection)
