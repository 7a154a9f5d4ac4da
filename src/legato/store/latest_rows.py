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
from functools import cache
from typing import Any

from sqlalchemy import ARRAY, Connection, Row, Select, String, bindparam, func, select, true

from legato.store import schema

# keys per statement: SQLite binds each one (it allows a few thousand); PostgreSQL takes one array
_CHUNK = {"sqlite": 500, "postgresql": 5000}


def latest_rows(
    conn: Connection,
    asset: str,
    keys: Iterable[str],
    columns: tuple[str, ...],
    *,
    materialized: bool = False,
) -> Iterator[Row[Any]]:
    """The partition and ``columns`` of the rows of ``asset`` whose partition is one of ``keys``
    (with ``materialized``, only those materialized at some time), in no particular order; keys
    without a row yield nothing."""
    wanted = list(dict.fromkeys(keys))
    query = _query(conn.dialect.name, columns, materialized)
    chunk = _CHUNK.get(conn.dialect.name, 500)
    for start in range(0, len(wanted), chunk):
        yield from conn.execute(query, {"asset": asset, "keys": wanted[start : start + chunk]})


@cache  # built once: a statement costs more to build than a look-up of a few keys to run
def _query(dialect: str, columns: tuple[str, ...], materialized: bool) -> Select[Any]:
    a = schema.asset_latest.c
    picked = [a.partition, *(a[name] for name in columns)]
    where = [a.asset_key == bindparam("asset")]
    if materialized:
        where.append(a.materialized_at.is_not(None))
    if dialect != "postgresql":
        return select(*picked).where(*where, a.partition.in_(bindparam("keys", expanding=True)))
    asked = func.unnest(bindparam("keys", type_=ARRAY(String))).table_valued("key")
    asked = asked.render_derived()
    one = (
        select(*picked)
        .where(*where, a.partition == asked.c.key)
        .limit(1)  # a subquery with a limit is never flattened into a join it could reorder
        .lateral()
    )
    return select(*one.c).select_from(asked).join(one, true())
