"""Recorded definitions snapshots: read back typed, kept when unchanged, and a row that does not
fit is an error naming its id, its project and the field, for every reader."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from legato.errors import SnapshotError
from legato.graph.snapshot import read_snapshot
from legato.store import schema
from legato.store.engine import Store
from legato.store.snapshots import SnapshotCache, latest_snapshot, save_snapshot
from legato.store.web_queries import snapshot_data

PREVIOUS = json.loads((Path(__file__).parents[1] / "graph" / "previous_snapshot.json").read_text())


def _insert(store: Store, data: Any, fingerprint: str, location: str) -> int:
    """A row as another Legato (an older or a newer one) would have written it."""
    with store.transaction() as conn:
        row = conn.execute(
            insert(schema.snapshots)
            .values(location=location, created_at=time.time(), fingerprint=fingerprint, data=data)
            .returning(schema.snapshots.c.id)
        ).scalar_one()
    return int(row)


def test_a_snapshot_recorded_by_the_previous_version_reads_and_is_not_recorded_again(store):
    _insert(store, PREVIOUS["data"], PREVIOUS["fingerprint"], "sales")
    recorded = latest_snapshot(store, "sales")
    assert recorded == read_snapshot(PREVIOUS["data"])
    assert not save_snapshot(store, recorded, "sales")  # the same definitions: no new row
    assert SnapshotCache(store, "sales").get() == recorded


def test_a_row_that_does_not_fit_is_an_error_naming_it_the_field_and_the_fix(store):
    good = read_snapshot(PREVIOUS["data"])
    save_snapshot(store, good, "sales")
    cache = SnapshotCache(store, "sales")
    assert cache.get() == good
    broken = json.loads(json.dumps(PREVIOUS["data"]))
    broken["pipelines"][0]["priority"] = "high"
    bad_id = _insert(store, broken, "written-by-another-legato", "sales")
    expected = (
        rf"definitions snapshot {bad_id} of project 'sales' cannot be read by this Legato: "
        r"Expected `int`, got `str` - at `\$\.pipelines\[0\]\.priority` \(pipeline 'nightly'\)"
    )
    for read in (
        lambda: latest_snapshot(store, "sales"),
        cache.get,  # no stale definitions either
        lambda: snapshot_data(store, bad_id),
    ):
        with pytest.raises(SnapshotError, match=expected) as info:
            read()
        assert "restart the daemon" in (info.value.hint or "")
    assert save_snapshot(store, good, "sales")  # recorded again, as the daemon does
    assert cache.get() == good and latest_snapshot(store, "sales") == good


def test_an_unnamed_projects_snapshot_is_named_as_the_project(store):
    bad_id = _insert(store, {"nodes": [{"key": "orders"}]}, "x", "default")
    with pytest.raises(SnapshotError, match=rf"^definitions snapshot {bad_id} of the project "):
        latest_snapshot(store)
