"""Automation over the API: triggers with their spec, next fires and latest tick; tick history;
switching a trigger off and on (the daemon's store sees it at once, and it is audited)."""

from __future__ import annotations

from urllib.parse import quote

from web_helpers import Client, local_client
from web_ops_sample import Ops

from legato.store.automation import list_triggers
from legato.web.app import create_app
from legato.web.audit import list_audit

BASE = "/api/v1/automation/triggers"
CRON = "parts_nightly#0:cron"
SENSOR = "tenant_watch#0:sensor"


def _client(ops: Ops) -> Client:
    return local_client(create_app(ops.store))


def _url(trigger: str, action: str) -> str:
    return f"{BASE}/{quote(trigger, safe='')}/{action}"


def test_triggers_show_kind_spec_state_and_latest_tick(ops: Ops):
    body = _client(ops).get(BASE).json()
    by_id = {t["trigger_id"]: t for t in body["triggers"]}
    assert set(by_id) == {
        CRON,
        "regional_half_hourly#0:every",
        SENSOR,
        "regional_chain#0:on_update",
    }
    assert body["unregistered"] == []
    cron = by_id[CRON]
    assert cron["kind"] == "cron" and cron["enabled"] is True
    assert cron["spec"]["expr"] == "0 2 * * *" and cron["spec"]["timezone"] == "Europe/Berlin"
    assert cron["spec"]["on_gap"] == "skip" and cron["spec"]["catch_up"]["mode"] == "latest"
    assert len(cron["next_fires"]) == 3
    assert cron["next_fires"][1] - cron["next_fires"][0] in (82800, 86400, 90000)
    assert cron["next_due"] == 1708477200.0  # 2024-02-21 02:00 in Berlin, on the virtual clock
    assert cron["latest_tick"]["status"] == "requested" and cron["latest_tick"]["run_id"]
    sensor = by_id[SENSOR]
    assert sensor["name"] == "new_tenants" and sensor["next_fires"] == []
    assert sensor["latest_tick"]["status"] == "skipped"
    assert sensor["latest_tick"]["reason"] == "no new tenant"
    assert by_id["regional_chain#0:on_update"]["cursor"] == "5"


def test_filters_by_kind_and_pipeline_are_literal(ops: Ops):
    client = _client(ops)
    only = client.get(BASE, params={"kind": "sensor"}).json()["triggers"]
    assert [t["trigger_id"] for t in only] == [SENSOR]
    piped = client.get(BASE, params={"pipeline": "parts_nightly"}).json()["triggers"]
    assert [t["trigger_id"] for t in piped] == [CRON]
    for text in ("'", "' OR 1=1 --", "%", "x'; DROP TABLE triggers; --"):
        for name in ("kind", "pipeline"):
            response = client.get(BASE, params={name: text})
            assert response.status_code == 200 and response.json()["triggers"] == [], text
    assert client.get(BASE, params={"kind": "x" * 300}).status_code == 400
    assert len(list_triggers(ops.store)) == 4


def test_tick_history_pages_newest_first_with_reasons(ops: Ops):
    client = _client(ops)
    url = _url(SENSOR, "ticks")
    everything = client.get(url).json()
    assert everything["trigger_id"] == SENSOR and len(everything["ticks"]) == 7
    assert {t["reason"] for t in everything["ticks"]} == {"no new tenant"}
    ids = [t["id"] for t in everything["ticks"]]
    assert ids == sorted(ids, reverse=True)
    first = client.get(url, params={"limit": 4}).json()
    rest = client.get(url, params={"limit": 4, "before_id": first["next_before_id"]}).json()
    assert [t["id"] for t in first["ticks"] + rest["ticks"]] == ids
    assert rest["next_before_id"] is None
    requested = client.get(_url(CRON, "ticks"), params={"status": "requested"}).json()["ticks"]
    assert len(requested) == 1 and requested[0]["tick_key"] == "2024-02-20T01:00:00+00:00"
    assert client.get(_url(CRON, "ticks"), params={"status": "skipped"}).json()["ticks"] == []


def test_switching_a_trigger_off_and_on(ops: Ops):
    client = _client(ops)
    off = client.post(_url(CRON, "disable"))
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert off.json()["next_due"] is None and off.json()["next_fires"] == []
    stored = {t.trigger_id: t.enabled for t in list_triggers(ops.store)}
    assert stored[CRON] is False and stored[SENSOR] is True
    assert client.post(_url(CRON, "disable")).status_code == 200  # idempotent
    on = client.post(_url(CRON, "enable"))
    assert on.status_code == 200 and on.json()["enabled"] is True
    assert {t.trigger_id: t.enabled for t in list_triggers(ops.store)}[CRON] is True
    entries = [(e.actor, e.action, e.target) for e in list_audit(ops.store)][:3]
    assert entries == [
        ("local", "trigger.enable", CRON),
        ("local", "trigger.disable", CRON),
        ("local", "trigger.disable", CRON),
    ]


def test_unknown_and_malformed_trigger_ids(ops: Ops):
    client = _client(ops)
    assert client.post(_url("parts_nightly#9:cron", "disable")).status_code == 404
    assert client.get(_url("nobody#0:sensor", "ticks")).status_code == 404
    for bad in ("no-hash", "a#b:cron", "x" * 301, "' OR 1=1 --", "a#0:cr on", "../x#0:cron"):
        response = client.post(_url(bad, "enable"))
        assert response.status_code in (400, 404), (bad, response.status_code)
        assert response.status_code != 404 or response.json()["error"]["code"] == "not_found"
    # '#' sent unencoded starts the URL fragment: the request names no trigger at all
    assert client.post(f"{BASE}/{CRON}/disable").status_code in (404, 405)
    assert all(t.enabled for t in list_triggers(ops.store))
