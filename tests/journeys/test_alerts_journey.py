"""A user's journey through the shop example's alerts: its revenue report has a 06:00 freshness
deadline and was never materialized. With the example's local receivers running
(``examples/shop/receivers.py``) and the alert lines of its ``legato.toml`` uncommented, a
``legato daemon`` on default settings posts the miss to the webhook receiver and mails it to the
SMTP server; once ``legato run`` materializes the report, both are told it is resolved. And an
alert whose webhook refused it is sent by the next daemon after the first is killed."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from journey import Journey, free_port, wait_until

import alert_receivers
from alert_receivers import WebhookReceiver
from legato.store.alerts import Delivery, deliveries_of, list_alerts

webhook = alert_receivers.webhook  # the fixture

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
UNCOMMENT = r"/^# \[alerts.channels.ops\]/,$ s/^# \?//"  # the sed of docs/alerts.md


class Receivers:
    """``python receivers.py`` of the example, on free ports; what it prints goes to a file."""

    def __init__(self, directory: Path) -> None:
        self.webhook_port, self.smtp_port = free_port(), free_port()
        self.log_path = directory / "receivers.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        ports = ["--webhook-port", str(self.webhook_port), "--smtp-port", str(self.smtp_port)]
        self.popen = subprocess.Popen(
            [sys.executable, str(directory / "receivers.py"), *ports],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )

    def lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def said(self, pattern: str) -> list[str]:
        return [line for line in self.lines() if re.match(pattern, line)]

    def line_after(self, pattern: str) -> str | None:
        lines = self.lines()
        found = [i for i, line in enumerate(lines) if re.match(pattern, line)]
        return lines[found[0] + 1] if found and found[0] + 1 < len(lines) else None

    def close(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
        self.log.close()


@pytest.fixture
def shop(journey: Journey) -> Iterator[Receivers]:
    """The shop example in the journey's directory, its alert lines uncommented, pointing at its
    receivers, which are started on free ports."""
    shutil.copytree(SHOP, journey.dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".legato"))
    receivers = Receivers(journey.dir)
    try:
        toml = journey.dir / "legato.toml"
        commented = toml.read_text()
        assert f"sed -i '{UNCOMMENT}' legato.toml" in (ROOT / "docs" / "alerts.md").read_text()
        subprocess.run(["sed", "-i", UNCOMMENT, str(toml)], check=True)  # as docs/alerts.md does
        text = toml.read_text()
        assert "\n[alerts.channels.ops]\n" in text and text != commented
        text = text.replace(":8765/", f":{receivers.webhook_port}/")
        toml.write_text(text.replace("port = 8025", f"port = {receivers.smtp_port}"))
        wait_until(lambda: receivers.said("webhook receiver on "), what="the receivers")
        yield receivers
    finally:
        receivers.close()


def test_the_shop_s_freshness_miss_reaches_its_local_webhook_and_mailbox_then_its_recovery(
    journey: Journey, shop: Receivers
) -> None:
    journey.start("daemon")

    firing = r"webhook /ops: firing freshness_missed revenue_by_region$"
    wait_until(lambda: shop.said(firing), what="the webhook's alert")
    summary = wait_until(lambda: shop.line_after(firing), what="the alert's summary")
    assert "never materialized" in summary, shop.lines()
    mailed = r"mail to oncall@shop\.example: .*FIRING freshness_missed"
    wait_until(lambda: shop.said(mailed), what="the alert's mail")

    journey.ok("run", "+revenue_by_region", "--executor", "inprocess")
    resolved = r"webhook /ops: resolved freshness_missed revenue_by_region$"
    wait_until(lambda: shop.said(resolved), what="the resolved message")
    wait_until(lambda: shop.said(r"mail to oncall@shop\.example: .*RESOLVED"), what="its mail")
    assert "freshness_missed" in journey.ok("alerts").stdout
    [alert] = list_alerts(journey.store())
    assert alert.status == "resolved"
    sent = deliveries_of(journey.store(), [alert.alert_id])[alert.alert_id]
    assert sorted((d.channel, d.event, d.status) for d in sent) == [
        (c, e, "sent") for c in ("oncall", "ops") for e in ("firing", "resolved")
    ]
    assert len(shop.said(r"webhook /ops: ")) == 2  # one alert, told once and resolved once


LATE = """
    import legato as lg

    @lg.asset(freshness=lg.Freshness(max_lag="1h"))
    def revenue() -> int:
        return 1
"""


def test_an_alert_the_webhook_refused_is_sent_by_the_next_daemon_after_a_kill_9(
    journey: Journey, webhook: WebhookReceiver
) -> None:
    channel = f"""
        [alerts.channels.ops]
        type = "webhook"
        url = "{webhook.url}/ops"

        [[alerts.rules]]
        on = "freshness_missed"
        channels = "ops"
    """
    journey.write({"pipes.py": LATE}, config=channel)
    webhook.fail(1_000_000)  # the receiver answers 500 until told otherwise
    first = journey.daemon()

    def refused() -> Delivery | None:
        alerts = list_alerts(journey.store())
        found = deliveries_of(journey.store(), [a.alert_id for a in alerts])
        tried = [d for ds in found.values() for d in ds if d.attempts >= 1]
        return tried[0] if tried and tried[0].status == "pending" else None

    assert "HTTP 500" in (wait_until(refused, what="a refused first attempt").last_error or "")
    first.signal(signal.SIGKILL)  # a crash: nothing is flushed, nothing is handed over
    wait_until(lambda: not first.alive(), what="the daemon to die")
    assert webhook.bodies() == []
    webhook.fail(0)

    journey.daemon()
    [fired] = wait_until(lambda: webhook.bodies("/ops"), what="the alert, from the next daemon")
    assert (fired["kind"], fired["subject"], fired["event"]) == (
        "freshness_missed",
        "revenue",
        "firing",
    )
    [alert] = list_alerts(journey.store())

    def delivered() -> Delivery | None:
        [delivery] = deliveries_of(journey.store(), [alert.alert_id])[alert.alert_id]
        return delivery if delivery.status == "sent" else None

    assert wait_until(delivered, what="the delivery recorded sent").attempts >= 2
    assert len(webhook.bodies("/ops")) == 1
