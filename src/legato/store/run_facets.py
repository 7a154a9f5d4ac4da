"""Run facets: what a run is found by that is not one short column of the runs table (each node it
has a step of, each tag, its partition keys), written with the run and its steps, and deleted by
their keys (which follow from the run's row and steps: the table has no index by run).

A facet's value is the text itself, or ``sha256:<hex>`` when the text is longer than the column
(a run over hundreds of partition keys, a long tag value): a filter hashes what it looks for the
same way, so an exact match stays exact at any length.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, tuple_

from legato.store import schema
from legato.store.event_log import upsert

NODE, TAG, PARTITION = "node", "tag", "partition"
MAX_VALUE = 255  # characters: the column's length


def facet_value(text: str) -> str:
    """``text`` as a facet stores it (and a filter must look for it)."""
    if len(text) <= MAX_VALUE:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def tag_value(key: str, value: str) -> str:
    """The facet of one tag: ``key=value``."""
    return facet_value(f"{key}={value}")


def run_facet_values(partition: str, tags: Mapping[str, str]) -> list[tuple[str, str]]:
    """The facets a run has from the moment it is created: its partition keys and its tags."""
    found = [(TAG, tag_value(k, v)) for k, v in sorted(tags.items())]
    if partition:
        found.append((PARTITION, facet_value(partition)))
    return found


def add_run_facets(
    conn: Connection,
    runs: Sequence[Mapping[str, Any]],
    nodes: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Facets of new runs, given as the rows written to the runs table (tags as a mapping), and
    of the nodes of the steps they are created with (``nodes``, by run id): one statement."""
    nodes = nodes or {}
    rows = [
        {"kind": kind, "value": value, "created_at": run["created_at"], "run_id": run["run_id"]}
        for run in runs
        for kind, value in run_facet_values(run["partition"], run["tags"])
        + [(NODE, v) for v in sorted({facet_value(n) for n in nodes.get(run["run_id"], ())})]
    ]
    if rows:
        conn.execute(schema.run_facets.insert(), rows)


def add_node_facets(
    conn: Connection, run_id: str, nodes: Iterable[str], created_at: float | None = None
) -> None:
    """Facets of the nodes a run has steps of (a fan-out adds steps of a node the run already
    has: a facet it has is left as it is)."""
    wanted = {facet_value(n) for n in nodes}
    if not wanted:
        return
    created = created_at
    if created is None:
        created = conn.execute(
            select(schema.runs.c.created_at).where(schema.runs.c.run_id == run_id)
        ).scalar()
    if created is None:  # no such run: its steps alone are recorded
        return
    rows = [
        {"kind": NODE, "value": v, "created_at": created, "run_id": run_id} for v in sorted(wanted)
    ]
    conn.execute(upsert(conn.dialect.name, schema.run_facets).on_conflict_do_nothing(), rows)


def facet_keys(conn: Connection, run_ids: Sequence[str]) -> list[tuple[str, str, float, str]]:
    """The keys of these runs' facets: from their partition, tags and steps' nodes."""
    r, s = schema.runs.c, schema.steps.c
    keys: list[tuple[str, str, float, str]] = []
    created: dict[str, float] = {}
    for run_id, at, partition, tags in conn.execute(
        select(r.run_id, r.created_at, r.partition, r.tags).where(r.run_id.in_(run_ids))
    ):
        created[run_id] = at
        found = tags or {}
        tags = {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
        keys += [(kind, value, at, run_id) for kind, value in run_facet_values(partition, tags)]
    nodes = select(s.run_id, s.node).where(s.run_id.in_(run_ids)).distinct()
    for run_id, node in conn.execute(nodes):
        if run_id in created:
            keys.append((NODE, facet_value(node), created[run_id], run_id))
    return keys


def delete_facets(conn: Connection, run_ids: Sequence[str]) -> int:
    """Delete these runs' facets (before their rows and steps); how many there were."""
    keys = facet_keys(conn, run_ids)
    f = schema.run_facets.c
    deleted = 0
    for start in range(0, len(keys), 500):
        key = tuple_(f.kind, f.value, f.created_at, f.run_id)
        stmt = delete(schema.run_facets).where(key.in_(keys[start : start + 500]))
        deleted += int(conn.execute(stmt).rowcount or 0)
    return deleted
