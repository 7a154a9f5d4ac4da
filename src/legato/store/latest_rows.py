"""Rows of ``asset_latest`` for given keys of one asset, each found by its primary key.

A key look-up must cost the keys asked about, not the keys the asset has. Asked for a few hundred
keys in one ``IN`` list, PostgreSQL may instead read every row of the asset through the index by
asset and status, whenever its statistics do not yet say how many rows an asset has (a table just
loaded in bulk, before autovacuum analyzed it): a quarter of a second per query at a million keys.
On PostgreSQL the keys are therefore joined laterally, one primary-key look-up each, a plan that
no estimate can change. SQLite plans the ``IN`` list as primary-key look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Connection, Row, String, func, literal, select, true

from legato.store import schema

# bound parameters per statement: SQLite allows a few thousand; PostgreSQL takes one array
_CHUNK = {"sqlite": 500, "postgresql": 5000}


def latest_rows(
    conn: Connection,
    asset: str,
    keys: Iterable[str],
    columns: Iterable[str],
    *where: ColumnElement[bool],
) -> Iterator[Row[Any]]:
    """``columns`` of the rows of ``asset`` whose partition is one of ``keys`` (and which meet
    ``where``), in no particular order; keys without a row yield nothing."""
    a = schema.asset_latest.c
    wanted = list(dict.fromkeys(keys))
    picked = [a.partition, *(a[name] for name in columns)]
    chunk = _CHUNK.get(conn.dialect.name, 500)
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        if conn.dialect.name == "postgresql":
            asked = func.unnest(literal(part, ARRAY(String))).table_valued("key").render_derived()
            one = (
                select(*picked)
                .where(a.asset_key == asset, a.partition == asked.c.key, *where)
                .limit(1)  # a subquery with a limit is never flattened into a join it could reorder
                .lateral()
            )
            query = select(*one.c).select_from(asked).join(one, true())
        else:
            query = select(*picked).where(a.asset_key == asset, a.partition.in_(part), *where)
        yield from conn.execute(query)
