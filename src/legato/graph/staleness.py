"""Which materialized partitions are stale: an upstream partition they read changed after them.

Pure: the materialization times are handed in, per asset, as ``{partition key: timestamp}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from legato.definitions.partitions import DynamicLookup
from legato.graph.graph import Graph


def stale_keys(
    graph: Graph,
    asset: str,
    keys: Iterable[str],
    materialized: Mapping[str, Mapping[str, float]],
    *,
    now: datetime | None = None,
    dynamic: DynamicLookup | None = None,
) -> set[str]:
    """Keys of ``asset`` (among ``keys``, all materialized) older than an upstream they read."""
    node = graph[asset]
    mine = materialized.get(asset, {})
    stale: set[str] = set()
    for up in node.upstream:
        theirs = materialized.get(up)
        if not theirs:
            continue
        mapping = node.mappings.get(up)
        up_space = graph[up].partitions
        for key in keys:
            at = mine.get(key)
            if at is None or key in stale:
                continue
            if mapping is None or up_space is None:
                up_keys = [""]
            else:
                up_keys = mapping.upstream_keys(
                    key or None, up_space, node.partitions, now=now, dynamic=dynamic
                )
            if any(theirs.get(k, 0.0) > at for k in up_keys):
                stale.add(key)
    return stale
