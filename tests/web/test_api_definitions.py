"""Definitions, graph with a selection, layout, node statuses, definition errors and assets."""

from __future__ import annotations

import time

import web_sample as sample
from sqlalchemy import insert
from web_helpers import PASSWORDS, Seeded, local_client, login, record_definitions, remote_client

from legato.definitions.project import Project
from legato.errors import DefinitionError, ProjectLoadError
from legato.graph.build import build_graph
from legato.graph.snapshot import snapshot
from legato.store import schema
from legato.store.snapshots import save_snapshot
from legato.web.app import create_app
from legato.web.schemas_definitions import DefinitionsOut


def test_definitions_list_nodes_pipelines_and_no_errors(seeded: Seeded):
    body = local_client(create_app(seeded.store)).get("/api/v1/definitions").json()
    nodes = {n["key"]: n for n in body["nodes"]}
    assert set(nodes) == {"raw_orders", "clean_orders", "report", "broken"}
    assert nodes["raw_orders"]["owners"] == ["data@shop"]
    assert nodes["clean_orders"]["upstream"] == ["raw_orders"]
    assert nodes["clean_orders"]["downstream"] == ["report"]
    assert nodes["report"]["kind"] == "task"
    assert nodes["raw_orders"]["source"].endswith("web_sample.py:11")
    assert nodes["raw_orders"]["pipelines"] == ["nightly"]
    assert [p["name"] for p in body["pipelines"]] == ["nightly"] and body["errors"] == []


def test_the_definitions_answer_is_exactly_its_declared_model(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    body = client.get("/api/v1/definitions").json()
    assert DefinitionsOut.model_validate(body).model_dump(mode="json") == body  # no field more
    for node in body["nodes"]:  # each node as the asset route describes it
        assert client.get(f"/api/v1/assets/{node['key']}").json()["node"] == node


def test_graph_selection_and_its_errors(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    whole = client.get("/api/v1/graph").json()
    assert len(whole["nodes"]) == 4 and ["raw_orders", "clean_orders"] in whole["edges"]
    up = client.get("/api/v1/graph", params={"select": "+report"}).json()
    assert {n["key"] for n in up["nodes"]} == {"raw_orders", "clean_orders", "report"}
    one = client.get("/api/v1/graph", params={"select": "1+report"}).json()
    assert {n["key"] for n in one["nodes"]} == {"clean_orders", "report"}
    tagged = client.get("/api/v1/graph", params={"select": "tag:tier=bronze"}).json()
    assert [n["key"] for n in tagged["nodes"]] == ["broken"]
    bad = client.get("/api/v1/graph", params={"select": "raw_order+"})
    assert bad.status_code == 400
    assert (
        bad.json()["error"]["field"] == "selection" and "raw_orders" in bad.json()["error"]["hint"]
    )


def test_layout_places_every_node_left_to_right(seeded: Seeded):
    body = local_client(create_app(seeded.store)).get("/api/v1/graph/layout").json()
    x = dict(zip(body["keys"], body["x"], strict=True))
    assert x["raw_orders"] < x["clean_orders"] < x["report"]
    assert all(0 <= v <= body["width"] for v in body["x"])


def test_status_colours_follow_the_latest_runs(seeded: Seeded):
    body = local_client(create_app(seeded.store)).get("/api/v1/graph/status").json()
    assert body["statuses"] == {
        "raw_orders": "succeeded",
        "clean_orders": "succeeded",
        "report": "succeeded",
        "broken": "failed",
    }
    assert set(body["materialized_at"]) == {"raw_orders", "clean_orders"}


def test_definition_errors_from_the_snapshot(store):
    errors = [
        DefinitionError("asset 'x' (a.py:3) depends on 'y'", obj="x", source="a.py:3", hint="y?"),
        ProjectLoadError("cannot import 'bad': RuntimeError: boom"),
    ]
    record_definitions(store, sample.project(), errors=errors)
    client = local_client(create_app(store))
    body = client.get("/api/v1/definitions/errors").json()
    assert body["errors"] == [
        {
            "message": "asset 'x' (a.py:3) depends on 'y'; y?",
            "object": "x",
            "source": "a.py:3",
            "hint": "y?",
        },
        {
            "message": "cannot import 'bad': RuntimeError: boom",
            "object": None,
            "source": None,
            "hint": None,
        },
    ]
    assert client.get("/api/v1/definitions").json()["errors"] == body["errors"]
    assert client.get("/api/v1/overview").json()["definition_errors"] == 2


def test_a_named_projects_server_shows_its_own_definitions_in_a_shared_store(store):
    import legato as lg

    @lg.asset
    def orders() -> list[int]:
        return []

    @lg.asset
    def revenue() -> int:
        return 0

    for name, step in (("sales", orders), ("marketing", revenue)):
        project = Project.of([step])
        save_snapshot(store, snapshot(project, build_graph(project)), name)
    for name, key in (("sales", "orders"), ("marketing", "revenue")):
        client = local_client(create_app(store, location=name))
        assert [n["key"] for n in client.get("/api/v1/definitions").json()["nodes"]] == [key]


def test_asset_page_data_and_history_paging(seeded: Seeded):
    import legato as lg

    for _ in range(3):
        lg.materialize(sample.STEPS, selection="raw_orders", store=seeded.store)
    client = local_client(create_app(seeded.store))
    body = client.get("/api/v1/assets/raw_orders", params={"limit": 2}).json()
    assert body["node"]["description"] == "Orders as the shop exports them."
    assert body["node"]["downstream"] == ["clean_orders"]
    assert body["latest"]["id"] == body["history"]["materializations"][0]["id"]
    older = client.get(
        "/api/v1/assets/raw_orders/materializations",
        params={"before_id": body["history"]["next_before_id"], "limit": 2},
    ).json()
    ids = [m["id"] for m in body["history"]["materializations"] + older["materializations"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    assert client.get("/api/v1/assets/nope").status_code == 404
    task = client.get("/api/v1/assets/report").json()
    assert task["node"]["kind"] == "task" and task["latest"] is None


def test_health_reports_the_daemon(store):
    app = create_app(store, daemon_status=lambda: {"state": "running", "ticks": 3})
    body = local_client(app).get("/api/v1/health").json()
    assert body == {"status": "ok", "daemon": {"state": "running", "ticks": 3}}

    def broken() -> dict:
        raise RuntimeError("x")

    body = local_client(create_app(store, daemon_status=broken)).get("/api/v1/health").json()
    assert body["status"] == "ok" and body["daemon"]["state"] == "unknown"


def test_health_names_the_daemon_only_to_a_logged_in_caller(store, users):
    app = create_app(store, daemon_status=lambda: {"id": "host-7:4242", "running": True})
    anonymous = remote_client(app).get("/api/v1/health")
    assert anonymous.status_code == 200 and "host-7" not in anonymous.text
    assert anonymous.json()["daemon"] == {"running": True}
    viewer = login(remote_client(app), "vera", PASSWORDS["vera"]).get("/api/v1/health").json()
    assert viewer["daemon"] == {"id": "host-7:4242", "running": True}


def test_overview_lists_running_queued_and_failures(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    queued = client.post("/api/v1/runs", json={"selection": "report"}).json()["run"]["run_id"]
    body = client.get("/api/v1/overview").json()
    assert [r["run_id"] for r in body["queued"]] == [queued]
    assert [r["run_id"] for r in body["recent_failures"]] == [seeded.failed_run]
    assert body["running"] == []


def test_definitions_that_do_not_read_are_a_clear_error_and_the_rest_of_the_api_answers(
    seeded: Seeded,
):
    store = seeded.store
    client = local_client(create_app(store))
    assert client.get("/api/v1/definitions").status_code == 200
    with store.transaction() as conn:  # a row written by another Legato
        bad_id = conn.execute(
            insert(schema.snapshots)
            .values(
                location="default",
                created_at=time.time(),
                fingerprint="from-another-legato",
                data={"nodes": [{"key": "raw_orders", "kind": "asset", "upstream": "raw"}]},
            )
            .returning(schema.snapshots.c.id)
        ).scalar_one()
    for path in ("/api/v1/definitions", "/api/v1/graph", "/api/v1/assets/raw_orders"):
        answer = client.get(path)
        assert answer.status_code == 503, (path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "unavailable"
        assert error["message"].startswith(
            f"definitions snapshot {bad_id} of the project cannot be read by this Legato: "
            "Expected `array`, got `str` - at `$.nodes[0].upstream` (node 'raw_orders')"
        )
        assert "restart the daemon" in error["hint"]
    assert client.get("/api/v1/runs").status_code == 200  # what needs no definitions answers
    record_definitions(store, sample.project())  # recorded again
    assert client.get("/api/v1/definitions").status_code == 200
