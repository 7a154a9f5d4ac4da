"""Plan a backfill where the project's code is loaded: ``legato backfill`` before it records one,
and the daemon's code server for one recorded unplanned (created through the REST API).

Both plan the same way: the keys of a range are made by the space (never listed from it), and
the store is asked only about the keys that matter (see ``legato.graph.backfill``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from legato.errors import SelectionError
from legato.graph.backfill import BackfillPlan, plan_backfill
from legato.graph.graph import Graph
from legato.graph.plan import partition_range
from legato.graph.run_config import check_run_config, graph_config_schema
from legato.graph.select import select
from legato.store.backfills import get_backfill, record_plan
from legato.store.engine import Store
from legato.store.partitions import dynamic_lookup, materialized_among


def plan_request(
    graph: Graph,
    store: Store,
    selection: Sequence[str],
    *,
    keys: Sequence[str] = (),
    first: str | None = None,
    last: str | None = None,
    missing_only: bool = False,
    single_run: bool = False,
    config: Mapping[str, Any] | None = None,
) -> tuple[Sequence[str], BackfillPlan]:
    """The keys of the request (``keys``, and the range ``first``..``last``) and its plan;
    ``config``, the run config each of its runs gets, is checked against the steps it plans."""
    nodes = select(graph, list(selection))
    dynamic = dynamic_lookup(store)
    if first or last:
        if not (first and last):
            raise SelectionError("--from and --to go together", hint="give both ends of the range")
        ranged = partition_range(graph, nodes, first, last, dynamic=dynamic)
        keys = [*keys, *ranged] if keys else ranged  # a range alone is not checked key by key
    if not keys:
        raise SelectionError(
            "a backfill needs partition keys",
            hint="pass --from KEY --to KEY, --keys K1,K2 or --partition KEY",
        )
    plan = plan_backfill(
        graph,
        nodes,
        keys,
        # what exists already, asked about the keys that matter: the selection's (to skip with
        # missing_only) and those it reads but does not plan (a month of which the backfill
        # covers two days waits for the others)
        materialized=lambda asset, among: materialized_among(store, asset, among),
        missing_only=missing_only,
        single_run=single_run,
        dynamic=dynamic,
    )
    check_backfill_config(graph, plan, config or {})
    return keys, plan


def check_backfill_config(graph: Graph, plan: BackfillPlan, config: Mapping[str, Any]) -> None:
    """Every run of a backfill gets its one config: refuse one that does not fit the config
    models of the steps it plans, before any run."""
    check_run_config(
        graph_config_schema(graph, {n for g in plan.groups for n in g.nodes}),
        config,
        context="the backfill's config",
        fix="give each of its runs' config with legato backfill SELECTION --config JSON "
        '(or "config" in POST /api/v1/backfills)',
    )


def plan_recorded(graph: Graph, store: Store, backfill_id: str) -> dict[str, Any]:
    """Plan a backfill recorded unplanned and store its run groups; what was planned."""
    record = get_backfill(store, backfill_id)
    request = record.plan_request()
    if request is None:
        return {"groups": len(record.groups), "planned_before": True}
    wanted = request.range
    keys, plan = plan_request(
        graph,
        store,
        record.selection.split(),
        keys=record.keys if wanted is None else (),
        first=None if wanted is None else wanted[0],
        last=None if wanted is None else wanted[1],
        missing_only=record.missing_only,
        config=record.config,
    )
    record_plan(store, record.backfill_id, keys, [g.as_dict() for g in plan.groups])
    return {
        "groups": len(plan.groups),
        "keys": len(keys),
        "waiting": [w.describe() for w in plan.waiting[:5]],
    }
