"""Webhooks: a signed POST queues exactly one run per delivery; anything unsigned is refused."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from web_helpers import record_definitions, remote_client

import legato as lg
from legato.definitions.project import Project
from legato.store.automation import list_ticks
from legato.store.engine import Store
from legato.store.runs import get_run, list_runs

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
    record_definitions(store, Project.of([ingest], [pipe]))
    monkeypatch.setenv("LEGATO_TEST_HOOK", SECRET)
    return store


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Legato-Signature": f"sha256={digest}", "Content-Type": "application/json"}


def test_a_signed_delivery_queues_one_run_and_a_retry_does_not_double_it(hooked, app):
    client = remote_client(app)
    body = json.dumps({"day": "2025-03-01", "rows": 12}).encode()
    headers = {**_signed(body), "X-Legato-Delivery": "delivery-1"}
    first = client.post("/api/v1/webhooks/ingest", content=body, headers=headers)
    assert first.status_code == 202, first.text
    run = get_run(hooked, first.json()["run_id"])
    assert run.status.value == "queued" and run.partition == "2025-03-01"
    assert run.config == {"day": "2025-03-01", "rows": 12} and run.trigger.startswith("webhook:")
    again = client.post("/api/v1/webhooks/ingest", content=body, headers=headers)
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
    assert len(list_runs(hooked)) == 1
    assert [t.tick_key for t in list_ticks(hooked)] == ["delivery-1"]


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"X-Legato-Signature": "sha256=" + "0" * 64}, 401),
        ({"X-Legato-Signature": "md5=abc"}, 401),
    ],
)
def test_unsigned_or_badly_signed_deliveries_are_refused(hooked, app, headers, status):
    body = b'{"day": "2025-03-01"}'
    response = remote_client(app).post("/api/v1/webhooks/ingest", content=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["field"] == "X-Legato-Signature"
    assert list_runs(hooked) == []


def test_bad_bodies_and_unknown_pipelines_are_clear_4xx(hooked, app):
    client = remote_client(app)
    for body, status in ((b"not json", 400), (b"[1, 2]", 400), (b'{"day": "a|b"}', 400)):
        assert (
            client.post("/api/v1/webhooks/ingest", content=body, headers=_signed(body)).status_code
            == status
        )
    body = b"{}"
    missing = client.post("/api/v1/webhooks/nope", content=body, headers=_signed(body))
    assert missing.status_code == 404 and "no webhook trigger" in missing.json()["error"]["message"]
    assert list_runs(hooked) == []


def test_a_secret_missing_on_the_server_is_503_not_open(hooked, app, monkeypatch):
    monkeypatch.delenv("LEGATO_TEST_HOOK")
    body = b"{}"
    response = remote_client(app).post(
        "/api/v1/webhooks/ingest", content=body, headers=_signed(body, "")
    )
    assert response.status_code == 503 and "LEGATO_TEST_HOOK" in response.json()["error"]["hint"]
