"""The freshness of every asset with a policy, now: the snapshot's policies applied to the
store's latest materializations (read by the daemon, the API and the CLI alike)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from legato.errors import LegatoError
from legato.graph.freshness import Assessment, assess_node
from legato.store.assets import materialized_times
from legato.store.engine import Store
from legato.store.partitions import dynamic_lookup


def policy_nodes(snapshot: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The snapshot's assets that declare a freshness policy."""
    return [n for n in snapshot.get("nodes", []) if n.get("freshness")]


def assess_assets(
    store: Store, snapshot: Mapping[str, Any], now: datetime
) -> tuple[dict[str, list[Assessment]], dict[str, str]]:
    """Each policy asset's subjects, assessed at ``now``; and the error of each asset that could
    not be assessed (a space this version cannot rebuild, say)."""
    dynamic = dynamic_lookup(store)
    found: dict[str, list[Assessment]] = {}
    errors: dict[str, str] = {}
    for node in policy_nodes(snapshot):
        key = str(node["key"])
        try:
            found[key] = assess_node(
                node, now, lambda a, keys: materialized_times(store, a, keys), dynamic
            )
        except LegatoError as exc:
            errors[key] = str(exc)
    return found, errors


def pipeline_slas(snapshot: Mapping[str, Any]) -> dict[str, float]:
    """SLA seconds of each pipeline of the snapshot that has one."""
    return {str(p["name"]): float(p["sla"]) for p in snapshot.get("pipelines", []) if p.get("sla")}
