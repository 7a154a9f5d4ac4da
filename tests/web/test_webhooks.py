"""Webhooks: a signed POST queues exactly one run per delivery; anything unsigned, re-labelled or
replayed late is refused."""

from __future__ import annotations

import json
import time

import msgspec
import pytest
from web_helpers import record_definitions, remote_client

import legato as lg
from legato.definitions.project import Project
from legato.store.automation import list_ticks, set_enabled, sync_triggers
from legato.store.engine import Store
from legato.store.runs import get_run, list_runs
from legato.store.snapshots import latest_snapshot
from legato.web.audit import list_audit

SECRET = "s3cret-value-for-tests"


@pytest.fixture
def hooked(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    @lg.task
    def ingest() -> None:
        return None

    pipe = lg.Pipeline(
        "ingest",
        select="ingest",
        triggers=[lg.Webhook(secret_env="LEGATO_TEST_HOOK", partition_field="day")],
    )
    patient = lg.Pipeline(
        "patient",
        select="ingest",
        triggers=[lg.Webhook(secret_env="LEGATO_TEST_HOOK", tolerance=3600)],
    )
    plain = lg.Pipeline("plain", select="ingest")
    record_definitions(store, Project.of([ingest], [pipe, patient, plain]))
    monkeypatch.setenv("LEGATO_TEST_HOOK", SECRET)
    return store


def _signed(
    body: bytes, secret: str = SECRET, delivery: str = "d-1", timestamp: int | None = None
) -> dict[str, str]:
    return {
        **lg.sign_webhook(secret, body, delivery, timestamp=timestamp),
        "Content-Type": "application/json",
    }


def test_a_signed_delivery_queues_one_run_and_a_retry_does_not_double_it(hooked, app):
    client = remote_client(app)
    body = json.dumps({"day": "2025-03-01", "rows": 12}).encode()
    first = client.post("/api/v1/webhooks/ingest", content=body, headers=_signed(body))
    assert first.status_code == 202, first.text
    run = get_run(hooked, first.json()["run_id"])
    assert run.status.value == "queued" and run.partition == "2025-03-01"
    assert run.config == {"day": "2025-03-01", "rows": 12} and run.trigger.startswith("webhook:")
    # the sender retries the same delivery, signed again a little later
    retry = _signed(body, timestamp=int(time.time()) + 2)
    again = client.post("/api/v1/webhooks/ingest", content=body, headers=retry)
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
    assert len(list_runs(hooked)) == 1
    assert [t.tick_key for t in list_ticks(hooked)] == ["d-1"]
    [entry] = list_audit(hooked)
    assert (entry.actor, entry.action, entry.target) == ("webhook", "run.webhook", run.run_id)
    assert entry.detail["trigger"] == "ingest#0:webhook" and entry.detail["delivery"] == "d-1"


def test_a_signed_body_replayed_with_other_delivery_ids_starts_no_more_runs(hooked, app):
    client = remote_client(app)
    body = b'{"day": "2025-03-01"}'
    signed = _signed(body, delivery="d-1")
    assert client.post("/api/v1/webhooks/ingest", content=body, headers=signed).status_code == 202
    for other in ("d-2", "d-3"):
        replay = {**signed, "X-Legato-Delivery": other}
        response = client.post("/api/v1/webhooks/ingest", content=body, headers=replay)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["field"] == "X-Legato-Signature"
    assert len(list_runs(hooked)) == 1 and len(list_audit(hooked)) == 1


@pytest.mark.parametrize(("shift", "said"), [(-400, " s old;"), (400, " s ahead of the server")])
def test_a_delivery_signed_outside_the_tolerance_is_refused_with_its_age(hooked, app, shift, said):
    client = remote_client(app)
    body = b"{}"
    stale = _signed(body, timestamp=int(time.time()) + shift)
    response = client.post("/api/v1/webhooks/ingest", content=body, headers=stale)
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert said in error["message"] and "within 300 s" in error["message"]
    assert "current time" in error["hint"]
    assert list_runs(hooked) == []
    # the tolerance is the trigger's: an hour on the 'patient' pipeline
    patient = client.post("/api/v1/webhooks/patient", content=body, headers=stale)
    assert patient.status_code == 202, patient.text


def test_a_disabled_webhook_trigger_requests_no_run_and_says_how_to_enable_it(hooked, app):
    recorded = latest_snapshot(hooked)
    assert recorded is not None
    sync_triggers(hooked, recorded)  # what the daemon does
    set_enabled(hooked, "ingest#0:webhook", False)
    client = remote_client(app)
    body = b'{"day": "2025-03-01"}'
    refused = client.post("/api/v1/webhooks/ingest", content=body, headers=_signed(body))
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert (
        error["code"] == "trigger_disabled" and "'ingest#0:webhook' is disabled" in error["message"]
    )
    assert "legato automation enable ingest#0:webhook" in error["hint"]
    assert list_runs(hooked) == [] and list_ticks(hooked) == [] and list_audit(hooked) == []
    set_enabled(hooked, "ingest#0:webhook", True)
    accepted = client.post("/api/v1/webhooks/ingest", content=body, headers=_signed(body))
    assert accepted.status_code == 202, accepted.text


NOW = int(time.time())
SIGNATURE, DELIVERY = "X-Legato-Signature", "X-Legato-Delivery"


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({}, SIGNATURE),
        ({SIGNATURE: "sha256=" + "0" * 64, DELIVERY: "d-1"}, SIGNATURE),  # the old scheme
        ({SIGNATURE: f"t={NOW},v1={'0' * 64}", DELIVERY: "d-1"}, SIGNATURE),
        ({SIGNATURE: "md5=abc", DELIVERY: "d-1"}, SIGNATURE),
        ({SIGNATURE: f"t={NOW},v1={'0' * 64}"}, DELIVERY),
        ({SIGNATURE: f"t={NOW},v1={'0' * 64}", DELIVERY: "a.b"}, DELIVERY),
    ],
)
def test_unsigned_or_badly_signed_deliveries_are_refused(hooked, app, headers, field):
    body = b'{"day": "2025-03-01"}'
    response = remote_client(app).post("/api/v1/webhooks/ingest", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["field"] == field
    assert list_runs(hooked) == []


def test_bad_bodies_are_clear_4xx(hooked, app):
    client = remote_client(app)
    for body in (b"not json", b"[1, 2]", b'{"day": "a|b"}', b"[" * 100_000):
        response = client.post("/api/v1/webhooks/ingest", content=body, headers=_signed(body))
        assert response.status_code == 400, response.text
    body = b'{"day": "2025-03-01", "rows": [1, NaN]}'
    response = client.post("/api/v1/webhooks/ingest", content=body, headers=_signed(body))
    assert response.status_code == 422 and response.json()["error"]["field"] == "body.rows[1]"
    assert list_runs(hooked) == []


def test_unknown_pipelines_and_bad_signatures_get_the_same_401(hooked, app):
    client = remote_client(app)
    body = b"{}"
    wrong = client.post("/api/v1/webhooks/ingest", content=body, headers=_signed(body, "guess"))
    for pipeline in ("nope", "plain"):  # no such pipeline; a pipeline without a webhook
        other = client.post(f"/api/v1/webhooks/{pipeline}", content=body, headers=_signed(body))
        assert (other.status_code, other.json()) == (401, wrong.json())
    assert wrong.status_code == 401 and list_runs(hooked) == []


def test_a_secret_missing_on_the_server_answers_as_an_unknown_pipeline_and_is_named_in_the_log(
    hooked, app, monkeypatch, caplog
):
    """Else a caller without the secret could still tell which pipelines take webhooks."""
    monkeypatch.delenv("LEGATO_TEST_HOOK")
    body = b"{}"
    client = remote_client(app)
    with caplog.at_level("WARNING", logger="legato.web"):
        response = client.post("/api/v1/webhooks/ingest", content=body, headers=_signed(body, ""))
    unknown = client.post("/api/v1/webhooks/nope", content=body, headers=_signed(body, ""))
    assert (response.status_code, response.json()) == (401, unknown.json())
    assert "LEGATO_TEST_HOOK" not in response.text and "server's log" in response.text
    assert "LEGATO_TEST_HOOK" in caplog.text and list_runs(hooked) == []


class Load(msgspec.Struct):
    table: str
    rows: int = 100


@lg.task
def load(config: Load) -> int:
    return config.rows


def test_a_body_that_does_not_fit_the_steps_config_models_is_a_422_and_records_nothing(
    store: Store, app, monkeypatch: pytest.MonkeyPatch
):
    loads = lg.Pipeline(
        "loads",
        select="load",
        config={"load": {"rows": 5}},
        triggers=[lg.Webhook(secret_env="LEGATO_TEST_HOOK", partition_field="day")],
    )
    record_definitions(store, Project.of([load], [loads]))
    monkeypatch.setenv("LEGATO_TEST_HOOK", SECRET)
    client = remote_client(app)
    body = json.dumps({"day": "", "load": {"tabel": "t", "rows": "9"}}).encode()
    refused = client.post("/api/v1/webhooks/loads", content=body, headers=_signed(body))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]  # the shape POST /api/v1/runs gives for a bad config
    assert (error["code"], error["field"]) == ("invalid_config", "config")
    problems = {p["path"]: p for p in error["problems"]}
    assert set(problems) == {"load.table", "load.tabel", "load.rows"}
    assert all(p["step"] == "load" for p in problems.values())
    assert problems["load.tabel"]["hint"] == "did you mean 'table'?"
    assert list_runs(store) == [] and list_ticks(store) == [] and list_audit(store) == []
    # the pipeline's config is the default the body refines
    body = json.dumps({"load": {"table": "t"}}).encode()
    accepted = client.post(
        "/api/v1/webhooks/loads", content=body, headers=_signed(body, delivery="d-2")
    )
    assert accepted.status_code == 202, accepted.text
    run = get_run(store, accepted.json()["run_id"])
    assert run.config == {"load": {"table": "t", "rows": 5}}
