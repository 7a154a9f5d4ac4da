"""Alerts on the daemon's virtual clock, delivered to real receivers (an HTTP server and an SMTP
server): raised by the rules of legato.toml, one per subject while open, resolved once, retried
with back-off, held to each channel's rate limit, and never lost to a daemon that stops."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import alert_receivers
import legato as lg
from alert_receivers import SmtpReceiver, WebhookReceiver
from legato.loader.alerts import AlertSettings, parse_alerts
from legato.store.alerts import deliveries_of, list_alerts
from legato.store.engine import Store
from legato.store.violations import list_violations
from legato.testing import VirtualDaemon

START = datetime(2025, 3, 1, tzinfo=UTC)

smtp = alert_receivers.smtp  # the fixture
webhook = alert_receivers.webhook  # the fixture


def _settings(
    webhook: WebhookReceiver, rules: list[dict[str, Any]], **channels: Any
) -> AlertSettings:
    table = {
        "channels": {
            "ops": {"type": "webhook", "url": f"{webhook.url}/ops", "headers": {"X-Team": "data"}},
            "chat": {"type": "slack", "url": f"{webhook.url}/slack"},
            **channels,
        },
        "rules": rules,
    }
    return parse_alerts(table, "legato.toml")


def _revenue():
    @lg.asset(group="sales", freshness=lg.Freshness(max_lag="2h"))
    def revenue() -> int:
        return 1

    return revenue


def test_a_freshness_miss_alerts_each_channel_once_and_its_recovery_resolves_it(
    store: Store, webhook: WebhookReceiver, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SMTP_PASSWORD", smtp.password or "")
    mail = {
        "type": "email",
        "host": "127.0.0.1",
        "port": smtp.port,
        "from": "legato@example.com",
        "to": ["oncall@example.com"],
        "user": "legato",
        "password": {"secret": "SMTP_PASSWORD"},
    }
    rules = [{"on": "freshness_missed", "group": "sales", "channels": ["ops", "chat", "mail"]}]
    daemon = VirtualDaemon(
        [],
        steps=[_revenue()],
        start=START,
        store=store,
        alerts=_settings(webhook, rules, mail=mail),
    )
    daemon.record_materialization("revenue")
    daemon.advance(hours=5)  # late from 02:00; the daemon looks many times meanwhile

    [alert] = list_alerts(store)
    assert (alert.kind, alert.subject, alert.status) == ("freshness_missed", "revenue", "open")
    [fired] = webhook.bodies("/ops")
    assert fired["event"] == "firing" and fired["subject"] == "revenue"
    assert "is late since 2025-03-01T02:00:00+00:00" in fired["summary"]
    assert webhook.posts[0].headers["X-Team"] == "data"
    [chat] = webhook.bodies("/slack")
    assert set(chat) == {"text"} and chat["text"].startswith("[Legato] FIRING freshness_missed")
    [email] = smtp.mails
    assert email["To"] == "oncall@example.com" and "FIRING" in email["Subject"]
    assert smtp.logins == ["legato"]

    daemon.record_materialization("revenue")
    daemon.advance(minutes=5)
    [alert] = list_alerts(store)
    assert alert.status == "resolved"
    assert [b["event"] for b in webhook.bodies("/ops")] == ["firing", "resolved"]
    assert len(smtp.mails) == 2 and "RESOLVED" in smtp.mails[1]["Subject"]
    sent = deliveries_of(store, [alert.alert_id])[alert.alert_id]
    assert {(d.channel, d.event, d.status) for d in sent} == {
        (c, e, "sent") for c in ("ops", "chat", "mail") for e in ("firing", "resolved")
    }


def test_a_failed_run_alerts_the_rules_that_match_and_a_later_success_resolves_it(
    store: Store, webhook: WebhookReceiver
):
    fail = {"now": True}

    @lg.asset(tags={"team": "finance"})
    def ledger() -> int:
        if fail["now"]:
            raise RuntimeError("the ledger API said 503")
        return 1

    nightly = lg.Pipeline("nightly", select="ledger")
    rules = [
        {"on": "run_failed", "pipeline": "night*", "tag": "team=finance", "channels": "ops"},
        {"on": "run_failed", "asset": "other", "channels": "chat"},  # matches nothing here
    ]
    daemon = VirtualDaemon(
        [nightly], steps=[ledger], start=START, store=store, alerts=_settings(webhook, rules)
    )
    first = nightly.run(steps=[ledger], store=store, raise_on_error=False)
    nightly.run(steps=[ledger], store=store, raise_on_error=False)  # failing again: same alert
    daemon.advance(minutes=1)
    [alert] = list_alerts(store)
    assert alert.subject == "pipeline:nightly" and alert.occurrences == 2
    [fired] = webhook.bodies("/ops")
    assert f"Run {first.run_id} of pipeline 'nightly' failed: ledger: " in fired["summary"]
    assert "RuntimeError" in fired["summary"] or "503" in fired["summary"]
    assert webhook.bodies("/slack") == []

    fail["now"] = False
    nightly.run(steps=[ledger], store=store)
    daemon.advance(minutes=1)
    assert list_alerts(store)[0].status == "resolved"
    assert [b["event"] for b in webhook.bodies("/ops")] == ["firing", "resolved"]


def test_a_failing_channel_is_retried_with_back_off_until_it_takes_the_message(
    store: Store, webhook: WebhookReceiver
):
    rules = [{"on": "freshness_missed", "channels": "ops"}]
    daemon = VirtualDaemon(
        [], steps=[_revenue()], start=START, store=store, alerts=_settings(webhook, rules)
    )
    webhook.fail(3)
    daemon.advance(seconds=1)  # never materialized: late at once; the first attempt fails
    [alert] = list_alerts(store)
    [delivery] = deliveries_of(store, [alert.alert_id])[alert.alert_id]
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "HTTP 500" in (delivery.last_error or "")
    tried = delivery.next_attempt_at - START.timestamp()
    assert 2.0 <= tried <= 4.0  # the first retry comes 2 s after the first attempt
    daemon.advance(seconds=30)  # retries at +2 s, +4 s: the third retry goes through
    [delivery] = deliveries_of(store, [alert.alert_id])[alert.alert_id]
    assert (delivery.status, delivery.attempts) == ("sent", 4)
    assert len(webhook.bodies("/ops")) == 1


def test_a_channel_sends_at_most_its_rate_per_minute_and_the_rest_later(
    store: Store, webhook: WebhookReceiver
):
    @lg.asset(freshness=lg.Freshness(max_lag="1h"))
    def one() -> int:
        return 1

    @lg.asset(freshness=lg.Freshness(max_lag="1h"))
    def two() -> int:
        return 1

    table = {
        "channels": {"ops": {"type": "webhook", "url": webhook.url, "max_per_minute": 1}},
        "rules": [{"on": "freshness_missed", "channels": "ops"}],
    }
    daemon = VirtualDaemon(
        [], steps=[one, two], start=START, store=store, alerts=parse_alerts(table, "legato.toml")
    )
    daemon.advance(seconds=30)
    assert len(list_alerts(store)) == 2 and len(webhook.bodies()) == 1  # the second waits
    daemon.advance(seconds=40)
    assert sorted(b["subject"] for b in webhook.bodies()) == ["one", "two"]


def test_alerts_raised_while_no_daemon_ran_are_sent_by_the_next_one(
    store: Store, webhook: WebhookReceiver
):
    @lg.asset
    def flaky() -> int:
        raise RuntimeError("boom")

    pipeline = lg.Pipeline("flaky", select="flaky")
    pipeline.run(steps=[flaky], store=store, raise_on_error=False)  # no daemon running
    rules = [{"on": "run_failed", "channels": "ops"}]
    daemon = VirtualDaemon(
        [pipeline], steps=[flaky], start=START, store=store, alerts=_settings(webhook, rules)
    )
    daemon.advance(seconds=1)
    assert [b["kind"] for b in webhook.bodies()] == ["run_failed"]


def test_a_daemon_found_dead_is_one_notice(store: Store, webhook: WebhookReceiver):
    from legato.store.automation import heartbeat
    from legato.store.schema_automation import daemons

    heartbeat(store, "gone-host:4242:abc", "gone-host", 4242)
    with store.transaction() as conn:
        conn.execute(daemons.update().values(heartbeat_at=0.0))
    rules = [{"on": "daemon_down", "channels": "ops"}]
    daemon = VirtualDaemon([], steps=[], start=START, store=store, alerts=_settings(webhook, rules))
    daemon.advance(seconds=5)
    [alert] = list_alerts(store)
    assert alert.kind == "daemon_down" and alert.status == "resolved"  # a notice, not a state
    [notice] = webhook.bodies()
    assert "gone-host:4242:abc" in notice["summary"] and "(recovered since)" in notice["text"]


def test_a_failed_check_alerts_once_and_resolves_when_the_check_passes_again(
    store: Store, webhook: WebhookReceiver
):
    bad = {"now": True}

    @lg.asset(group="sales")
    def orders() -> list[dict]:
        return [{"id": None if bad["now"] else 1}]

    @lg.check(asset="orders", blocking=True, description="ids are set")
    def ids_set(orders: list[dict]) -> bool:
        return all(o["id"] is not None for o in orders)

    rules = [{"on": "check_failed", "group": "sales", "channels": "ops"}]
    daemon = VirtualDaemon(
        [], steps=[orders, ids_set], start=START, store=store, alerts=_settings(webhook, rules)
    )
    run = lg.materialize([orders, ids_set], store=store, raise_on_error=False)
    lg.materialize([orders, ids_set], store=store, raise_on_error=False)  # fails again: one alert
    daemon.advance(minutes=1)
    [alert] = list_alerts(store)
    assert (alert.kind, alert.subject, alert.occurrences) == (
        "check_failed",
        "check:orders:orders:check:ids_set",
        2,
    )
    [fired] = webhook.bodies("/ops")
    assert f"failed in run {run.run_id}: ids are set; it is blocking" in fired["summary"]

    bad["now"] = False
    lg.materialize([orders, ids_set], store=store)
    daemon.advance(minutes=1)
    assert list_alerts(store)[0].status == "resolved"
    assert [b["event"] for b in webhook.bodies("/ops")] == ["firing", "resolved"]


def test_a_trigger_that_errors_alerts_once_and_resolves_when_it_evaluates_again(
    store: Store, webhook: WebhookReceiver
):
    failures = {"left": 3}

    @lg.sensor(interval=60)
    def new_files(context):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError(f"the landing bucket refused the listing ({failures['left']})")
        return []

    @lg.asset
    def files() -> int:
        return 1

    ingest = lg.Pipeline("ingest", select="files", triggers=[new_files], tags={"team": "data"})
    rules = [
        {"on": "trigger_erroring", "tag": "team=data", "channels": "ops"},  # the pipeline's tag
        {"on": "trigger_erroring", "pipeline": "other", "channels": "chat"},  # matches nothing
    ]
    daemon = VirtualDaemon(
        [ingest], steps=[files], start=START, store=store, alerts=_settings(webhook, rules)
    )
    daemon.advance(minutes=2, seconds=30)  # fails at 00:00, 00:01 and 00:02: one alert
    [alert] = list_alerts(store)
    assert (alert.kind, alert.subject, alert.status) == (
        "trigger_erroring",
        "ingest#0:sensor",
        "open",
    )
    assert alert.occurrences == 3
    [fired] = webhook.bodies("/ops")
    assert fired["event"] == "firing" and fired["kind"] == "trigger_erroring"
    assert "of pipeline 'ingest' failed" in fired["summary"]
    assert "the landing bucket refused the listing" in fired["summary"]
    assert webhook.bodies("/slack") == []

    daemon.advance(minutes=1)  # evaluates without failing at 00:03
    [alert] = list_alerts(store)
    assert alert.status == "resolved"
    assert [b["event"] for b in webhook.bodies("/ops")] == ["firing", "resolved"]


def test_a_missed_sla_alerts_once_and_a_successful_run_resolves_it(
    store: Store, webhook: WebhookReceiver
):
    @lg.asset(group="finance")
    def ledger() -> int:
        return 1

    nightly = lg.Pipeline("nightly", select="ledger", sla="45m", triggers=[lg.Cron("0 2 * * *")])
    rules = [
        {"on": "sla_missed", "group": "finance", "channels": "ops"},  # the pipeline's assets
        {"on": "sla_missed", "pipeline": "other", "channels": "chat"},  # matches nothing
    ]
    daemon = VirtualDaemon(
        [nightly], steps=[ledger], start=START, store=store, alerts=_settings(webhook, rules)
    )
    [late] = daemon.advance(hours=2, minutes=44)  # queued at 02:00, never run on this clock
    assert list_alerts(store) == []
    daemon.advance(hours=1)  # missed at 02:45; the daemon looks many times meanwhile
    [alert] = list_alerts(store)
    assert (alert.kind, alert.subject, alert.status) == ("sla_missed", "nightly", "open")
    [fired] = webhook.bodies("/ops")
    assert fired["event"] == "firing" and fired["kind"] == "sla_missed"
    assert (
        f"Pipeline 'nightly' missed its SLA at 2025-03-01T02:45:00+00:00: run {late.run_id}"
        in fired["summary"]
    )
    assert webhook.bodies("/slack") == []

    nightly.run(steps=[ledger], store=store)  # a run of it succeeds
    daemon.advance(minutes=1)
    [alert] = list_alerts(store)
    assert alert.status == "resolved"
    assert [b["event"] for b in webhook.bodies("/ops")] == ["firing", "resolved"]


def test_a_rule_filtered_by_asset_alerts_only_for_the_assets_it_names(
    store: Store, webhook: WebhookReceiver
):
    @lg.asset(freshness=lg.Freshness(max_lag="2h"))
    def revenue_daily() -> int:
        return 1

    @lg.asset(freshness=lg.Freshness(max_lag="2h"))
    def refunds() -> int:
        return 1

    rules = [
        {"on": "freshness_missed", "asset": "revenue_*", "channels": "ops"},
        {"on": "freshness_missed", "asset": "refunds", "tag": "team=finance", "channels": "chat"},
    ]
    daemon = VirtualDaemon(
        [],
        steps=[revenue_daily, refunds],
        start=START,
        store=store,
        alerts=_settings(webhook, rules),
    )
    daemon.advance(hours=1)  # neither was ever materialized: both are late
    assert sorted(v.subject for v in list_violations(store)) == ["refunds", "revenue_daily"]
    # an alert only where a rule matches: refunds has no tag team=finance
    assert [a.subject for a in list_alerts(store)] == ["revenue_daily"]
    assert [b["subject"] for b in webhook.bodies("/ops")] == ["revenue_daily"]
    assert webhook.bodies("/slack") == []
