"""Code-location snapshots: the latest description of each project's definitions, as data, under
the project's name (its location; ``default`` for a project without a name)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import insert, select

from legato._internal.secrets import remember_names
from legato.graph.snapshot import fingerprint
from legato.store import schema
from legato.store.engine import Store

DEFAULT_LOCATION = "default"


def save_snapshot(store: Store, data: dict[str, Any], location: str = DEFAULT_LOCATION) -> bool:
    """Record ``data`` unless the latest snapshot of ``location`` is identical; True if saved."""
    digest = fingerprint(data)
    s = schema.snapshots.c
    with store.transaction() as conn:
        latest = conn.execute(
            select(s.fingerprint).where(s.location == location).order_by(s.id.desc()).limit(1)
        ).scalar()
        if latest == digest:
            return False
        conn.execute(
            insert(schema.snapshots).values(
                location=location, created_at=time.time(), fingerprint=digest, data=data
            )
        )
    return True


def parse_snapshot(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored snapshot, read: the process reading it masks the secrets it names from now on
    (the daemon and the web server never load the project, so this is how they learn them)."""
    data = dict(stored)
    remember_names(data.get("secrets", ()))
    return data


def latest_snapshot(store: Store, location: str = DEFAULT_LOCATION) -> dict[str, Any] | None:
    s = schema.snapshots.c
    with store.read() as conn:
        row = conn.execute(
            select(s.data).where(s.location == location).order_by(s.id.desc()).limit(1)
        ).first()
    return None if row is None else parse_snapshot(row[0])


class SnapshotCache:
    """The latest snapshot, parsed again only when a newer one was saved (one id probe)."""

    def __init__(self, store: Store, location: str = DEFAULT_LOCATION) -> None:
        self.store = store
        self.location = location
        self._id: int | None = None
        self._data: dict[str, Any] = {}

    def get(self) -> dict[str, Any]:
        s = schema.snapshots.c
        newest = select(s.id).where(s.location == self.location).order_by(s.id.desc()).limit(1)
        with self.store.read() as conn:
            latest = conn.execute(newest).scalar()
            if latest is not None and latest != self._id:
                data = conn.execute(select(s.data).where(s.id == latest)).scalar_one()
                self._id, self._data = latest, parse_snapshot(data)
        return self._data
