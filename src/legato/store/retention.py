"""Retention: deleting the runs that their pipeline's policy no longer keeps, with their rows in
every other table, in transactions of a few hundred rows (so writers never wait long, and two
daemons share the work).

Whatever the policy says, these runs are kept:

- runs not finished (queued, running, canceling);
- pinned runs (``legato.store.pins``), and every run an unfinished or pinned run needs: its
  parent and the runs whose outputs its steps reused, and theirs in turn;
- runs of a backfill that is not completed or cancelled (a failed one can still be resumed);
- runs that hold the latest materialization of an asset partition, so every asset partition
  keeps its latest materialization and the run, steps, events and logs that made it.

A run goes in two steps. *Mark*: a batch of candidates is locked (on PostgreSQL ``FOR UPDATE
SKIP LOCKED``: another daemon takes other runs), checked again, and its rows in ``runs`` and
``run_facets`` are replaced by tombstones in ``pruned_runs``: the run vanishes from every list
at once. *Sweep*: the tombstoned runs' rows in the other tables are deleted at most ``MAX_ROWS``
per transaction (``legato.store.retention_sweep``), then their tombstones.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, insert, select, text, tuple_

from legato.definitions.retention import Retention
from legato.events.status import RunStatus
from legato.graph.snapshot import DefinitionsSnapshot
from legato.store import schema
from legato.store.engine import Store
from legato.store.retention_sweep import count_rows, sweep_once
from legato.store.run_facets import delete_facets
from legato.store.schema_partitions import backfills

BATCH = 50  # runs marked per transaction: with their facets and tombstones, a few hundred rows
DAY = 86400.0
_FINISHED = [s.value for s in RunStatus if s.finished]
_UNFINISHED = [s.value for s in RunStatus if not s.finished]
_BACKFILL_KEPT = ("requested", "running", "paused", "failed")  # its runs are still needed

Cursor = tuple[float, str]


@dataclass(frozen=True)
class Policies:
    """The project's default policy and each pipeline's own (ad hoc runs, with no pipeline, and
    runs of pipelines with no policy of their own follow the default)."""

    default: Retention | None = None
    pipelines: Mapping[str, Retention] = field(default_factory=dict)

    def of(self, pipeline: str | None) -> Retention | None:
        own = self.pipelines.get(pipeline) if pipeline is not None else None
        return own if own is not None else self.default

    @classmethod
    def from_snapshot(cls, snapshot: DefinitionsSnapshot, default: Retention | None) -> Policies:
        """The policies of the definitions snapshot's pipelines, over ``default``."""
        own = {
            p.name: policy
            for p in snapshot.pipelines
            if (policy := Retention.from_description(p.retention)) is not None
        }
        return cls(default, own)


@dataclass
class Progress:
    """How far a pass got: per pipeline (None: ad hoc runs), the last run looked at. A pass
    that stops early (its deadline) goes on from there; a finished pass starts over."""

    after: dict[str | None, Cursor] = field(default_factory=dict)
    finished: set[str | None] = field(default_factory=set)


@dataclass
class PruneReport:
    """What a pass deleted (or, for a preview, would delete): runs, and rows per table."""

    runs: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    done: bool = True  # False: the deadline came first, call again with the same Progress


def prune(
    store: Store,
    policies: Policies,
    *,
    now: float | None = None,
    progress: Progress | None = None,
    deadline: float | None = None,
) -> PruneReport:
    """Delete what ``policies`` no longer keep, until done or until ``deadline``
    (``time.monotonic()``); a pass cut short goes on with the same ``progress``. Each call
    commits at least one transaction of work, however close the deadline."""
    now = time.time() if now is None else now
    progress = progress if progress is not None else Progress()
    report = PruneReport()

    def out_of_time() -> bool:
        return deadline is not None and time.monotonic() >= deadline

    if not _sweep(store, report, out_of_time):  # what an interrupted pass left
        report.done = False
        return report
    for pipeline, bound in _bounds(store, policies, now):
        while pipeline not in progress.finished:
            batch, last = _candidates(store, pipeline, bound, progress.after.get(pipeline))
            if last is None:
                progress.finished.add(pipeline)
                break
            progress.after[pipeline] = last
            _mark(store, batch, now, report)
            if not _sweep(store, report, out_of_time) or out_of_time():
                report.done = False
                return report
    progress.after.clear()
    progress.finished.clear()
    return report


def preview(store: Store, policies: Policies, *, now: float | None = None) -> PruneReport:
    """What ``prune`` would delete now, per table, deleting nothing."""
    now = time.time() if now is None else now
    report = PruneReport()
    with store.read() as conn:
        pending = [str(r) for r in conn.execute(select(schema.pruned_runs.c.run_id)).scalars()]
    report.rows.update(count_rows(store, pending))
    for pipeline, bound in _bounds(store, policies, now):
        after: Cursor | None = None
        while True:
            batch, after = _candidates(store, pipeline, bound, after)
            if after is None:
                break
            with store.read() as conn:
                kept = _still_kept(conn, batch)
            gone = [run_id for run_id in batch if run_id not in kept]
            report.runs += len(gone)
            report.rows["runs"] += len(gone)
            report.rows.update(count_rows(store, gone, facets=True))
    return report


# -- which runs --------------------------------------------------------------------------------


def _bounds(store: Store, policies: Policies, now: float) -> list[tuple[str | None, Cursor]]:
    """Per pipeline with a policy that deletes something, the (created_at, run_id) below which
    its runs are candidates: older than ``days``, or older than the newest ``runs``."""
    r = schema.runs.c
    found = []
    with store.read() as conn:
        for pipeline in _pipelines(conn):
            policy = policies.of(pipeline)
            if policy is None or policy.keeps_everything:
                continue
            bounds: list[Cursor] = []
            if policy.days is not None:
                bounds.append((now - float(policy.days) * DAY, ""))
            if policy.runs is not None:
                newest = conn.execute(
                    select(r.created_at, r.run_id)
                    .where(_of_pipeline(pipeline))
                    .order_by(r.created_at.desc(), r.run_id.desc())
                    .limit(1)
                    .offset(int(policy.runs) - 1)
                ).first()
                if newest is not None:
                    bounds.append((float(newest[0]), str(newest[1])))
            if bounds:
                found.append((pipeline, max(bounds)))
    return found


def _pipelines(conn: Connection) -> list[str | None]:
    """The pipelines that have runs (None: ad hoc runs), one index seek each."""
    names = conn.execute(
        text(
            "WITH RECURSIVE p(name) AS ("
            " SELECT min(pipeline) FROM runs"
            " UNION ALL"
            " SELECT (SELECT min(pipeline) FROM runs WHERE pipeline > p.name)"
            " FROM p WHERE p.name IS NOT NULL"
            ") SELECT name FROM p WHERE name IS NOT NULL"
        )
    ).scalars()
    found: list[str | None] = [str(n) for n in names]
    ad_hoc = select(schema.runs.c.run_id).where(schema.runs.c.pipeline.is_(None)).limit(1)
    if conn.execute(ad_hoc).first() is not None:
        found.append(None)
    return found


def _of_pipeline(pipeline: str | None) -> Any:
    r = schema.runs.c
    return r.pipeline.is_(None) if pipeline is None else r.pipeline == pipeline


def _candidates(
    store: Store, pipeline: str | None, bound: Cursor, after: Cursor | None
) -> tuple[list[str], Cursor | None]:
    """The next runs (oldest first) of the pipeline below ``bound`` and after ``after`` that no
    rule keeps, and the last run looked at (None: none left)."""
    r = schema.runs.c
    query = (
        select(r.run_id, r.created_at)
        .where(_of_pipeline(pipeline), tuple_(r.created_at, r.run_id) < tuple_(*bound))
        .where(*_deletable(schema.runs))
        .order_by(r.created_at, r.run_id)
        .limit(BATCH)
    )
    if after is not None:
        query = query.where(tuple_(r.created_at, r.run_id) > tuple_(*after))
    with store.read() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return [], None
        needed = _needed(conn)
    last = (float(rows[-1][1]), str(rows[-1][0]))
    return [str(run_id) for run_id, _ in rows if run_id not in needed], last


def _deletable(runs: Any) -> list[Any]:
    """The rules a run's own rows decide: finished, not pinned, no backfill that needs it, no
    latest materialization of an asset partition."""
    r = runs.c
    m, a, p = schema.materializations.c, schema.asset_latest.c, schema.run_pins.c
    b = backfills.c
    return [
        r.status.in_(_FINISHED),
        ~exists(select(p.run_id).where(p.run_id == r.run_id)),
        ~exists(
            select(b.backfill_id).where(
                b.backfill_id == r.backfill_id, b.status.in_(_BACKFILL_KEPT)
            )
        ),
        ~exists(
            select(m.id)
            .select_from(
                schema.materializations.join(
                    schema.asset_latest,
                    and_(a.asset_key == m.asset_key, a.partition == m.partition),
                )
            )
            .where(m.run_id == r.run_id, a.materialized_run == r.run_id)
        ),
    ]


def _needed(conn: Connection) -> set[str]:
    """Runs that unfinished and pinned runs need: parents and reused outputs, transitively."""
    r, s = schema.runs.c, schema.steps.c
    roots = set(conn.execute(select(r.run_id).where(r.status.in_(_UNFINISHED))).scalars())
    roots |= set(conn.execute(select(schema.run_pins.c.run_id)).scalars())
    needed: set[str] = set()
    frontier = roots
    while frontier:
        found: set[str] = set()
        for chunk in _chunks(sorted(frontier)):
            found |= set(
                conn.execute(
                    select(r.parent_run_id).where(r.run_id.in_(chunk), r.parent_run_id.is_not(None))
                ).scalars()
            )
            found |= set(
                conn.execute(
                    select(s.reused_from)
                    .where(s.run_id.in_(chunk), s.reused_from.is_not(None))
                    .distinct()
                ).scalars()
            )
        frontier = found - needed - roots
        needed |= frontier
    return needed


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- deleting ----------------------------------------------------------------------------------


def _still_kept(conn: Connection, run_ids: list[str]) -> set[str]:
    """Of these runs, those some rule keeps now."""
    if not run_ids:
        return set()
    r = schema.runs.c
    deletable = set(
        conn.execute(
            select(r.run_id).where(r.run_id.in_(run_ids), *_deletable(schema.runs))
        ).scalars()
    )
    return (set(run_ids) - deletable) | (deletable & _needed(conn))


def _mark(store: Store, run_ids: list[str], now: float, report: PruneReport) -> None:
    """Replace the runs' rows by tombstones, for those no rule keeps once they are locked."""
    if not run_ids:
        return
    r = schema.runs.c
    with store.transaction() as conn:
        lock = select(r.run_id).where(r.run_id.in_(run_ids)).with_for_update(skip_locked=True)
        locked = [str(x) for x in conn.execute(lock).scalars()]
        gone = [run_id for run_id in locked if run_id not in _still_kept(conn, locked)]
        if not gone:
            return
        facets = delete_facets(conn, gone)
        conn.execute(delete(schema.runs).where(r.run_id.in_(gone)))
        conn.execute(
            insert(schema.pruned_runs), [{"run_id": run_id, "pruned_at": now} for run_id in gone]
        )
    report.runs += len(gone)
    report.rows["runs"] += len(gone)
    report.rows["run_facets"] += facets


def _sweep(store: Store, report: PruneReport, out_of_time: Callable[[], bool]) -> bool:
    """Delete tombstoned runs' rows until none are left (True) or time is up (False)."""
    while True:
        deleted = sweep_once(store)
        if deleted is None:
            return True
        report.rows.update(deleted)
        if out_of_time():
            return False
