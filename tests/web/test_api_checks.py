"""Checks over the API: results on the asset page and at /checks, trust of the latest
materialization, check nodes reachable by key but kept out of the lineage."""

from __future__ import annotations

from web_helpers import local_client, record_definitions

import legato as lg
from legato.definitions.project import Project
from legato.store.engine import Store
from legato.web.app import create_app


@lg.asset(checks=[lg.checks.not_null("id", blocking=True), lg.checks.row_count(min=5)])
def orders() -> list[dict]:
    return [{"id": 1}, {"id": None}]


@lg.asset
def revenue(orders: list[dict]) -> int:
    return len(orders)


STEPS = [orders, revenue]


def test_the_asset_page_shows_its_checks_and_that_the_latest_materialization_is_not_trusted(
    store: Store,
):
    record_definitions(store, Project.of(STEPS))
    run = lg.materialize(STEPS, store=store, raise_on_error=False)
    client = local_client(create_app(store))
    asset = client.get("/api/v1/assets/orders").json()
    assert asset["trust"] == {"trusted": False, "failed_checks": ["orders:check:not_null_id"]}
    assert asset["node"]["checks"] == ["orders:check:not_null_id", "orders:check:row_count"]
    outcomes = {c["check"]: (c["outcome"], c["blocking"]) for c in asset["checks"]}
    assert outcomes == {
        "orders:check:not_null_id": ("fail", True),
        "orders:check:row_count": ("fail", False),
    }
    assert {c["target_run"] for c in asset["checks"]} == {run.run_id}
    assert asset["node"]["downstream"] == ["revenue"]  # checks are not lineage neighbours
    check = client.get("/api/v1/assets/orders:check:not_null_id").json()["node"]
    assert check["kind"] == "check" and check["upstream"] == ["orders"]
    layout = client.get("/api/v1/graph/layout").json()
    assert sorted(layout["keys"]) == ["orders", "revenue"]


def test_checks_lists_the_latest_result_of_each_or_the_history_of_one(store: Store):
    record_definitions(store, Project.of(STEPS))
    first = lg.materialize(STEPS, store=store, raise_on_error=False)
    second = lg.materialize(STEPS, store=store, raise_on_error=False)
    client = local_client(create_app(store))
    latest = client.get("/api/v1/checks", params={"asset": "orders"}).json()
    assert {c["run_id"] for c in latest["checks"]} == {second.run_id}
    assert latest["defined"] == ["orders:check:not_null_id", "orders:check:row_count"]
    history = client.get(
        "/api/v1/checks", params={"check": "orders:check:row_count", "limit": 1}
    ).json()
    assert [c["run_id"] for c in history["checks"]] == [second.run_id]
    older = client.get(
        "/api/v1/checks",
        params={"check": "orders:check:row_count", "before_id": history["next_before_id"]},
    ).json()
    assert [c["run_id"] for c in older["checks"]] == [first.run_id]
    assert older["checks"][0]["metadata"] == {"rows": 2, "min": 5, "max": None}
    nothing = client.get("/api/v1/checks", params={"asset": "revenue"}).json()
    assert nothing == {"checks": [], "defined": [], "next_before_id": None}


def test_a_check_node_says_what_it_checks_as_the_openapi_spec_declares(store: Store):
    record_definitions(store, Project.of(STEPS))
    app = create_app(store)
    client = local_client(app)
    nodes = {n["key"]: n for n in client.get("/api/v1/definitions").json()["nodes"]}
    assert nodes["orders:check:not_null_id"]["check"] == {
        "asset": "orders",
        "name": "not_null_id",
        "blocking": True,
        "severity": "error",
    }
    assert nodes["orders"]["check"] is None
    declared = app.openapi()["components"]["schemas"]
    check = declared["CheckDefinitionOut"]["properties"]
    assert set(check) == {"asset", "name", "blocking", "severity"}
    assert declared["NodeOut"]["properties"]["tags"]["additionalProperties"] == {"type": "string"}
