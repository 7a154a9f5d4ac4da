"""The hand-offs of an asset over time: a metadata entry of its materializations as a series."""

from __future__ import annotations

from web_helpers import local_client, record_definitions

import legato as lg
from legato.definitions.project import Project
from legato.store.engine import Store
from legato.web.app import create_app


def test_the_row_count_of_each_materialization_is_served_oldest_first(store: Store):
    sizes = iter([3, 5, 4])

    @lg.asset
    def events(context) -> list[int]:
        rows = list(range(next(sizes)))
        context.add_metadata(late=len(rows) - 3, source="queue")
        return rows

    record_definitions(store, Project.of([events]))
    runs = [lg.materialize([events], store=store).run_id for _ in range(3)]
    client = local_client(create_app(store))
    series = client.get("/api/v1/assets/events/metadata", params={"name": "rows"}).json()
    assert [p["value"] for p in series["points"]] == [3, 5, 4]
    assert [p["run_id"] for p in series["points"]] == runs
    assert series["names"] == ["late", "rows"]
    last_two = client.get("/api/v1/assets/events/metadata", params={"name": "late", "limit": 2})
    assert [p["value"] for p in last_two.json()["points"]] == [2, 1]
    text = client.get("/api/v1/assets/events/metadata", params={"name": "source"}).json()
    assert text["points"] == []  # only numbers make a series
    assert (
        client.get("/api/v1/assets/events/metadata", params={"name": "x" * 101}).status_code == 400
    )
    latest = client.get("/api/v1/assets/events").json()["latest"]["metadata"]
    assert (latest["rows"], latest["late"], latest["source"]) == (4, 1, "queue")


def test_each_change_of_the_schema_is_served_beside_the_series(store: Store, tmp_path):
    shapes = iter([["id"], ["id"], ["id", "region"], ["id", "region"], ["id"]])

    @lg.asset
    def orders() -> list[dict]:
        return [dict.fromkeys(next(shapes), 1)]

    record_definitions(store, Project.of([orders]))
    runs = [lg.materialize([orders], store=store, storage=tmp_path).run_id for _ in range(5)]
    client = local_client(create_app(store))
    series = client.get("/api/v1/assets/orders/metadata", params={"name": "bytes"}).json()
    assert len(series["points"]) == 5 and all(p["value"] > 0 for p in series["points"])
    assert series["names"] == ["bytes", "rows"]
    schemas = series["schemas"]  # the first schema of the window, then each change
    assert [s["run_id"] for s in schemas] == [runs[0], runs[2], runs[4]]
    assert schemas[0]["schema_hash"] == schemas[2]["schema_hash"] != schemas[1]["schema_hash"]
    last_two = client.get("/api/v1/assets/orders/metadata", params={"limit": 2}).json()
    assert [s["run_id"] for s in last_two["schemas"]] == [runs[3], runs[4]]
