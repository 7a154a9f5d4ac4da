"""The lineage layout: layers follow the edges, crossings go down, 10,000 nodes stay fast."""

from __future__ import annotations

import random

from legato.web.layout import NODE_HEIGHT, NODE_WIDTH, layered_layout


def _crossings(layout) -> int:  # type: ignore[no-untyped-def]
    by_layer: dict[int, list[tuple[float, float]]] = {}
    for a, b in layout.edges:
        if layout.layer[b] == layout.layer[a] + 1:
            by_layer.setdefault(layout.layer[a], []).append((layout.y[a], layout.y[b]))
    count = 0
    for segments in by_layer.values():
        for i, (a1, b1) in enumerate(segments):
            for a2, b2 in segments[i + 1 :]:
                count += (a1 - a2) * (b1 - b2) < 0
    return count


def test_every_edge_points_right_and_no_boxes_overlap():
    keys = ["a", "b", "c", "d", "e", "lonely"]
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c"), ("c", "e")]
    layout = layered_layout(keys, edges)
    index = {k: i for i, k in enumerate(keys)}
    for up, down in edges:
        assert layout.x[index[up]] < layout.x[index[down]]
    boxes = list(zip(layout.x, layout.y, strict=True))
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1 :]:
            assert abs(x1 - x2) >= NODE_WIDTH or abs(y1 - y2) >= NODE_HEIGHT
    assert layout.layer[index["d"]] == layout.layer[index["c"]] - 1  # sources sit by consumers


def test_barycenter_sweeps_untangle_a_crossed_bipartite_graph():
    top = [f"t{i}" for i in range(8)]
    bottom = [f"b{i}" for i in range(8)]
    edges = [(top[i], bottom[7 - i]) for i in range(8)]  # fully reversed: 28 crossings as given
    layout = layered_layout(top + bottom, edges)
    assert _crossings(layout) == 0


def test_unknown_endpoints_self_loops_and_cycles_do_not_break_it():
    layout = layered_layout(["a", "b"], [("a", "zzz"), ("a", "a"), ("a", "b"), ("b", "a")])
    assert len(layout.x) == 2


def test_ten_thousand_nodes_are_laid_out_with_every_edge_pointing_downstream():
    """Scale without a stopwatch (bench/web measures the time): every node is placed, every edge
    goes to a later layer, and no two nodes share a box."""
    rng = random.Random(7)
    keys = [f"n{i}" for i in range(10_000)]
    edges = [
        (keys[rng.randrange(max(0, i - 300), i)], keys[i])
        for i in range(1, 10_000)
        for _ in range(rng.choice((0, 1, 2)))
    ]
    layout = layered_layout(keys, edges)
    assert len(layout.keys) == 10_000 and layout.width > 0 and layout.height > 0
    index = {k: i for i, k in enumerate(layout.keys)}
    assert all(layout.layer[index[a]] < layout.layer[index[b]] for a, b in edges)
    assert all(layout.x[index[a]] < layout.x[index[b]] for a, b in edges)
    assert len(set(zip(layout.x, layout.y, strict=True))) == 10_000
