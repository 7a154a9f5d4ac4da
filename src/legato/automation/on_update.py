"""OnUpdate: new materializations of the targets' upstreams → runs of the target partitions whose
inputs are ready.

Only trusted materializations count. One that failed a blocking check starts nothing, and
counts as not materialized when a target partition's readiness is judged; the tick's reason
names it. One whose blocking checks have not run yet (its run is still going) is waited for: the
cursor stops before it, so a target never runs on a value its checks have not passed, and
moves past it once they have.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from legato.automation.evaluation import Evaluation, RequestedRun
from legato.definitions.triggers import OnUpdate
from legato.graph.graph import Graph
from legato.store import schema
from legato.store.engine import Store
from legato.store.partitions import dynamic_lookup
from legato.store.runs import get_runs
from legato.store.trust import Verdict, latest_verdicts, partition_label, verdicts

MAX_EVENTS = 10_000
NAMED = 3  # untrusted materializations a tick's reason names; the others are counted
NAMED_MISSING = 2  # missing upstream partitions a waiting tick names; the others are counted


def evaluate_on_update(
    graph: Graph,
    store: Store,
    targets: set[str],
    trigger: OnUpdate,
    cursor: str | None,
    now: datetime,
) -> Evaluation:
    """New materializations of the targets' upstreams → runs of the target partitions whose
    inputs are ready (all / any / at least ``min_count`` of the upstream keys they read, each
    materialized and trusted).

    The cursor is the last materialization id looked at; while catching up on materializations
    older than the trigger (``OnUpdate(since=...)``) it is ``"<id>~<last id of the catch-up>"``,
    and target partitions already materialized are not requested again."""
    m = schema.materializations.c
    if cursor is None:
        return _first_look(store, trigger, now)
    after, _, catch_up = cursor.partition("~")
    with store.read() as conn:
        rows = conn.execute(
            select(m.id, m.asset_key, m.partition, m.run_id)
            .where(m.id > int(after))
            .order_by(m.id)
            .limit(MAX_EVENTS)
        ).all()
    if not rows:
        return Evaluation(cursor=after, skip_reason="no new materializations")
    trust = Trust(graph, store)
    watched = [r for r in rows if _feeds(graph, targets, r.asset_key)]
    judged = trust.judge((r.asset_key, r.partition, r.run_id) for r in watched)
    waiting = next((i for i, v in enumerate(judged) if trust.pending(v)), None)
    if waiting is not None:  # look again once its checks have run
        rows = [r for r in rows if r.id < watched[waiting].id]
        if not rows:
            return Evaluation(cursor=cursor, skip_reason=_waiting(judged[waiting]))
        judged = judged[:waiting]
    caught_up_at = int(catch_up or 0)
    dynamic = dynamic_lookup(store)
    untrusted = [v for v in judged if not v.trusted]
    candidates: dict[tuple[str, str], bool] = {}  # → seen only in materializations of the catch-up
    for row in rows:
        old = row.id <= caught_up_at
        if (row.asset_key, row.partition, row.run_id) in trust.untrusted:
            continue  # not trusted: it starts nothing (the reason says so)
        for target in graph.downstream.get(row.asset_key, ()):
            if target not in targets or graph[target].step.check is not None:
                continue  # a check runs with its asset's materialization, not after it
            mapping = graph[target].mappings.get(row.asset_key)
            up_space = graph[row.asset_key].partitions
            if mapping is None or up_space is None or graph[target].partitions is None:
                candidates[(target, "")] = candidates.get((target, ""), True) and old
                continue
            for key in mapping.downstream_keys(
                row.partition or None, up_space, graph[target].partitions, now=now, dynamic=dynamic
            ):
                candidates[(target, key)] = candidates.get((target, key), True) and old
    by_target: dict[str, list[str]] = {}
    for (target, key), old in candidates.items():
        if old:
            by_target.setdefault(target, []).append(key)
    existing = {(t, k) for t, keys in by_target.items() for k in _materialized(store, t, keys)}
    requests: list[RequestedRun] = []
    held: list[Verdict] = []
    lacking: dict[str, list[str]] = {}  # target partition → the upstream partitions it lacks
    for target, key in candidates:
        if (target, key) in existing:
            continue  # catching up: a partition that exists is not made again
        ready, holding, missing = _ready(graph, trust, target, key, trigger, now, dynamic)
        if ready:
            requests.append(
                RequestedRun(selection=target, partition=key, key=f"{target}[{key}]@{rows[-1].id}")
            )
        elif missing:
            lacking[partition_label(target, key)] = missing
        held += holding
    untrusted += [v for v in held if not v.trusted]
    last = rows[-1].id
    next_cursor = f"{last}~{caught_up_at}" if last < caught_up_at else str(last)
    return Evaluation(
        requests=requests,
        cursor=next_cursor,
        skip_reason=_reason(bool(requests), untrusted, held, lacking),
    )


class Trust:
    """Verdicts on upstream materializations, and whether their blocking checks are still to
    run (their run is going and has recorded no result of a blocking check the definitions
    declare); the runs' states are read once per evaluation."""

    def __init__(self, graph: Graph, store: Store) -> None:
        self.graph, self.store = graph, store
        self.untrusted: set[tuple[str, str, str]] = set()
        self._finished: dict[str, bool] = {}

    def judge(self, materializations: Iterable[tuple[str, str, str]]) -> list[Verdict]:
        """The verdict on each materialization, in the order given."""
        wanted = list(materializations)
        if not wanted:
            return []
        found = verdicts(self.store, wanted)
        self._note(found.values())
        return [found[m] for m in wanted]

    def latest(self, asset: str, partitions: Collection[str]) -> dict[str, Verdict]:
        """The verdict on the latest materialization of each partition that has one."""
        found = latest_verdicts(self.store, [(asset, p) for p in partitions])
        self._note(found.values())
        return {partition: v for (_, partition), v in found.items()}

    def usable(self, verdict: Verdict) -> bool:
        return verdict.trusted and not self.pending(verdict)

    def pending(self, verdict: Verdict) -> bool:
        return verdict.run_id in self._finished and not self._finished[verdict.run_id]

    def _note(self, found: Iterable[Verdict]) -> None:
        """Remember the untrusted, and read the state of the runs whose checks may be going."""
        unknown = []
        for v in found:
            if not v.trusted:
                self.untrusted.add((v.asset_key, v.partition, v.run_id))
            elif v.asset_key in self.graph and v.run_id not in self._finished:
                declared = self.graph.blocking_checks(v.asset_key)
                if any(check not in v.outcomes for check in declared):
                    unknown.append(v.run_id)
        if unknown:
            unknown = list(dict.fromkeys(unknown))
            going = {r.run_id for r in get_runs(self.store, unknown) if not r.status.finished}
            self._finished.update((run, run not in going) for run in unknown)


def _feeds(graph: Graph, targets: set[str], asset: str) -> bool:
    """Whether a materialization of ``asset`` may start a target (a check is no target)."""
    return any(
        t in targets and graph[t].step.check is None for t in graph.downstream.get(asset, ())
    )


def _waiting(verdict: Verdict) -> str:
    return (
        f"waiting for the blocking checks of {verdict.where} from run {verdict.run_id} "
        "before looking further"
    )


def _reason(
    requested: bool,
    untrusted: list[Verdict],
    held: list[Verdict],
    lacking: dict[str, list[str]],
) -> str | None:
    """Why (some) target partitions were not requested: the untrusted materializations, named;
    else, with no request, a check still running, or the upstream partitions still missing."""
    distinct = list({(v.asset_key, v.partition, v.run_id): v for v in untrusted}.values())
    if distinct:
        named = [f"{v.describe()}: not trusted" for v in distinct[:NAMED]]
        more = len(distinct) - NAMED
        return "; ".join(named) + (f"; and {more} more not trusted" if more > 0 else "")
    if requested:
        return None
    if held:
        return _waiting(held[0])
    if lacking:
        return _missing(lacking)
    return "upstream partitions updated but none is complete yet"


def _missing(lacking: dict[str, list[str]]) -> str:
    """``waiting for usage [tenant=acme,date=2026-01-02], usage [tenant=globex,date=2026-01-02]
    (+3 more) for daily_total [2026-01-02]``: the first upstream partitions missing, counted
    beyond ``NAMED_MISSING``, and the target partition that waits (and how many others do)."""
    missing = list(dict.fromkeys(key for keys in lacking.values() for key in keys))
    named = ", ".join(missing[:NAMED_MISSING])
    more = len(missing) - NAMED_MISSING
    first = next(iter(lacking))
    others = len(lacking) - 1
    return (
        f"waiting for {named}"
        + (f" (+{more} more)" if more > 0 else "")
        + f" for {first}"
        + (f" and {others} more {'partition' if others == 1 else 'partitions'}" if others else "")
    )


def _first_look(store: Store, trigger: OnUpdate, now: datetime) -> Evaluation:
    """A new trigger's cursor: the latest materialization (``since="now"``: nothing is
    replayed), or just before the first one of the catch-up window, which ends at the latest."""
    m = schema.materializations.c
    start = trigger.catch_up_from(now)
    with store.read() as conn:
        latest = conn.execute(select(func.max(m.id))).scalar() or 0
        first = None
        if start is not None:
            first = conn.execute(select(func.min(m.id)).where(m.ts >= start)).scalar()
    if first is None:
        return Evaluation(cursor=str(latest), skip_reason="started watching")
    return Evaluation(
        cursor=f"{first - 1}~{latest}",
        skip_reason=f"started watching; catching up on materializations {first} to {latest}",
    )


def _ready(
    graph: Graph,
    trust: Trust,
    target: str,
    key: str,
    trigger: OnUpdate,
    now: datetime,
    dynamic: Any,
) -> tuple[bool, list[Verdict], list[str]]:
    """Whether the target partition's inputs are ready; if not, the materializations that held
    it back (untrusted, or checks still running: those count as not materialized) and the
    upstream partitions never materialized (``usage [tenant=acme,date=2026-01-02]``)."""
    node = graph[target]
    results, held, missing = [], [], []
    for up in node.upstream:
        mapping = node.mappings.get(up)
        up_space = graph[up].partitions
        needed = (
            [""]
            if mapping is None or up_space is None
            else mapping.upstream_keys(
                key or None, up_space, node.partitions, now=now, dynamic=dynamic
            )
        )
        latest = trust.latest(up, needed)
        have = {p for p, verdict in latest.items() if trust.usable(verdict)}
        held += [verdict for p, verdict in latest.items() if p not in have]
        missing += [partition_label(up, p) for p in needed if p not in latest]
        if trigger.min_count is not None:
            results.append(len(have) >= min(trigger.min_count, len(needed)))
        elif mapping is not None and up_space is not None:
            results.append(mapping.is_ready(needed, have))
        else:
            results.append(len(have) == len(needed))
    if not results:
        return True, [], []
    ready = any(results) if trigger.require == "any" else all(results)
    return (True, [], []) if ready else (False, held, missing)


def _materialized(store: Store, asset: str, keys: list[str]) -> set[str]:
    a = schema.asset_latest.c
    found: set[str] = set()
    with store.read() as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            found |= set(
                conn.execute(
                    select(a.partition).where(
                        a.asset_key == asset, a.partition.in_(chunk), a.materialized_at.is_not(None)
                    )
                ).scalars()
            )
    return found
