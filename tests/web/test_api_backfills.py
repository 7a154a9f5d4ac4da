"""Backfills over the API: creating one (checked, recorded for the daemon to plan), the list with
progress from their runs, one with its runs, and pause / resume / cancel as status changes the
daemon follows (409 when not allowed)."""

from __future__ import annotations

import msgspec
from web_helpers import Client, local_client, record_definitions
from web_ops_sample import Ops

import legato as lg
from legato.definitions.project import Project
from legato.store.backfills import get_backfill, list_backfills
from legato.store.engine import Store
from legato.web.app import create_app
from legato.web.audit import list_audit

BASE = "/api/v1/backfills"


def _client(ops: Ops) -> Client:
    return local_client(create_app(ops.store))


def test_list_shows_progress_from_the_runs(ops: Ops):
    listed = _client(ops).get(BASE).json()
    assert [b["backfill_id"] for b in listed["backfills"]] == [ops.requested_id, ops.backfill_id]
    failed = listed["backfills"][1]
    assert failed["status"] == "failed" and failed["error"] == "1 run(s) failed"
    assert (failed["keys"], failed["groups"]) == (4, 4)
    assert (failed["first_key"], failed["last_key"]) == ("2024-02-07", "2024-02-11")
    assert failed["progress"] == {
        "total": 4,
        "succeeded": 2,
        "failed": 1,
        "running": 0,
        "pending": 1,
    }
    fresh = listed["backfills"][0]
    assert fresh["status"] == "requested" and fresh["missing_only"] is True
    assert fresh["progress"] == {
        "total": 1,
        "succeeded": 0,
        "failed": 0,
        "running": 0,
        "pending": 1,
    }


def test_list_filters_by_status_and_pages_by_cursor(ops: Ops):
    client = _client(ops)
    only = client.get(BASE, params={"status": "failed"}).json()["backfills"]
    assert [b["backfill_id"] for b in only] == [ops.backfill_id]
    first = client.get(BASE, params={"limit": 1}).json()
    assert [b["backfill_id"] for b in first["backfills"]] == [ops.requested_id]
    second = client.get(BASE, params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [b["backfill_id"] for b in second["backfills"]] == [ops.backfill_id]
    for params in ({"status": "exploded"}, {"cursor": "!!!"}, {"limit": 501}, {"status": "'"}):
        response = client.get(BASE, params=params)
        assert response.status_code == 400, params


def test_detail_has_its_runs_newest_first(ops: Ops):
    client = _client(ops)
    detail = client.get(f"{BASE}/{ops.backfill_id}").json()
    assert detail["backfill"]["backfill_id"] == ops.backfill_id
    assert detail["keys_sample"] == ["2024-02-07", "2024-02-08", "2024-02-10", "2024-02-11"]
    assert [r["run_id"] for r in detail["runs"]] == ops.runs[::-1]
    assert [r["status"] for r in detail["runs"]] == ["failed", "succeeded", "succeeded"]
    assert all(r["backfill_id"] == ops.backfill_id for r in detail["runs"])
    page = client.get(f"{BASE}/{ops.backfill_id}", params={"limit": 2}).json()
    older = client.get(
        f"{BASE}/{ops.backfill_id}", params={"limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [r["run_id"] for r in page["runs"] + older["runs"]] == ops.runs[::-1]
    assert client.get(f"{BASE}/{ops.backfill_id[:16]}").status_code == 200  # a unique prefix
    assert client.get(f"{BASE}/nosuchbackfill").status_code == 404
    assert client.get(f"{BASE}/{'b' * 41}").status_code == 400
    assert client.get(f"{BASE}/%27%20OR%201%3D1").status_code == 400


def test_pause_resume_cancel_move_the_status_and_are_audited(ops: Ops):
    client = _client(ops)
    url = f"{BASE}/{ops.requested_id}"
    paused = client.post(f"{url}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert client.post(f"{url}/pause").status_code == 409
    resumed = client.post(f"{url}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "requested"
    cancelled = client.post(f"{url}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    for action in ("pause", "resume", "cancel"):
        refused = client.post(f"{url}/{action}")
        assert refused.status_code == 409, action
        assert refused.json()["error"]["code"] == "conflict"
        assert "cancelled" in refused.json()["error"]["message"]
    assert get_backfill(ops.store, ops.requested_id).status == "cancelled"
    actions = [(e.action, e.target, e.detail) for e in list_audit(ops.store)][:3][::-1]
    assert actions == [
        ("backfill.pause", ops.requested_id, {"from": "requested", "to": "paused"}),
        ("backfill.resume", ops.requested_id, {"from": "paused", "to": "requested"}),
        ("backfill.cancel", ops.requested_id, {"from": "requested", "to": "cancelled"}),
    ]


def test_a_failed_backfill_resumes_to_requested_without_its_error(ops: Ops):
    client = _client(ops)
    resumed = client.post(f"{BASE}/{ops.backfill_id}/resume").json()
    assert resumed["status"] == "requested" and resumed["error"] is None
    assert resumed["progress"]["succeeded"] == 2  # the daemon creates only the missing runs
    assert client.post(f"{BASE}/nosuchbackfill/cancel").status_code == 404
    assert client.get(f"{BASE}/{ops.backfill_id}/resume").status_code == 405


def test_create_records_an_unplanned_backfill_of_a_range_and_answers_at_once(ops: Ops):
    client = _client(ops)
    body = {
        "selection": "regional_sales",
        "range": {"from": "2024-02-01", "to": "2024-02-10"},
        "max_concurrent": 4,
        "missing_only": True,
    }
    created = client.post(BASE, json=body)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["status"] == "requested" and out["planned"] is False and out["driver"] is None
    assert (out["keys"], out["max_concurrent"], out["missing_only"]) == (30, 4, True)
    assert out["first_key"] == "date=2024-02-01,region=eu"  # every region of those dates
    assert out["last_key"] == "date=2024-02-10,region=apac"
    record = get_backfill(ops.store, out["backfill_id"])
    assert record.request == {"range": ["2024-02-01", "2024-02-10"]} and record.groups == ()
    assert client.get(BASE).json()["backfills"][0]["backfill_id"] == out["backfill_id"]
    [entry] = [e for e in list_audit(ops.store) if e.action == "backfill.create"]
    assert entry.target == out["backfill_id"]
    assert entry.detail == {"selection": "regional_sales", "keys": 30}

    listed = client.post(
        BASE, json={"selection": ["regional_sales"], "partitions": ["region=us,date=2024-02-03"]}
    )
    assert listed.status_code == 201, listed.text
    record = get_backfill(ops.store, listed.json()["backfill_id"])
    assert record.keys == ("date=2024-02-03,region=us",)  # in the space's dimension order
    assert record.request == {"range": None} and record.max_concurrent == 2


def test_create_refuses_bad_input_with_a_422_naming_the_field(ops: Ops):
    client = _client(ops)
    days = {"from": "2024-02-01", "to": "2024-02-03"}
    cases = [
        ({"range": days}, "selection"),
        ({"selection": "daily_sales"}, "range"),
        ({"selection": "daily_sales", "range": days, "partitions": ["2024-02-01"]}, "range"),
        ({"selection": "daily_sales", "range": days, "max_concurrent": 0}, "max_concurrent"),
        ({"selection": "daily_sales", "range": days, "max_concurrent": "many"}, "max_concurrent"),
        ({"selection": "daily_sales", "range": {"from": "2024-02-01"}}, "range.to"),
        ({"selection": "daily_sales", "range": days, "priority": 1}, "priority"),
        ({"selection": "nosuchasset", "range": days}, "selection"),
        (
            {"selection": "daily_sales", "range": {"from": "2023-12-31", "to": "2024-01-02"}},
            "range.from",
        ),
        (
            {"selection": "daily_sales", "range": {"from": "2024-01-02", "to": "2024-03-05"}},
            "range.to",
        ),
        (
            {"selection": "daily_sales", "range": {"from": "2024-02-03", "to": "2024-02-01"}},
            "range",
        ),
        ({"selection": "daily_sales", "partitions": ["2024-02-01", "../etc"]}, "partitions.1"),
        ({"selection": "tenant_report", "partitions": ["hooli"]}, "partitions.0"),
    ]
    for body, field in cases:
        refused = client.post(BASE, json=body)
        assert refused.status_code == 422, (body, refused.text)
        error = refused.json()["error"]
        assert error["field"] == field, (body, error)
        assert error["message"] and error["hint"], error
    not_json = client.post(BASE, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["error"]["field"] == "body"
    hint = client.post(BASE, json=cases[9][0]).json()["error"]["hint"]
    assert "2024-02-29" in hint  # the last key of the space, to fix the range with
    assert len(client.get(BASE).json()["backfills"]) == 2  # nothing was recorded


class Export(msgspec.Struct):
    table: str
    rows: int = 100


@lg.asset(partitions=lg.StaticPartitions(["eu", "us"]))
def regional(context, config: Export) -> str:
    return config.table


def test_create_checks_the_config_its_runs_get_422_naming_each_problem(store: Store):
    record_definitions(store, Project.of([regional]))
    client = local_client(create_app(store))
    body = {"selection": "regional", "partitions": ["eu", "us"]}
    missing = client.post(BASE, json=body)
    assert missing.status_code == 422, missing.text
    [problem] = missing.json()["error"]["problems"]
    assert (problem["step"], problem["path"]) == ("regional", "regional")  # none given
    wrong = client.post(BASE, json={**body, "config": {"regional": {"tabel": "t", "rows": "x"}}})
    assert wrong.status_code == 422, wrong.text
    paths = sorted(p["path"] for p in wrong.json()["error"]["problems"])
    assert paths == ["regional.rows", "regional.tabel", "regional.table"]
    assert list_backfills(store) == []
    config = {"regional": {"table": "sales"}}
    created = client.post(BASE, json={**body, "config": config})
    assert created.status_code == 201, created.text
    assert created.json()["config"] == config
    assert get_backfill(store, created.json()["backfill_id"]).config == config
