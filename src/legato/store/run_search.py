"""Which runs a list shows: a filter (status, pipeline, asset, partition, tags, trigger, backfill,
creation time) turned into one statement that reads a page newest first, after a
``(created_at, run_id)`` cursor, in the order of an index.

A statement's cost must not grow with the history, whatever matches. So one condition leads: its
index is read in list order and the rest is checked on each row it yields, until a page is full.
An asset, a partition or a tag can lead through the run facets (``run_facets``); the run's own
columns lead through the runs table's indexes (pipeline and status together, backfill, pipeline,
trigger, status, or creation time alone), several statuses as one ordered read per status,
merged. When more than one could lead, each is counted up to ``PROBE`` rows from its index and
the fewest leads, so "failed runs of an asset" reads the failures when failures are rare and the
asset's runs when the asset is.

The checks on a lead's rows are subqueries that the database may not turn into joins (``OFFSET
0``): a join would let PostgreSQL read every row of the other condition and sort them, which is
what a keyset page must never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Select, func, literal, select, tuple_, union_all

from legato.store import schema
from legato.store.run_facets import NODE, PARTITION, TAG, facet_value

PROBE = 2000  # rows counted at most per candidate lead


@dataclass(frozen=True)
class RunFilter:
    """What a list of runs is restricted to; empty fields do not filter, all given ones must
    match. ``tags`` are ``key=value`` texts."""

    statuses: Sequence[str] = ()
    pipeline: str | None = None
    asset: str | None = None
    partition: str | None = None
    tags: Sequence[str] = ()
    created_after: float | None = None
    created_before: float | None = None
    trigger: str | None = None
    backfill_id: str | None = None

    def facets(self) -> list[tuple[str, str]]:
        """The facets a run must have (as stored: long values hashed)."""
        found = []
        if self.partition:
            found.append((PARTITION, facet_value(self.partition)))
        if self.asset:
            found.append((NODE, facet_value(self.asset)))
        return found + [(TAG, facet_value(t)) for t in dict.fromkeys(self.tags)]

    def columns(self) -> bool:
        """Whether a column of the runs table other than the creation time is filtered."""
        return bool(self.statuses or self.pipeline or self.trigger or self.backfill_id)


Cursor = tuple[float, str]
Facet = tuple[str, str]


def runs_query(
    conn: Connection, where: RunFilter, *, limit: int, before: Cursor | None = None
) -> Select[Any]:
    """The statement reading one page of runs (whole rows of the runs table), newest first."""
    leads: list[Facet | None] = list(where.facets())  # None: the runs table's columns lead
    if where.columns() or not leads:
        leads.append(None)
    if len(leads) > 1:
        leads.sort(key=lambda lead: _probe(conn, where, lead))  # stable: facets win ties
    lead = leads[0]
    if lead is None:
        return _by_columns(where, limit, before)
    return _by_facet(where, lead, limit, before)


def _probe(conn: Connection, where: RunFilter, lead: Facet | None) -> int:
    """How many rows (up to PROBE) the lead would read to list every run it may yield."""
    if lead is None:
        keys = [_column_read(_one_status(where, s), ()) for s in _statuses(where)]
    else:
        f = schema.run_facets.c
        keys = [
            select(literal(1))
            .where(f.kind == lead[0], f.value == lead[1])
            .where(*_time_conditions(f.created_at, f.run_id, where, None))
        ]
    total = 0
    for key in keys:
        keys_only = key.with_only_columns(literal(1), maintain_column_froms=True)
        capped = keys_only.limit(PROBE).subquery()
        total += int(conn.execute(select(func.count()).select_from(capped)).scalar() or 0)
    return min(total, PROBE)


def _statuses(where: RunFilter) -> list[str | None]:
    return list(dict.fromkeys(where.statuses)) or [None]


def _one_status(where: RunFilter, status: str | None) -> RunFilter:
    return replace(where, statuses=() if status is None else (status,))


def _by_columns(where: RunFilter, limit: int, before: Cursor | None) -> Select[Any]:
    facets = where.facets()
    reads = [
        _column_read(_one_status(where, s), facets, before)
        .order_by(schema.runs.c.created_at.desc(), schema.runs.c.run_id.desc())
        .limit(limit)
        for s in _statuses(where)
    ]
    if len(reads) == 1:
        return reads[0]
    merged = union_all(*(select(read.subquery()) for read in reads)).subquery()
    return select(merged).order_by(merged.c.created_at.desc(), merged.c.run_id.desc()).limit(limit)


def _column_read(
    where: RunFilter, facets: Sequence[Facet], before: Cursor | None = None
) -> Select[Any]:
    """Runs with at most one status, read through the index of their filtered columns."""
    r = schema.runs.c
    query = select(schema.runs).where(*_column_conditions(schema.runs, where))
    query = query.where(*_time_conditions(r.created_at, r.run_id, where, before))
    for kind, value in facets:
        query = query.where(_has_facet(kind, value, r.created_at, r.run_id))
    return query.where(*_hashed_partition(where))


def _has_facet(kind: str, value: str, created_at: Any, run_id: Any) -> Any:
    """The run at (``created_at``, ``run_id``) has the facet ``kind`` = ``value``."""
    f = schema.run_facets.alias(f"has_{kind}")
    return _fenced(
        select(literal(1)).where(
            f.c.kind == kind,
            f.c.value == value,
            f.c.created_at == created_at,
            f.c.run_id == run_id,
        )
    )


def _by_facet(where: RunFilter, lead: Facet, limit: int, before: Cursor | None) -> Select[Any]:
    lead_rows = schema.run_facets.alias("lead")
    f, r = lead_rows.c, schema.runs.c
    query = (
        select(schema.runs)
        .select_from(lead_rows)
        .join(schema.runs, r.run_id == f.run_id)
        .where(f.kind == lead[0], f.value == lead[1])
        .where(*_time_conditions(f.created_at, f.run_id, where, before))
    )
    for kind, value in where.facets():
        if (kind, value) != lead:
            query = query.where(_has_facet(kind, value, f.created_at, f.run_id))
    if where.columns():
        same = schema.runs.alias("same")
        query = query.where(
            _fenced(
                select(literal(1)).where(
                    same.c.run_id == f.run_id, *_column_conditions(same, where)
                )
            )
        )
    query = query.where(*_hashed_partition(where))
    return query.order_by(f.created_at.desc(), f.run_id.desc()).limit(limit)


def _fenced(check: Select[Any]) -> Any:
    """``EXISTS (check)``, evaluated for each row (OFFSET keeps it from becoming a join)."""
    return check.limit(1).offset(0).exists()


def _column_conditions(runs: Any, where: RunFilter) -> list[Any]:
    c = runs.c
    found: list[Any] = []
    if where.statuses:
        statuses = list(dict.fromkeys(where.statuses))
        found.append(c.status == statuses[0] if len(statuses) == 1 else c.status.in_(statuses))
    if where.pipeline is not None:
        found.append(c.pipeline == where.pipeline)
    if where.trigger is not None:
        found.append(c.trigger == where.trigger)
    if where.backfill_id is not None:
        found.append(c.backfill_id == where.backfill_id)
    return found


def _hashed_partition(where: RunFilter) -> list[Any]:
    """A partition stored hashed is compared whole as well, so a match stays exact."""
    if where.partition and facet_value(where.partition) != where.partition:
        return [schema.runs.c.partition == where.partition]
    return []


def _time_conditions(
    created: Any, run_id: Any, where: RunFilter, before: Cursor | None
) -> list[Any]:
    found: list[Any] = []
    if where.created_after is not None:
        found.append(created >= where.created_after)
    if where.created_before is not None:
        found.append(created < where.created_before)
    if before is not None:
        found.append(tuple_(created, run_id) < tuple_(literal(before[0]), literal(before[1])))
    return found
