"""Asset state: the latest materialization per asset and partition, and the history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from sqlalchemy import func, select

from legato.store import schema
from legato.store.engine import Store


@dataclass(frozen=True)
class Materialization:
    asset_key: str
    partition: str
    run_id: str
    step_key: str
    ts: float
    metadata: dict[str, Any]


def latest_materializations(
    store: Store, asset_key: str | None = None, partition: str | None = None
) -> list[Materialization]:
    a = schema.asset_latest.c
    query = (
        select(schema.asset_latest)
        .where(a.materialized_at.is_not(None))
        .order_by(a.asset_key, a.partition)
    )
    if asset_key is not None:
        query = query.where(a.asset_key == asset_key)
    if partition is not None:
        query = query.where(a.partition == partition)
    with store.read() as conn:
        return [
            Materialization(
                r.asset_key,
                r.partition,
                r.materialized_run,
                r.step_key,
                r.materialized_at,
                r.metadata or {},
            )
            for r in conn.execute(query)
        ]


def materialized_at(store: Store, asset_key: str, partition: str, run_id: str) -> float | None:
    """When ``run_id`` materialized ``asset_key`` (``partition``), the latest time if more than
    once; None if it did not."""
    m = schema.materializations.c
    query = (
        select(m.ts)
        .where(m.asset_key == asset_key, m.partition == partition, m.run_id == run_id)
        .order_by(m.id.desc())
        .limit(1)
    )
    with store.read() as conn:
        ts = conn.execute(query).scalar()
    return None if ts is None else float(ts)


def materialization_counts(store: Store) -> dict[str, int]:
    """Number of materializations ever recorded, per asset."""
    m = schema.materializations.c
    with store.read() as conn:
        rows = conn.execute(select(m.asset_key, func.count()).group_by(m.asset_key)).all()
    return {str(k): int(n) for k, n in rows}


def history(store: Store, asset_key: str, limit: int = 50) -> list[Materialization]:
    m = schema.materializations.c
    query = (
        select(schema.materializations)
        .where(m.asset_key == asset_key)
        .order_by(m.id.desc())
        .limit(limit)
    )
    with store.read() as conn:
        return [
            Materialization(r.asset_key, r.partition, r.run_id, r.step_key, r.ts, r.metadata or {})
            for r in conn.execute(query)
        ]


def materialized_times(
    store: Store, wanted: Mapping[str, Sequence[str]]
) -> dict[tuple[str, str], float]:
    """When each wanted (asset, partition) was last materialized, for those ever materialized:
    one read, a statement per few hundred assets."""
    a = schema.asset_latest.c
    out: dict[tuple[str, str], float] = {}
    assets = sorted(wanted)
    with store.read() as conn:
        for start in range(0, len(assets), 300):
            chunk = assets[start : start + 300]
            keys = sorted({k for asset in chunk for k in wanted[asset]})
            for first in range(0, len(keys), 500):  # a product space may want many keys
                query = select(a.asset_key, a.partition, a.materialized_at).where(
                    a.asset_key.in_(chunk),
                    a.partition.in_(keys[first : first + 500]),
                    a.materialized_at.is_not(None),
                )
                for asset, partition, ts in conn.execute(query):
                    if partition in wanted[asset]:
                        out[(str(asset), str(partition))] = float(ts)
    return out


@dataclass(frozen=True)
class MetadataPoint:
    ts: float
    run_id: str
    partition: str
    value: float


@dataclass(frozen=True)
class SchemaChange:
    """A materialization whose ``schema_hash`` differs from the one before it."""

    ts: float
    run_id: str
    partition: str
    schema_hash: str


@dataclass(frozen=True)
class MetadataSeries:
    points: list[MetadataPoint]
    names: list[str]  # every numeric entry seen: what else can be plotted
    schemas: list[SchemaChange]  # the window's first schema, then each change, oldest first


def metadata_series(
    store: Store, asset_key: str, name: str, *, partition: str | None = None, limit: int = 200
) -> MetadataSeries:
    """The numbers a metadata entry (``rows``, ``bytes``, one of the step's own) took in the last
    ``limit`` materializations of an asset, oldest first; the names of every numeric entry seen
    there; and where the shape of what was handed over changed (its ``schema_hash``)."""
    m = schema.materializations.c
    query = select(m.ts, m.run_id, m.partition, m.metadata).where(m.asset_key == asset_key)
    if partition is not None:
        query = query.where(m.partition == partition)
    with store.read() as conn:
        rows = conn.execute(query.order_by(m.id.desc()).limit(limit)).all()
    points: list[MetadataPoint] = []
    names: set[str] = set()
    schemas: list[SchemaChange] = []
    for row in reversed(rows):
        recorded = row.metadata or {}
        names.update(k for k, v in recorded.items() if _number(v))
        value = recorded.get(name)
        if _number(value):
            points.append(MetadataPoint(row.ts, row.run_id, row.partition, value))
        shape = recorded.get("schema_hash")
        if isinstance(shape, str) and (not schemas or schemas[-1].schema_hash != shape):
            schemas.append(SchemaChange(row.ts, row.run_id, row.partition, shape))
    return MetadataSeries(points, sorted(names), schemas)


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
