"""A user's journey: the shop's revenue report has a 06:00 freshness deadline and was never
materialized; with alerts configured, a ``legato daemon`` on default settings posts the miss to
a webhook and mails it, and once ``legato run`` materializes the report, says it is resolved."""

from __future__ import annotations

import shutil
from pathlib import Path

from journey import Journey, wait_until

import alert_receivers
from alert_receivers import SmtpReceiver, WebhookReceiver
from legato.store.alerts import deliveries_of, list_alerts

smtp = alert_receivers.smtp  # the fixtures
webhook = alert_receivers.webhook

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def test_a_freshness_miss_reaches_a_webhook_and_a_mailbox_then_its_recovery(
    journey: Journey, webhook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    shutil.copytree(SHOP, journey.dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".legato"))
    with open(journey.dir / "legato.toml", "a") as toml:
        toml.write(
            f"""
[alerts.channels.ops]
type = "webhook"
url = "{webhook.url}/ops"

[alerts.channels.oncall]
type = "email"
host = "127.0.0.1"
port = {smtp.port}
from = "legato@example.com"
to = "oncall@example.com"
user = "legato"
password = {{secret = "SMTP_PASSWORD"}}

[[alerts.rules]]
on = "freshness_missed"
group = "sales"
channels = ["ops", "oncall"]
"""
        )
    journey.start("daemon", env={"SMTP_PASSWORD": smtp.password or ""})

    [fired] = wait_until(lambda: webhook.bodies("/ops"), what="the webhook's alert")
    assert (fired["kind"], fired["event"], fired["subject"]) == (
        "freshness_missed",
        "firing",
        "revenue_by_region",
    )
    assert "never materialized" in fired["summary"]
    wait_until(lambda: smtp.mails, what="the alert's mail")
    assert "FIRING freshness_missed" in smtp.mails[0]["Subject"]

    journey.ok("run", "+revenue_by_region", "--executor", "inprocess")
    wait_until(lambda: len(webhook.bodies("/ops")) == 2, what="the resolved message")
    assert webhook.bodies("/ops")[1]["event"] == "resolved"
    wait_until(lambda: len(smtp.mails) == 2, what="the resolved mail")
    assert "freshness_missed" in journey.ok("alerts").stdout
    [alert] = list_alerts(journey.store())
    assert alert.status == "resolved"
    sent = deliveries_of(journey.store(), [alert.alert_id])[alert.alert_id]
    assert sorted((d.channel, d.event, d.status) for d in sent) == [
        (c, e, "sent") for c in ("oncall", "ops") for e in ("firing", "resolved")
    ]
