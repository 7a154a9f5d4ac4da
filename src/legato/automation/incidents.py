"""What each kind of alert fact is about, and whether it has recovered.

A fact names a run, a violation, a trigger or a daemon; here it becomes an ``Incident`` (the
subject that one open alert stands for, a summary for people) with the attributes rules filter
on (pipelines, assets, groups, tags, from the store and the definitions snapshot). Recovery is
read from the facts themselves: a later successful run, a resolved violation, a trigger whose
latest tick did not fail, a check whose latest evaluation did not fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from legato.events.errors import ErrorInfo
from legato.events.status import RunStatus, StepStatus
from legato.graph.snapshot import DefinitionsSnapshot
from legato.store.alert_outbox import Fact
from legato.store.alerts import Alert, Incident
from legato.store.schema import runs, steps
from legato.store.schema_automation import ticks, triggers
from legato.store.schema_checks import check_results
from legato.store.schema_freshness import violations

Attributes = dict[str, set[str]]


def describe(
    conn: Connection, fact: Fact, snap: DefinitionsSnapshot
) -> tuple[Incident, Attributes] | None:
    """The incident a fact is about and its attributes; None if what it names is gone."""
    describe_kind = _DESCRIBE.get(fact.kind)
    return None if describe_kind is None else describe_kind(conn, fact, snap)


def recovered(conn: Connection, kind: str, detail: Mapping[str, Any]) -> bool:
    """Whether the subject of an alert (its kind and detail) has recovered."""
    check = _RECOVERED.get(kind)
    return True if check is None else check(conn, detail)


def is_recovered(conn: Connection, alert: Alert) -> bool:
    return recovered(conn, alert.kind, alert.detail)


# -- run_failed ---------------------------------------------------------------------------------


def _run_failed(
    conn: Connection, fact: Fact, snap: DefinitionsSnapshot
) -> tuple[Incident, Attributes] | None:
    run = conn.execute(select(runs).where(runs.c.run_id == fact.ref)).first()
    if run is None:
        return None
    failed = conn.execute(
        select(steps.c.node, steps.c.error).where(
            steps.c.run_id == run.run_id, steps.c.status == StepStatus.FAILED.value
        )
    ).all()
    nodes = sorted({row.node for row in failed})
    first = ErrorInfo.of(failed[0].error) if failed else ErrorInfo.of(run.error)
    what = f"pipeline {run.pipeline!r}" if run.pipeline else f"selection {run.selection!r}"
    reason = f": {nodes[0]}: {_line(first.message)}" if first and nodes else ""
    if first and not nodes:
        reason = f": {_line(first.message)}"
    attributes = _node_attributes(snap, nodes)
    attributes["tag"] |= {f"{k}={v}" for k, v in (run.tags or {}).items()}
    attributes["pipeline"] = {run.pipeline} if run.pipeline else set()  # the run's own
    incident = Incident(
        "run_failed",
        f"pipeline:{run.pipeline}" if run.pipeline else f"selection:{run.selection}",
        f"Run {run.run_id} of {what} failed{reason}",
        {
            "run_id": run.run_id,
            "pipeline": run.pipeline,
            "selection": run.selection,
            "created_at": run.created_at,
            "failed_steps": nodes,
        },
    )
    return incident, attributes


def _run_recovered(conn: Connection, detail: Mapping[str, Any]) -> bool:
    r = runs.c
    same = (
        r.pipeline == detail["pipeline"]
        if detail.get("pipeline")
        else (r.selection == detail.get("selection"))
    )
    later = conn.execute(
        select(r.run_id)
        .where(same, r.created_at > detail["created_at"], r.status == RunStatus.SUCCEEDED.value)
        .limit(1)
    ).first()
    return later is not None


# -- freshness_missed, sla_missed ---------------------------------------------------------------


def _violation(
    conn: Connection, fact: Fact, snap: DefinitionsSnapshot
) -> tuple[Incident, Attributes] | None:
    row = conn.execute(select(violations).where(violations.c.id == int(fact.ref))).first()
    if row is None:
        return None
    detail = row.detail or {}
    since = _at(row.late_since)
    if row.kind == "freshness":
        attributes = _node_attributes(snap, [row.asset_key])
        summary = f"Asset {row.subject!r} is late since {since}: {detail.get('reason', '')}"
    else:
        attributes = _pipeline_attributes(snap, row.pipeline)
        summary = (
            f"Pipeline {row.pipeline!r} missed its SLA at {since}: run {row.run_id} "
            f"({detail.get('run_status')}) expected {detail.get('expected', '')}"
        )
    incident = Incident(
        fact.kind,
        row.subject,
        summary,
        {
            "violation_id": row.id,
            "asset": row.asset_key,
            "pipeline": row.pipeline,
            "partition": row.partition,
            "run_id": row.run_id,
            "late_since": row.late_since,
        },
    )
    return incident, attributes


def _violation_recovered(conn: Connection, detail: Mapping[str, Any]) -> bool:
    query = select(violations.c.resolved_at).where(violations.c.id == detail["violation_id"])
    row = conn.execute(query).first()
    return row is None or row.resolved_at is not None


# -- trigger_erroring ---------------------------------------------------------------------------


def _trigger(
    conn: Connection, fact: Fact, snap: DefinitionsSnapshot
) -> tuple[Incident, Attributes] | None:
    row = conn.execute(select(triggers).where(triggers.c.trigger_id == fact.ref)).first()
    if row is None:
        return None
    attributes = _pipeline_attributes(snap, row.pipeline)
    reason = _line(str(fact.detail.get("reason", "")))
    incident = Incident(
        "trigger_erroring",
        row.trigger_id,
        f"Trigger {row.trigger_id!r} of pipeline {row.pipeline!r} failed: {reason}",
        {"trigger_id": row.trigger_id, "pipeline": row.pipeline},
    )
    return incident, attributes


def _trigger_recovered(conn: Connection, detail: Mapping[str, Any]) -> bool:
    t = triggers.c
    trigger = conn.execute(select(t.enabled).where(t.trigger_id == detail["trigger_id"])).first()
    if trigger is None or not trigger.enabled:
        return True  # gone from the definitions, or switched off
    latest = conn.execute(
        select(ticks.c.status)
        .where(ticks.c.trigger_id == detail["trigger_id"])
        .order_by(ticks.c.id.desc())
        .limit(1)
    ).scalar()
    return latest is not None and latest != "failed"


# -- check_failed -------------------------------------------------------------------------------


def _check(conn: Connection, fact: Fact, snap: DefinitionsSnapshot) -> tuple[Incident, Attributes]:
    d = fact.detail
    where = f"{d['asset']}[{d['partition']}]" if d.get("partition") else d["asset"]
    blocking = "; it is blocking: downstream steps were skipped" if d.get("blocking") else ""
    node = snap.node_index.get(d["check"])
    description = None if node is None else node.description
    about = f": {_line(str(description))}" if description else ""
    incident = Incident(
        "check_failed",
        f"check:{where}:{d['check']}",
        f"Check {d['check']!r} on {where} failed in run {d['run_id']}{about}{blocking}",
        dict(d),
    )
    return incident, _node_attributes(snap, [d["asset"]])


def _check_recovered(conn: Connection, detail: Mapping[str, Any]) -> bool:
    c = check_results.c
    latest = conn.execute(
        select(c.outcome)
        .where(
            c.asset_key == detail["asset"],
            c.check_key == detail["check"],
            c.partition == (detail.get("partition") or ""),
        )
        .order_by(c.id.desc())
        .limit(1)
    ).scalar()
    return latest is not None and latest != "fail"


# -- daemon_down --------------------------------------------------------------------------------


def _daemon(conn: Connection, fact: Fact, snap: DefinitionsSnapshot) -> tuple[Incident, Attributes]:
    d = fact.detail
    incident = Incident(
        "daemon_down",
        fact.ref,
        f"Daemon {fact.ref} (host {d.get('host')}, pid {d.get('pid')}) stopped without "
        f"shutting down; its last heartbeat was at {_at(float(d.get('last') or fact.ts))}. "
        "Its runs and triggers were taken over.",
        {"daemon_id": fact.ref, **d},
    )
    return incident, _empty()


# A daemon found dead is a one-off notice: the daemon that found it runs, so it has "recovered".
_DESCRIBE: dict[str, Callable[[Connection, Fact, DefinitionsSnapshot], Any]] = {
    "run_failed": _run_failed,
    "freshness_missed": _violation,
    "sla_missed": _violation,
    "trigger_erroring": _trigger,
    "check_failed": _check,
    "daemon_down": _daemon,
}
_RECOVERED: dict[str, Callable[[Connection, Mapping[str, Any]], bool]] = {
    "run_failed": _run_recovered,
    "freshness_missed": _violation_recovered,
    "sla_missed": _violation_recovered,
    "trigger_erroring": _trigger_recovered,
    "check_failed": _check_recovered,
}


def _empty() -> Attributes:
    return {"pipeline": set(), "asset": set(), "group": set(), "tag": set()}


def _node_attributes(snap: DefinitionsSnapshot, keys: list[Any]) -> Attributes:
    """The assets, their groups and tags, and the pipelines that select them."""
    out = _empty()
    for key in keys:
        if key is None:
            continue
        out["asset"].add(str(key))
        node = snap.node_index.get(key)
        if node is None:
            continue
        if node.group:
            out["group"].add(node.group)
        out["tag"] |= {f"{k}={v}" for k, v in node.tags.items()}
    for pipeline in snap.pipelines:
        if not out["asset"].isdisjoint(pipeline.nodes):
            out["pipeline"].add(pipeline.name)
    return out


def _pipeline_attributes(snap: DefinitionsSnapshot, name: str) -> Attributes:
    """A pipeline's own name and tags, with the attributes of the nodes it selects."""
    pipeline = snap.pipeline_index.get(name)
    out = _node_attributes(snap, [] if pipeline is None else list(pipeline.nodes))
    out["pipeline"] = {name}
    if pipeline is not None:
        out["tag"] |= {f"{k}={v}" for k, v in pipeline.tags.items()}
    return out


def _line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:300]


def _at(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
