"""Backfills listed without their keys and run groups.

A backfill keeps its partition keys and its planned run groups as JSON documents: for 100,000 keys,
megabytes that a list of fifty backfills would read, decode and count (a third of a second of
CPU each). A listing needs their counts and the first and last key, which the database reads out
of the documents itself: SQLite's JSON functions, PostgreSQL's JSONB operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from legato.store.backfills import BackfillRecord, Listed, backfill_from_row
from legato.store.engine import Store
from legato.store.schema_partitions import backfills


def listing(store: Store) -> Select[Any]:
    """A select of backfills, one row each: their own columns but ``keys`` (NULL) and ``plan``
    (only while it is a request to plan), with ``key_count``, ``group_count``, ``first_key`` and
    ``last_key``; ``backfill_from_row`` reads it."""
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
        *(column for column in backfills.c if column.name not in ("keys", "plan")),
        literal_column("NULL").label("keys"),
        # what ``backfill_from_row`` reads as the request; run groups (an array) are left out
        case((plan_is == "object", b.plan), else_=None).label("plan"),
        func.coalesce(keys_length, 0).label("key_count"),
        case((plan_is == "array", plan_length), else_=0).label("group_count"),
        first.label("first_key"),
        last.label("last_key"),
    )


def listed_records(rows: Sequence[Any]) -> list[BackfillRecord]:
    """The records of a :func:`listing`'s rows: no keys, no run groups, their counts and ends."""
    return [
        replace(
            backfill_from_row(row),
            listed=Listed(
                int(row.key_count or 0),
                int(row.group_count or 0),
                None if row.first_key is None else str(row.first_key),
                None if row.last_key is None else str(row.last_key),
            ),
        )
        for row in rows
    ]
