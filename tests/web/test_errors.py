"""Bad input gets a 4xx in the one error shape, never a 500 (B-04, B-05, B-07, B-10)."""

from __future__ import annotations

from web_helpers import Seeded, local_client

from legato.store.runs import get_run
from legato.web.app import create_app

INJECTIONS = ["'", "' OR 1=1 --", "x'; DROP TABLE runs; --", "%", "_", "\\", "{{7*7}}", "${7*7}"]


def _shape(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "field", "hint"} <= set(body["error"])
    return body["error"]


def test_sql_injection_in_every_filter_is_a_literal_match(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    every = client.get(f"/api/v1/runs/{seeded.ok_run}/logs").json()["lines"]
    assert every
    for text in INJECTIONS:
        for name in ("pipeline", "asset", "partition", "trigger"):
            response = client.get("/api/v1/runs", params={name: text})
            assert response.status_code == 200, (name, text)
            assert response.json()["runs"] == []
        logs = client.get(f"/api/v1/runs/{seeded.ok_run}/logs", params={"q": text})
        expected = [line["id"] for line in every if text.lower() in line["message"].lower()]
        assert logs.status_code == 200
        assert [line["id"] for line in logs.json()["lines"]] == expected, text
        selection = client.post("/api/v1/runs", json={"selection": text})
        assert selection.status_code == 400 and _shape(selection)["field"] == "selection"
    assert get_run(seeded.store, seeded.ok_run).status.value == "succeeded"  # nothing dropped


def test_huge_and_malformed_values_are_400(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    for params in (
        {"limit": 10**30},
        {"limit": -1},
        {"created_after": "1e309"},
        {"created_after": "nan"},
        {"status": "exploded"},
        {"pipeline": "x" * 60_000},
        {"cursor": "!!!"},
        {"cursor": "WzEsICJcdTAwMDAiXQ"},  # [1, "\u0000"]
        {"partition": "a\x00b"},
    ):
        response = client.get("/api/v1/runs", params=params)
        assert 400 <= response.status_code < 500, (params, response.status_code)
        _shape(response)


def test_invalid_utf8_and_odd_paths_never_500(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    for path in (
        "/api/v1/runs/%ff%fe",
        "/api/v1/runs/%00",
        "/api/v1/assets/%ff",
        "/api/v1/assets/" + "a" * 10_000,
        "/api/v1/runs?pipeline=%ff%fe",
        "/api/v1/runs/" + seeded.ok_run + "/logs?q=%ff",
        "/api/v1/nothing/here",
    ):
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if response.status_code >= 400:
            _shape(response)


def test_ten_megabyte_body_is_413(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    big = b'{"selection": "*", "config": {"x": "' + b"a" * (10 * 1024 * 1024) + b'"}}'
    response = client.post(
        "/api/v1/runs", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert _shape(response)["code"] == "payload_too_large"

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"a" * (512 * 1024)

    chunked = client.post(
        "/api/v1/runs", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413


def test_wrong_method_and_content_type_are_4xx(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    assert client.get(f"/api/v1/runs/{seeded.ok_run}/cancel").status_code == 405  # no GET writes
    assert client.put("/api/v1/runs").status_code == 405
    form = client.post("/api/v1/runs", data={"selection": "*"})
    assert 400 <= form.status_code < 500
    _shape(form)


def test_template_strings_are_stored_and_returned_literally(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    body = {"selection": "*", "tags": {"t": "${jndi:x}"}, "config": {"q": "{0.__class__}"}}
    run = client.post("/api/v1/runs", json=body).json()["run"]
    assert run["tags"] == {"t": "${jndi:x}"} and run["config"] == {"q": "{0.__class__}"}
    refused = client.post("/api/v1/runs", json={"selection": "*", "partition": "{{7*7}}"})
    assert "'{{7*7}}'" in refused.json()["error"]["message"]  # named as sent, not rendered
    node = client.get("/api/v1/assets/clean_orders").json()["node"]
    assert "{{ 7*7 }}" in node["description"]


def test_a_store_outage_tells_callers_without_a_login_nothing_of_the_database(store, caplog):
    """The health probe and a token that cannot be checked answer 503 without the database's
    URL, host or driver error (they would tell anyone where the database is and who Legato
    connects as); the server's log says why."""
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine

    app = create_app(store)
    working = store.engine
    store.engine = create_engine("postgresql+psycopg://legato:pw@127.0.0.1:1/legato_prod")
    try:
        client = TestClient(app, base_url="http://legato.example", client=("203.0.113.9", 1))
        with caplog.at_level("WARNING", logger="legato.web"):
            answers = [
                client.get("/api/v1/health"),
                client.get("/api/v1/runs", headers={"Authorization": "Bearer lgt_1a2b3c_secret"}),
            ]
    finally:
        store.engine.dispose()
        store.engine = working
    for answer in answers:
        assert answer.status_code == 503, answer.text
        error = _shape(answer)
        assert error["code"] == "unavailable" and "server's log" in error["hint"], error
        for detail in ("127.0.0.1", "legato_prod", "postgresql", "Connection refused"):
            assert detail not in answer.text, (detail, answer.text)
    assert "legato_prod" in caplog.text and "store unavailable" in caplog.text
