"""Backfills listed without their keys and run groups.

A backfill keeps its partition keys and its planned run groups as JSON documents: for 100,000 keys,
megabytes that a list of fifty backfills would read, decode and count (a third of a second of
CPU each). A listing needs their counts and the first and last key, which the database reads out
of the documents itself: SQLite's JSON functions, PostgreSQL's JSONB operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from legato.store.backfills import BackfillRecord, Listed
from legato.store.engine import Store
from legato.store.schema_partitions import backfills

_SUMMARY = (
    "backfill_id",
    "selection",
    "status",
    "created_at",
    "updated_at",
    "max_concurrent",
    "missing_only",
    "executor",
    "tags",
    "driver",
    "lease_until",
    "error",
)


def listing(store: Store) -> Select[Any]:
    """A select of backfills, one row each: their own columns, ``key_count``, ``group_count``,
    ``first_key``, ``last_key`` and ``request`` (the plan while it is a request to plan)."""
    b = backfills.c
    keys = b["keys"]  # not ``b.keys``: that is the collection's method
    if store.is_sqlite:
        plan_is = func.json_type(b.plan)
        first: ColumnElement[Any] = func.json_extract(keys, "$[0]")
        last: ColumnElement[Any] = func.json_extract(keys, "$[#-1]")
        keys_length, plan_length = func.json_array_length(keys), func.json_array_length(b.plan)
    else:
        plan_is = func.jsonb_typeof(b.plan)
        first, last = keys.op("->>")(literal_column("0")), keys.op("->>")(literal_column("-1"))
        keys_length, plan_length = func.jsonb_array_length(keys), func.jsonb_array_length(b.plan)
    return select(
        *(b[name] for name in _SUMMARY),
        func.coalesce(keys_length, 0).label("key_count"),
        case((plan_is == "array", plan_length), else_=0).label("group_count"),
        first.label("first_key"),
        last.label("last_key"),
        case((plan_is == "object", b.plan), else_=None).label("request"),
    )


def listed_records(rows: Sequence[Any]) -> list[BackfillRecord]:
    return [
        BackfillRecord(
            backfill_id=row.backfill_id,
            selection=row.selection,
            keys=(),
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            max_concurrent=row.max_concurrent,
            missing_only=bool(row.missing_only),
            groups=(),
            request=row.request,
            executor=row.executor,
            tags=row.tags or {},
            driver=row.driver,
            lease_until=row.lease_until,
            error=row.error,
            listed=Listed(
                int(row.key_count or 0),
                int(row.group_count or 0),
                None if row.first_key is None else str(row.first_key),
                None if row.last_key is None else str(row.last_key),
            ),
        )
        for row in rows
    ]
