"""How many keys of each asset are materialized, failed or in progress: ``asset_latest`` grouped by
asset and status, kept in ``asset_status_counts`` by the code that writes ``asset_latest``.

Counting rows of ``asset_latest`` visits each of them on PostgreSQL until VACUUM has marked the
table's pages all-visible (seconds at a million keys, right after a bulk load); the kept counts are
three rows per asset.

Every write of ``asset_latest`` happens inside ``counting``, in the same transaction: it reads the
statuses of the keys about to change, lets the block write them, reads them again and adds the
difference. Writers of one asset take turns from there to their commit: on PostgreSQL the asset's
count rows are locked first (in one order, so two writers never wait on each other), and each
writer reads what the previous one committed; SQLite has one writer at a time already. Nothing is
locked after them, so no writer holding them waits for another lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select

from legato.store.latest_rows import latest_rows
from legato.store.schema import asset_status_counts

STATUSES = ("failed", "in_progress", "materialized")


@contextmanager
def counting(conn: Connection, keys: Iterable[tuple[str, str]]) -> Iterator[None]:
    """Keep the counts in step with the writes of ``asset_latest`` made in the block, which must
    touch only ``keys`` (asset, partition); call it last in the transaction (see above)."""
    by_asset: dict[str, list[str]] = {}
    for asset, key in keys:
        by_asset.setdefault(asset, []).append(key)
    if not by_asset:
        yield
        return
    # adding nothing to each count row of the assets creates those missing and locks them all
    _add(conn, {(asset, status): 0 for asset in sorted(by_asset) for status in STATUSES})
    before = _statuses(conn, by_asset)
    yield
    change = _statuses(conn, by_asset)
    change.subtract(before)
    _add(conn, {k: n for k, n in sorted(change.items()) if n})


def _add(conn: Connection, counts: dict[tuple[str, str], int]) -> None:
    """Add to the count of each (asset, status), rows in the order given."""
    if not counts:
        return
    from legato.store.event_log import upsert  # it imports this module

    stmt = upsert(conn.dialect.name, asset_status_counts)
    stmt = stmt.on_conflict_do_update(
        index_elements=["asset_key", "status"],
        set_={"key_count": asset_status_counts.c.key_count + stmt.excluded.key_count},
    )
    rows = [{"asset_key": a, "status": s, "key_count": n} for (a, s), n in counts.items()]
    conn.execute(stmt, rows)


def _statuses(conn: Connection, by_asset: dict[str, list[str]]) -> Counter[tuple[str, str]]:
    return Counter(
        (asset, str(row.status))
        for asset, keys in by_asset.items()
        for row in latest_rows(conn, asset, keys, ("status",))
    )


def status_counts(conn: Connection, asset: str) -> Counter[str]:
    """How many keys of ``asset`` have each status (statuses no key has are left out)."""
    c = asset_status_counts.c
    rows = conn.execute(select(c.status, c.key_count).where(c.asset_key == asset, c.key_count != 0))
    return Counter({str(status): int(n) for status, n in rows})
