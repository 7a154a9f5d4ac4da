"""How many keys of each asset are materialized, failed or in progress: ``asset_latest`` grouped by
asset and status, kept in ``asset_status_counts`` by the statements that write ``asset_latest``.

Counting rows of ``asset_latest`` visits each of them on PostgreSQL until VACUUM has marked the
table's pages all-visible (seconds at a million keys, right after a bulk load); the kept counts are
three rows per asset.

Each write of ``asset_latest`` says how it changed the statuses, and ``add_changes`` adds that to
the counts in the same transaction. An upsert sets ``previous_status`` to the status the row had
(none for a new row) and returns it with the new one; a statement that changes rows of one known
status (a release of in-progress keys) counts the rows it changed. Either way the status before is
the one of the row the statement locked and changed, whatever another writer committed
meanwhile, so the differences of concurrent writers add up exactly.

On PostgreSQL a transaction first locks a count row of each asset it writes (``lock_assets``, in
one order), so writers of one asset take turns from there to their commit: the keys of one asset
are written by several statements (attempts, releases, materializations), and two writers
locking the same keys in different orders would deadlock. Writing ``asset_latest`` is the last
thing a transaction does (``event_log.append``), so the turns are short. SQLite has one writer at
a time already.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Connection, select

from legato.store.schema import asset_status_counts

# (asset, status) -> how many keys it gained (negative: lost)
Changes = Counter[tuple[str, str]]


def status_changes(rows: Iterable[tuple[str, str | None, str | None]]) -> Changes:
    """The changes of keys written, from (asset, status before or None, status after or None)."""
    changes: Changes = Counter()
    for asset, before, after in rows:
        if before == after:
            continue
        if before is not None:
            changes[(asset, before)] -= 1
        if after is not None:
            changes[(asset, after)] += 1
    return changes


def lock_assets(conn: Connection, assets: Iterable[str]) -> None:
    """On PostgreSQL, lock one count row of each of ``assets`` until commit, in order, creating
    it if missing: one statement that takes the rows one after the other, whether it inserts or
    updates them, so that two writers always meet in the same order and never deadlock."""
    wanted = sorted(set(assets))
    if conn.dialect.name == "postgresql" and wanted:
        rows = [{"asset_key": a, "status": _LOCKED_STATUS, "key_count": 0} for a in wanted]
        conn.execute(_adding(conn.dialect.name), rows)  # adding nothing: a lock


# the count row of each asset that writers lock: they change the others only while holding it
_LOCKED_STATUS = "materialized"


def add_changes(conn: Connection, changes: Changes) -> None:
    """Add ``changes`` to the counts (in one order of rows, so two writers never deadlock)."""
    rows = [
        {"asset_key": asset, "status": status, "key_count": n}
        for (asset, status), n in sorted(changes.items())
        if n
    ]
    if rows:
        conn.execute(_adding(conn.dialect.name), rows)


@cache  # built once: it costs more to build than to run
def _adding(dialect: str) -> Any:
    stmt = _upsert(dialect)
    return stmt.on_conflict_do_update(
        index_elements=["asset_key", "status"],
        set_={"key_count": asset_status_counts.c.key_count + stmt.excluded.key_count},
    )


def _upsert(dialect: str) -> Any:
    from legato.store.event_log import upsert  # it imports this module

    return upsert(dialect, asset_status_counts)


def status_counts(conn: Connection, asset: str) -> Counter[str]:
    """How many keys of ``asset`` have each status (statuses no key has are left out)."""
    c = asset_status_counts.c
    rows = conn.execute(select(c.status, c.key_count).where(c.asset_key == asset, c.key_count != 0))
    return Counter({str(status): int(n) for status, n in rows})
