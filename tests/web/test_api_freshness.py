"""Freshness over the API: each policy's state now (assessed by the server from the store, with
or without a daemon), each pipeline's SLA, and the violations the daemon recorded."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from web_helpers import local_client

import legato as lg
from legato.store.engine import Store
from legato.store.run_requests import NewRun, run_record
from legato.store.runs import create_run
from legato.testing import VirtualDaemon
from legato.web.app import create_app


def test_freshness_shows_the_state_now_each_sla_and_the_recorded_violations(store: Store):
    @lg.asset(freshness=lg.Freshness(max_lag="1h"))
    def stale() -> int:
        return 1

    @lg.asset(freshness=lg.Freshness(max_lag="1h"))
    def fresh() -> int:
        return 1

    @lg.asset
    def plain() -> int:
        return 1

    nightly = lg.Pipeline("nightly", select="fresh", sla="45m")
    start = datetime.now(UTC) - timedelta(hours=3)
    daemon = VirtualDaemon([nightly], steps=[stale, fresh, plain], start=start, store=store)
    daemon.record_materialization("stale")
    daemon.advance(to=datetime.now(UTC))
    daemon.record_materialization("fresh")
    daemon.advance(seconds=3)  # the daemon's next look: fresh recovered (never materialized)
    an_hour_ago = run_record(NewRun(selection="fresh", pipeline="nightly"), now=time.time() - 3600)
    create_run(store, an_hour_ago)
    client = local_client(create_app(store))

    body = client.get("/api/v1/freshness").json()
    states = {a["asset"]: a for a in body["assets"]}
    assert set(states) == {"stale", "fresh"}  # plain has no policy
    assert states["stale"]["status"] == "late" and states["fresh"]["status"] == "fresh"
    assert states["stale"]["policy"]["max_lag_seconds"] == 3600
    assert states["stale"]["subjects"][0]["late_since"] == (start + timedelta(hours=1)).timestamp()
    [sla] = body["pipelines"]
    assert (sla["pipeline"], sla["status"], sla["sla_seconds"]) == ("nightly", "missed", 2700)
    recorded = {v["subject"]: v for v in body["violations"]}
    assert recorded["stale"]["resolved_at"] is None and recorded["fresh"]["resolved_at"]
    assert "never materialized" in recorded["fresh"]["detail"]["reason"]

    one = client.get("/api/v1/freshness", params={"asset": "fresh"}).json()
    assert [a["asset"] for a in one["assets"]] == ["fresh"]
    assert [v["subject"] for v in one["violations"]] == ["fresh"]
    bad = client.get("/api/v1/freshness", params={"limit": 0})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "limit"


def test_alerts_list_open_and_resolved_ones_with_their_messages(store: Store):
    from legato.store.alerts import Incident, raise_alert

    with store.transaction() as conn:
        for subject in ("pipeline:a", "pipeline:b"):
            incident = Incident("run_failed", subject, f"{subject} failed", {"run_id": "r"})
            raise_alert(conn, incident, ["ops"], now=time.time())
    client = local_client(create_app(store))
    body = client.get("/api/v1/alerts").json()
    assert [a["subject"] for a in body["alerts"]] == ["pipeline:b", "pipeline:a"]
    [message] = body["alerts"][0]["deliveries"]
    assert (message["channel"], message["event"], message["status"]) == ("ops", "firing", "pending")
    assert client.get("/api/v1/alerts", params={"status": "resolved"}).json()["alerts"] == []
    paged = client.get("/api/v1/alerts", params={"limit": 1}).json()
    assert paged["next_before_id"] == body["alerts"][0]["alert_id"]
    bad = client.get("/api/v1/alerts", params={"status": "closed"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"
