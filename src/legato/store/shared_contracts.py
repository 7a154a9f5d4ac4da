"""The contracts of the other projects that share a store, from the latest definitions snapshot
each recorded under its name, compared with one project's (``legato check`` and the daemon)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from legato.errors import ContractError, SnapshotError
from legato.graph.cross_project import Recorded, cross_project_errors
from legato.store import schema
from legato.store.engine import Store
from legato.store.snapshots import DEFAULT_LOCATION, decode_snapshot


@dataclass(frozen=True)
class SharedCheck:
    """What comparing with the store found: the incompatible pairs, and the other projects whose
    contracts were compared (those recorded by a Legato without contracts are not)."""

    errors: list[ContractError]
    projects: tuple[str, ...]


def snapshot_heads(store: Store) -> dict[str, int]:
    """The id of the latest snapshot of every location: it changes when any project records
    new definitions."""
    s = schema.snapshots.c
    with store.read() as conn:
        rows = conn.execute(select(s.location, func.max(s.id)).group_by(s.location)).all()
    return dict(rows)


def other_contracts(store: Store, location: str) -> list[Recorded]:
    """The contracts each project but ``location`` recorded last, by project name. A project
    whose snapshot holds none (recorded by a Legato without contracts), or one this Legato
    cannot read (which that project's own daemon and web server report), is not compared."""
    heads = {k: v for k, v in snapshot_heads(store).items() if k != location}
    if not heads:
        return []
    s = schema.snapshots.c
    with store.read() as conn:
        rows = conn.execute(
            select(s.id, s.location, s.data).where(s.id.in_(heads.values())).order_by(s.location)
        ).all()
    out = []
    for row in rows:
        try:
            contracts = decode_snapshot(row.data, row.id, row.location).contracts
        except SnapshotError:
            continue
        if contracts is not None and isinstance(contracts.get("steps"), Mapping):
            out.append(Recorded(row.location, contracts["steps"]))
    return out


def check_shared_contracts(
    store: Store, location: str, contracts: Mapping[str, Any]
) -> SharedCheck:
    """Compare the contracts of the project recorded (or to be recorded) as ``location`` with
    those of every other project in ``store``."""
    others = other_contracts(store, location)
    mine = Recorded(None if location == DEFAULT_LOCATION else location, contracts["steps"])
    return SharedCheck(cross_project_errors(mine, others), tuple(str(o.project) for o in others))


class SharedContractsWatch:
    """Compares again only when some project recorded new definitions since the last time, so a
    daemon refreshing its definitions every few seconds reports each finding once."""

    def __init__(self, store: Store, location: str) -> None:
        self.store, self.location = store, location
        self._heads: dict[str, int] | None = None

    def check(self, contracts: Mapping[str, Any] | None) -> SharedCheck | None:
        """The comparison, or None when nothing changed (or ``contracts`` is missing)."""
        heads = snapshot_heads(self.store)
        if contracts is None or heads == self._heads:
            return None
        self._heads = heads
        return check_shared_contracts(self.store, self.location, contracts)
