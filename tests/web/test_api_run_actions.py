"""Launch, cancel and re-run over the API: queued records only, idempotency, audit, validation."""

from __future__ import annotations

import pytest
import web_sample as sample
from web_helpers import Client, Seeded, execute_queued, local_client, record_definitions

import legato as lg
from legato.definitions.project import Project
from legato.store.engine import Store
from legato.store.partitions import add_dynamic_keys
from legato.store.runs import get_run, get_steps, list_runs
from legato.web.app import create_app
from legato.web.audit import list_audit


def _client(seeded: Seeded) -> Client:
    return local_client(create_app(seeded.store))


def test_launch_queues_a_run_without_steps_and_audits_it(seeded: Seeded):
    response = _client(seeded).post(
        "/api/v1/runs", json={"selection": "raw_orders+", "tags": {"why": "test"}}
    )
    assert response.status_code == 201, response.text
    run = response.json()["run"]
    assert run["status"] == "queued" and run["trigger"] == "api:local"
    assert run["selection"] == "raw_orders+" and run["tags"] == {"why": "test"}
    assert get_steps(seeded.store, run["run_id"]) == []  # the launcher plans it, not the server
    (entry, *_) = list_audit(seeded.store)
    assert (entry.actor, entry.action, entry.target) == ("local", "run.launch", run["run_id"])


def test_launch_a_pipeline_takes_its_selection_and_tags(seeded: Seeded, storage):
    client = _client(seeded)
    run = client.post("/api/v1/runs", json={"pipeline": "nightly"}).json()["run"]
    assert run["selection"] == "group:sales" and run["tags"] == {"team": "finance"}
    assert run["pipeline"] == "nightly"
    assert execute_queued(seeded.store, sample.project(), storage) == [run["run_id"]]
    assert get_run(seeded.store, run["run_id"]).status.value == "succeeded"


def test_launch_a_pipeline_queues_its_run_at_the_pipeline_priority(store: Store):
    urgent = lg.Pipeline("urgent", select="report", priority=5, executor="threads")
    record_definitions(store, Project.of(sample.STEPS, [urgent]))
    response = local_client(create_app(store)).post("/api/v1/runs", json={"pipeline": "urgent"})
    assert response.status_code == 201, response.text
    run = response.json()["run"]
    assert (run["priority"], run["executor"], run["trigger"]) == (5, "threads", "api:local")


def test_duplicate_idempotency_key_is_409_naming_the_first_run(seeded: Seeded):
    client = _client(seeded)
    headers = {"Idempotency-Key": "deploy-42"}
    first = client.post("/api/v1/runs", json={"selection": "*"}, headers=headers)
    again = client.post("/api/v1/runs", json={"selection": "report"}, headers=headers)
    assert first.status_code == 201 and again.status_code == 409
    error = again.json()["error"]
    assert error["run_id"] == first.json()["run"]["run_id"]
    assert error["field"] == "Idempotency-Key"


def test_selection_errors_name_the_field_and_the_fix(seeded: Seeded):
    client = _client(seeded)
    cases = {
        "clean_order": "did you mean 'clean_orders'?",
        "group:salez": "did you mean 'sales'?",
        "tag:tier=gold": None,
        "kind:table": "kind:asset",
    }
    for selection, hint in cases.items():
        response = client.post("/api/v1/runs", json={"selection": selection})
        assert response.status_code == 400, selection
        error = response.json()["error"]
        assert error["field"] == "selection"
        if hint:
            assert hint in error["hint"], (selection, error)
    missing = client.post("/api/v1/runs", json={}).json()["error"]
    assert missing["field"] == "selection"
    unknown = client.post("/api/v1/runs", json={"pipeline": "weekly"}).json()["error"]
    assert unknown["field"] == "pipeline" and "nightly" in unknown["hint"]


def test_launch_refuses_bad_bodies_with_400(seeded: Seeded):
    client = _client(seeded)
    for body in (
        {"selection": "*", "extra": 1},
        {"selection": "*", "partition": "a\x00b"},
        {"selection": "*", "tags": {"k": 1}},
        {"selection": "*", "config": [1, 2]},
        {"selection": ["*"] * 201},
        {"selection": "x" * 5000},
    ):
        response = client.post("/api/v1/runs", json=body)
        assert response.status_code == 400, (body, response.text)
    raw = client.post(
        "/api/v1/runs",
        content=b'{"selection": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert raw.status_code == 400
    deep = client.post(
        "/api/v1/runs", content=b"[" * 100_000, headers={"content-type": "application/json"}
    )
    assert deep.status_code == 400


def test_cancel_queued_run_then_conflict_when_finished(seeded: Seeded):
    client = _client(seeded)
    run_id = client.post("/api/v1/runs", json={"selection": "*"}).json()["run"]["run_id"]
    cancelled = client.post(f"/api/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/runs/{run_id}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert client.post("/api/v1/runs/nosuchrun/cancel").status_code == 404
    assert [e.action for e in list_audit(seeded.store)][:2] == ["run.cancel", "run.launch"]


def test_rerun_from_failure_copies_the_parent(seeded: Seeded, storage):
    client = _client(seeded)
    response = client.post(f"/api/v1/runs/{seeded.failed_run}/rerun", json={})
    assert response.status_code == 201, response.text
    run = response.json()["run"]
    assert run["parent_run_id"] == seeded.failed_run and run["from_failure"] is True
    assert run["selection"] == "broken" and run["status"] == "queued"
    refused = client.post(f"/api/v1/runs/{seeded.ok_run}/rerun")
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "from_failure"
    full = client.post(f"/api/v1/runs/{seeded.ok_run}/rerun", json={"from_failure": False})
    assert full.status_code == 201 and full.json()["run"]["from_failure"] is False


def test_rerun_of_an_unfinished_run_is_409(seeded: Seeded):
    client = _client(seeded)
    run_id = client.post("/api/v1/runs", json={"selection": "*"}).json()["run"]["run_id"]
    assert client.post(f"/api/v1/runs/{run_id}/rerun").status_code == 409


def test_launch_without_definitions_is_409(store):
    response = local_client(create_app(store)).post("/api/v1/runs", json={"selection": "*"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_definitions"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_launch_refuses_numbers_json_cannot_carry_naming_where(seeded: Seeded, number):
    client = _client(seeded)
    before = len(list_runs(seeded.store))
    body = '{"selection": "*", "config": {"rows": [1, NUMBER]}}'.replace("NUMBER", number)
    response = client.post(
        "/api/v1/runs", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (
        error["field"] == "config" and "config.rows[1] is not a finite number" in error["message"]
    )
    assert len(list_runs(seeded.store)) == before


DAYS = lg.DailyPartitions(start="2024-01-01", end="2024-03-01")
REGIONS = lg.StaticPartitions(["eu", "us"], name="region")


@pytest.fixture
def partitioned(store: Store) -> Store:
    @lg.asset(partitions=DAYS)
    def daily_sales() -> int:
        return 1

    @lg.asset(partitions=DAYS * REGIONS)
    def regional_sales() -> int:
        return 2

    @lg.asset(partitions=lg.DynamicPartitions("tenants"))
    def tenant_report() -> int:
        return 3

    @lg.task
    def notify() -> None:
        return None

    steps = [daily_sales, regional_sales, tenant_report, notify]
    record_definitions(store, Project.of(steps, []))
    add_dynamic_keys(store, "tenants", ["acme"])
    return store


@pytest.mark.parametrize(
    ("selection", "partition", "named", "example"),
    [
        ("daily_sales", "2024-13-01", "asset 'daily_sales'", "'2024-01-01'"),
        ("daily_sales", "2024-02-01|2099-01-01", "'2099-01-01'", "'2024-02-29'"),
        ("regional_sales", "date=2024-02-01,region=mars", "asset 'regional_sales'", "'us'"),
        ("tenant_report", "globex", "asset 'tenant_report'", "'acme'"),
        ("notify", "2024-02-01", "nothing selected is partitioned", "leave out partition"),
    ],
)
def test_launch_refuses_partition_keys_outside_the_space(
    partitioned: Store, selection, partition, named, example
):
    client = local_client(create_app(partitioned))
    body = {"selection": selection, "partition": partition}
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "partition" and named in error["message"]
    assert example in error["hint"]
    assert list_runs(partitioned) == []


def test_launch_accepts_keys_of_the_space_in_any_dimension_order(partitioned: Store):
    client = local_client(create_app(partitioned))
    for selection, partition in (
        ("daily_sales", "2024-02-01"),
        ("daily_sales notify", "2024-02-01|2024-02-02"),
        ("regional_sales", "region=eu,date=2024-02-01"),
        ("tenant_report", "acme"),
    ):
        body = {"selection": selection, "partition": partition}
        response = client.post("/api/v1/runs", json=body)
        assert response.status_code == 201, response.text


def test_pin_and_unpin_a_run_are_audited_and_an_unknown_run_is_a_404(seeded: Seeded):
    from legato.store.pins import is_pinned

    client = _client(seeded)
    prefix = seeded.ok_run[:-2]  # a unique prefix is enough
    pinned = client.post(f"/api/v1/runs/{prefix}/pin")
    assert pinned.status_code == 200, pinned.text
    assert pinned.json() == {"run_id": seeded.ok_run, "pinned": True}
    assert is_pinned(seeded.store, seeded.ok_run)
    unpinned = client.delete(f"/api/v1/runs/{seeded.ok_run}/pin")
    assert unpinned.json() == {"run_id": seeded.ok_run, "pinned": False}
    assert not is_pinned(seeded.store, seeded.ok_run)
    actions = [(e.action, e.target) for e in list_audit(seeded.store)][:2]
    assert actions == [("run.unpin", seeded.ok_run), ("run.pin", seeded.ok_run)]
    missing = client.post("/api/v1/runs/nosuchrun/pin")
    assert missing.status_code == 404 and "legato runs" in missing.json()["error"]["hint"]
