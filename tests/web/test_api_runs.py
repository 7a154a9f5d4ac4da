"""Runs over the API: pages, filters, cursor, detail, steps with attempts, events; on both stores."""

from __future__ import annotations

import time

from web_helpers import Client, Seeded, local_client

from legato.events.status import RunStatus
from legato.store.runs import RunRecord, create_run
from legato.web.app import create_app


def _client(seeded: Seeded) -> Client:
    return local_client(create_app(seeded.store))


def test_runs_page_lists_newest_first_with_status(seeded: Seeded):
    body = _client(seeded).get("/api/v1/runs").json()
    assert [r["run_id"] for r in body["runs"]] == [seeded.failed_run, seeded.ok_run]
    assert [r["status"] for r in body["runs"]] == ["failed", "succeeded"]
    assert body["next_cursor"] is None


def test_runs_filter_by_status_asset_and_time(seeded: Seeded):
    client = _client(seeded)
    failed = client.get("/api/v1/runs", params={"status": "failed"}).json()["runs"]
    assert [r["run_id"] for r in failed] == [seeded.failed_run]
    both = client.get("/api/v1/runs", params=[("status", "failed"), ("status", "succeeded")])
    assert len(both.json()["runs"]) == 2
    by_asset = client.get("/api/v1/runs", params={"asset": "clean_orders"}).json()["runs"]
    assert [r["run_id"] for r in by_asset] == [seeded.ok_run]
    future = client.get("/api/v1/runs", params={"created_after": time.time() + 60}).json()
    assert future["runs"] == []
    assert client.get("/api/v1/runs", params={"pipeline": "nope"}).json()["runs"] == []


def test_cursor_walks_every_run_exactly_once(store):
    now = time.time()
    for i in range(23):  # equal timestamps in pairs: the run id breaks ties
        create_run(store, RunRecord(f"r{i:03d}", "*", RunStatus.QUEUED, now + i // 2))
    client = local_client(create_app(store))
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/runs", params=params).json()
        seen += [r["run_id"] for r in body["runs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 23


def test_run_detail_steps_attempts_and_events(seeded: Seeded):
    client = _client(seeded)
    run = client.get(f"/api/v1/runs/{seeded.ok_run}").json()
    assert run["status"] == "succeeded" and run["selection"] == "group:sales"
    body = client.get(f"/api/v1/runs/{seeded.ok_run}/steps").json()
    steps = {s["step_key"]: s for s in body["steps"]}
    assert set(steps) == {"raw_orders", "clean_orders", "report"}
    attempt = steps["raw_orders"]["attempts"][0]
    assert attempt["status"] == "succeeded" and attempt["ended_at"] >= attempt["started_at"]
    events = client.get(f"/api/v1/runs/{seeded.ok_run}/events").json()
    types = [e["type"] for e in events["events"]]
    assert types[0] == "run_started" and types[-1] == "run_succeeded"
    tail = client.get(
        f"/api/v1/runs/{seeded.ok_run}/events", params={"after_id": events["next_after_id"]}
    ).json()
    assert tail["events"] == []


def test_failed_step_carries_its_error(seeded: Seeded):
    body = _client(seeded).get(f"/api/v1/runs/{seeded.failed_run}/steps").json()
    (step,) = body["steps"]
    assert step["status"] == "failed"
    assert "boom" in str(step["error"])


def test_unknown_run_is_404_with_the_error_shape(seeded: Seeded):
    response = _client(seeded).get("/api/v1/runs/doesnotexist")
    assert response.status_code == 404
    assert set(response.json()["error"]) >= {"code", "message", "field", "hint"}


def test_runs_filter_by_tag_and_partition_and_a_bad_tag_is_a_400(store):
    now = time.time()
    for i, (team, key) in enumerate([("data", "2025-01-01"), ("web", "2025-01-01"), ("data", "")]):
        create_run(
            store,
            RunRecord(f"t{i}", "*", RunStatus.QUEUED, now + i, partition=key, tags={"team": team}),
        )
    client = local_client(create_app(store))

    def ids(**params: object) -> list[str]:
        return [r["run_id"] for r in client.get("/api/v1/runs", params=params).json()["runs"]]

    assert ids(tag="team=data") == ["t2", "t0"]
    assert ids(tag="team=data", partition="2025-01-01") == ["t0"]
    assert ids(tag="team=ops") == []
    bad = client.get("/api/v1/runs", params={"tag": "team"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "tag.0"
    assert "key=value" in bad.json()["error"]["message"]
