"""``legato alerts test CHANNEL`` sends a test message (to a real local receiver), or says why
not; ``legato alerts`` lists alerts with their messages."""

from __future__ import annotations

from click.testing import CliRunner

import alert_receivers
from alert_receivers import WebhookReceiver
from legato.cli.main import cli
from legato.store.alerts import Incident, raise_alert
from legato.store.engine import Store

webhook = alert_receivers.webhook  # the fixture


def test_alerts_test_sends_to_the_channel_and_alerts_lists_them(project, webhook: WebhookReceiver):
    project.write(
        "legato.toml",
        f"""
        modules = []

        [alerts.channels.ops]
        type = "webhook"
        url = "{webhook.url}/ops"

        [alerts.channels.down]
        type = "slack"
        url = "http://127.0.0.1:9/nobody-listens"
        """,
    )
    runner = CliRunner()
    args = ["--project", str(project.root), "alerts"]
    sent = runner.invoke(cli, [*args, "test", "ops"])
    assert sent.exit_code == 0, sent.output
    [body] = webhook.bodies("/ops")
    assert body["kind"] == "test" and "a test message from Legato" in body["text"]

    refused = runner.invoke(cli, [*args, "test", "down"])
    assert refused.exit_code == 1 and "channel 'down' (slack): ConnectError" in refused.output
    assert "nobody-listens" not in refused.output  # a URL may be a credential
    unknown = runner.invoke(cli, [*args, "test", "opz"])
    assert unknown.exit_code == 2 and "no channel 'opz'" in unknown.output
    assert "channels are: down, ops" in unknown.output

    assert "no alerts" in runner.invoke(cli, args).output
    store = Store(f"sqlite:///{project.root}/.legato/legato.db")
    with store.transaction() as conn:
        raise_alert(
            conn, Incident("run_failed", "pipeline:p", "Run r of 'p' failed", {}), ["ops"], now=1.0
        )
    store.dispose()
    listed = runner.invoke(cli, args)
    assert "run_failed" in listed.output and "Run r of 'p' failed" in listed.output
    assert "ops firing pending" in listed.output
