"""Run config over the API: its JSON Schema for a launch form, and a 422 naming each problem."""

from __future__ import annotations

from typing import Literal

import msgspec
from web_helpers import local_client, record_definitions

import legato as lg
from legato.definitions.project import Project
from legato.store.engine import Store
from legato.store.runs import list_runs
from legato.web.app import create_app
from legato.web.audit import list_audit


class Export(msgspec.Struct):
    table: str
    rows: int = 100


@lg.asset
def orders() -> list[int]:
    return [1, 2]


@lg.task
def export(orders: list[int], config: Export) -> int:
    if config.rows < 0:
        raise ValueError("rows must not be negative")
    return min(len(orders), config.rows)


class ExportV2(msgspec.Struct):
    table: str
    format: Literal["csv", "parquet"]  # a field the first version did not have, without a default
    rows: int = 100


@lg.task(key="export")
def export_v2(orders: list[int], config: ExportV2) -> int:
    return min(len(orders), config.rows)


weekly = lg.Pipeline("weekly", select="export", config={"export": {"table": "t1"}})


def _client(store: Store):  # type: ignore[no-untyped-def]
    record_definitions(store, Project.of([orders, export], [weekly]))
    return local_client(create_app(store))


def test_a_config_that_does_not_fit_is_422_listing_each_problem_and_nothing_is_queued(
    store: Store,
):
    client = _client(store)
    body = {"selection": "export", "config": {"export": {"tabel": "t", "rows": "9"}}}
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_config", "config")
    problems = {p["path"]: p for p in error["problems"]}
    assert set(problems) == {"export.table", "export.tabel", "export.rows"}
    assert problems["export.tabel"]["hint"] == "did you mean 'table'?"
    assert all(p["step"] == "export" for p in problems.values())
    assert "step 'export'" in error["message"] and "export.rows" in error["hint"]
    assert list_runs(store) == []
    ok = client.post(
        "/api/v1/runs", json={"selection": "export", "config": {"export": {"table": "t"}}}
    )
    assert ok.status_code == 201, ok.text
    spec = client.get("/api/v1/openapi.json").json()
    assert "422" in spec["paths"]["/api/v1/runs"]["post"]["responses"]


def test_a_pipeline_run_takes_its_default_config_under_the_given_one(store: Store):
    client = _client(store)
    response = client.post(
        "/api/v1/runs", json={"pipeline": "weekly", "config": {"export": {"rows": 5}}}
    )
    assert response.status_code == 201, response.text
    assert response.json()["run"]["config"] == {"export": {"table": "t1", "rows": 5}}


def test_the_config_schema_of_a_pipeline_or_a_selection_is_served_for_forms(store: Store):
    client = _client(store)
    served = client.get("/api/v1/config-schema", params={"pipeline": "weekly"}).json()
    assert served["steps"] == ["export"] and served["defaults"] == {"export": {"table": "t1"}}
    schema = served["config_schema"]
    assert schema["required"] == ["export"]
    assert schema["properties"]["export"]["properties"]["rows"] == {
        "type": "integer",
        "default": 100,
    }
    assert schema["properties"]["export"]["additionalProperties"] is False
    nothing = client.get("/api/v1/config-schema", params={"select": "orders"}).json()
    assert nothing["config_schema"] is None and nothing["steps"] == []
    node = client.get("/api/v1/assets/export").json()["node"]
    assert node["config_schema"]["required"] == ["table"]
    missing = client.get("/api/v1/config-schema", params={"pipeline": "nope"})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "pipeline"


def test_a_rerun_is_checked_against_the_current_definitions_422_naming_each_problem(
    store: Store,
):
    client = _client(store)
    ok = lg.materialize([orders, export], store=store, run_config={"export": {"table": "t"}})
    failed = lg.materialize(
        [orders, export],
        store=store,
        run_config={"export": {"table": "t", "rows": -1}},
        raise_on_error=False,
    )
    assert not failed.success
    # the code changed since: export needs a format now, which neither parent's config has
    record_definitions(store, Project.of([orders, export_v2], [weekly]))
    for parent, body in ((failed.run_id, {}), (ok.run_id, {"from_failure": False})):
        refused = client.post(f"/api/v1/runs/{parent}/rerun", json=body)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["field"]) == ("invalid_config", "config")
        assert [(p["step"], p["path"]) for p in error["problems"]] == [("export", "export.format")]
        assert f"run {parent}'s config does not fit the current definitions" in error["message"]
        assert "export.format is required" in error["message"]
        assert "config models changed since it ran" in error["hint"]
        assert "POST /api/v1/runs" in error["hint"]
    assert len(list_runs(store)) == 2 and list_audit(store) == []
    spec = client.get("/api/v1/openapi.json").json()
    assert "422" in spec["paths"]["/api/v1/runs/{run_id}/rerun"]["post"]["responses"]
    # with definitions its config still fits, the re-run is queued as before
    record_definitions(store, Project.of([orders, export], [weekly]))
    again = client.post(f"/api/v1/runs/{failed.run_id}/rerun", json={})
    assert again.status_code == 201, again.text
    assert again.json()["run"]["config"] == {"export": {"table": "t", "rows": -1}}
