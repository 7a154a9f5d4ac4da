"""Code-location snapshots: the latest description of each project's definitions, as data, under
the project's name (its location; ``default`` for a project without a name)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import insert, select

from legato._internal.secrets import remember_names
from legato.graph.snapshot import DefinitionsSnapshot, as_data, fingerprint, read_snapshot
from legato.store import schema
from legato.store.engine import Store

DEFAULT_LOCATION = "default"


def save_snapshot(
    store: Store, snap: DefinitionsSnapshot, location: str = DEFAULT_LOCATION
) -> bool:
    """Record ``snap`` unless the latest snapshot of ``location`` is identical; True if saved."""
    data, digest = _fingerprinted(snap)
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


_last: tuple[DefinitionsSnapshot, dict[str, Any], str] | None = None


def _fingerprinted(snap: DefinitionsSnapshot) -> tuple[dict[str, Any], str]:
    """``snap`` as data and its fingerprint, kept for the last snapshot saved: the daemon saves
    the same (cached) snapshot object at every refresh, and 10,000 nodes cost 0.1 s to hash."""
    global _last
    last = _last  # one read: another thread may save meanwhile
    if last is not None and last[0] is snap:
        return last[1], last[2]
    data = as_data(snap)
    digest = fingerprint(data)
    _last = (snap, data, digest)
    return data, digest


def decode_snapshot(stored: Any, snapshot_id: int, location: str) -> DefinitionsSnapshot:
    """The snapshot stored as ``snapshot_id``; SnapshotError naming it and the field if it
    does not fit."""
    project = "the project" if location == DEFAULT_LOCATION else f"project {location!r}"
    return read_snapshot(stored, where=f"definitions snapshot {snapshot_id} of {project}")


def parse_snapshot(stored: Any, snapshot_id: int, location: str) -> DefinitionsSnapshot:
    """:func:`decode_snapshot`, for the process that works from it: it masks the secrets the
    snapshot names from now on (the daemon and the web server never load the project, so this
    is how they learn them)."""
    snap = decode_snapshot(stored, snapshot_id, location)
    remember_names(snap.secrets)
    return snap


def latest_snapshot(store: Store, location: str = DEFAULT_LOCATION) -> DefinitionsSnapshot | None:
    """The latest snapshot recorded under ``location``; None before the first."""
    s = schema.snapshots.c
    with store.read() as conn:
        row = conn.execute(
            select(s.id, s.data).where(s.location == location).order_by(s.id.desc()).limit(1)
        ).first()
    return None if row is None else parse_snapshot(row.data, row.id, location)


class SnapshotCache:
    """The latest snapshot, parsed again only when a newer one was saved (one id probe); an
    empty snapshot before the first (``known`` says which)."""

    def __init__(self, store: Store, location: str = DEFAULT_LOCATION) -> None:
        self.store = store
        self.location = location
        self._id: int | None = None
        self._snap = DefinitionsSnapshot()

    @property
    def known(self) -> bool:
        """Whether a snapshot was read (False until the project's definitions are recorded)."""
        return self._id is not None

    def get(self) -> DefinitionsSnapshot:
        s = schema.snapshots.c
        newest = select(s.id).where(s.location == self.location).order_by(s.id.desc()).limit(1)
        with self.store.read() as conn:
            latest = conn.execute(newest).scalar()
            if latest is not None and latest != self._id:
                data = conn.execute(select(s.data).where(s.id == latest)).scalar_one()
                self._snap = parse_snapshot(data, latest, self.location)
                self._id = latest
        return self._snap
