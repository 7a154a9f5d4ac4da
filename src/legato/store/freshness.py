"""The freshness of every asset with a policy, now: the snapshot's policies applied to the
store's latest materializations (read by the daemon, the API and the CLI alike)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from legato.errors import LegatoError
from legato.graph.freshness import Assessment, Expectation, assess, node_expectations
from legato.graph.snapshot import NodeSnapshot, PipelineSnapshot
from legato.store.assets import materialized_times
from legato.store.engine import Store
from legato.store.partitions import dynamic_lookup


def policy_nodes(nodes: Iterable[NodeSnapshot]) -> list[NodeSnapshot]:
    """The snapshot's assets that declare a freshness policy."""
    return [n for n in nodes if n.freshness]


def assess_assets(
    store: Store, nodes: Iterable[NodeSnapshot], now: datetime
) -> tuple[dict[str, list[Assessment]], dict[str, str]]:
    """Each policy asset among ``nodes`` (a snapshot's), its subjects assessed at ``now``; and
    the error of each asset that could not be assessed (a space this version cannot rebuild,
    say)."""
    dynamic = dynamic_lookup(store)
    wanted: dict[str, list[Expectation]] = {}
    errors: dict[str, str] = {}
    for node in policy_nodes(nodes):
        key = node.key
        try:
            wanted[key] = node_expectations(node, now, dynamic)
        except LegatoError as exc:
            errors[key] = str(exc)
    seen = materialized_times(store, {k: [e.partition for e in v] for k, v in wanted.items()})
    at = now.timestamp()
    found = {
        key: [assess(e, seen.get((key, e.partition)), at) for e in expected]
        for key, expected in wanted.items()
    }
    return found, errors


def pipeline_slas(pipelines: Iterable[PipelineSnapshot]) -> dict[str, float]:
    """SLA seconds of each pipeline (a snapshot's) that has one."""
    return {p.name: p.sla for p in pipelines if p.sla}
