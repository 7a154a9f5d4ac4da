"""Freshness: each asset's policy and whether it holds now, each pipeline's SLA, and the
violations the daemon recorded (one per miss, with its recovery).

The state now is assessed here from the snapshot and the store, so it is true even while no
daemon runs; violations are what the daemon saw (and alerted on) over time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from legato.graph.freshness import Assessment
from legato.store.freshness import assess_assets, pipeline_slas
from legato.store.violations import Violation, list_violations, sla_misses
from legato.web.api.params import BeforeId, Defs, KeyQuery, Limit, State
from legato.web.policy import V1
from legato.web.schemas_alerts import (
    AssetFreshnessOut,
    FreshnessOut,
    PipelineSlaOut,
    SubjectOut,
    ViolationOut,
)

router = APIRouter(prefix=V1, tags=["freshness"])


def violation_out(v: Violation) -> ViolationOut:
    return ViolationOut(
        id=v.id,
        kind=v.kind,
        subject=v.subject,
        asset=v.asset_key,
        pipeline=v.pipeline,
        partition=v.partition,
        run_id=v.run_id,
        late_since=v.late_since,
        opened_at=v.opened_at,
        resolved_at=v.resolved_at,
        detail=v.detail,
    )


@router.get("/freshness", response_model=FreshnessOut)
def freshness(
    state: State,
    defs: Defs,
    asset: KeyQuery = None,
    pipeline: KeyQuery = None,
    before_id: BeforeId = None,
    limit: Limit = 50,
) -> FreshnessOut:
    """Every asset with a freshness policy (``asset`` for one) and whether it is fresh now, per
    subject; every pipeline with an SLA (``pipeline`` for one) and whether its latest due run
    kept it; and the recorded violations, newest first (continue with ``before_id``)."""
    now = datetime.now(UTC)
    nodes = [n for k, n in defs.nodes.items() if (asset is None or k == asset) and n.freshness]
    found, errors = assess_assets(state.store, nodes, now)
    assets = [
        AssetFreshnessOut(
            asset=n.key,
            policy=dict(n.freshness or {}),
            status=_status(found.get(n.key), n.key in errors),
            error=errors.get(n.key),
            subjects=[
                SubjectOut(
                    subject=a.subject,
                    partition=a.partition,
                    late=a.late,
                    late_since=a.late_since,
                    materialized_at=a.materialized_at,
                    expected=a.expected,
                )
                for a in found.get(n.key, [])
            ],
        )
        for n in nodes
    ]
    slas = {
        name: sla
        for name, sla in pipeline_slas(defs.pipelines.values()).items()
        if pipeline is None or name == pipeline
    }
    missed = {m.subject: m for m in sla_misses(state.store, slas, now.timestamp())}
    pipelines = [
        PipelineSlaOut(
            pipeline=name,
            sla_seconds=sla,
            status="missed" if name in missed else "ok",
            run_id=missed[name].run_id if name in missed else None,
        )
        for name, sla in sorted(slas.items())
    ]
    rows = list_violations(
        state.store, asset=asset, pipeline=pipeline, before_id=before_id, limit=limit
    )
    return FreshnessOut(
        now=now.timestamp(),
        assets=assets,
        pipelines=pipelines,
        violations=[violation_out(v) for v in rows],
        next_before_id=rows[-1].id if len(rows) == limit else None,
    )


def _status(found: list[Assessment] | None, failed: bool) -> str:
    if failed or found is None:
        return "unknown"
    return "late" if any(a.late for a in found) else "fresh"
