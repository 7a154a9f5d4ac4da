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
