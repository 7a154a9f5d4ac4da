"""``[alerts]`` in legato.toml: channels and rules load, and each mistake is refused naming the
file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.definitions.resources import SecretRef
from legato.errors import ConfigError
from legato.integrations.alerts.smtp import EmailChannel
from legato.loader.config import load_settings

GOOD = """
[alerts.channels.ops]
type = "webhook"
url = "https://hooks.example.com/legato"
headers = { Authorization = { secret = "OPS_TOKEN" } }

[alerts.channels.oncall]
type = "email"
host = "smtp.example.com"
from = "legato@example.com"
to = "oncall@example.com"
starttls = true
user = "legato"
password = { secret = "SMTP_PASSWORD" }

[[alerts.rules]]
on = ["run_failed", "freshness_missed"]
pipeline = "nightly"
tag = "team=finance"
channels = ["ops", "oncall"]
"""


def _load(tmp_path: Path, text: str):
    (tmp_path / "legato.toml").write_text(text)
    return load_settings(tmp_path, env={})


def test_channels_and_rules_load_with_secrets_by_reference(tmp_path: Path):
    alerts = _load(tmp_path, GOOD).alerts
    ops, oncall = alerts.channels["ops"], alerts.channels["oncall"]
    assert ops.options["headers"]["Authorization"] == SecretRef("OPS_TOKEN")
    assert oncall.options["password"] == SecretRef("SMTP_PASSWORD")
    mail = EmailChannel(oncall)  # what the email plugin makes of its fields
    assert mail.port == 587 and mail.to == ["oncall@example.com"]
    attributes = {"pipeline": {"nightly"}, "tag": {"team=finance"}}
    assert alerts.channels_for("run_failed", attributes) == ["ops", "oncall"]
    assert alerts.channels_for("sla_missed", attributes) == []
    assert alerts.channels_for("run_failed", {"pipeline": {"hourly"}}) == []


@pytest.mark.parametrize(
    ("change", "key", "fix"),
    [
        (
            ('channels = ["ops", "oncall"]', 'channels = ["opz"]'),
            "alerts.rules[0].channels",
            "'ops'",
        ),
        (
            ('type = "webhook"', 'type = "pager"'),
            "alerts.channels.ops.type",
            "alert channel 'pager' is not one of the installed alert channels (email, slack,",
        ),
        (('host = "smtp.example.com"\n', ""), "alerts.channels.oncall.host", "needs host"),
        (('{ secret = "SMTP_PASSWORD" }', '"hunter2hunter2"'), "oncall.password", "secret ="),
        (('"freshness_missed"]', '"check_faild"]'), "alerts.rules[0].on", "check_failed"),
        (('url = "https://', 'url = "ftp://'), "alerts.channels.ops.url", "https://"),
        (("starttls = true", "startls = true"), "alerts.channels.oncall.startls", "'starttls'"),
    ],
)
def test_each_mistake_names_the_file_the_key_and_the_fix(tmp_path: Path, change, key, fix):
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, GOOD.replace(*change))
    message = str(refused.value)
    assert str(tmp_path / "legato.toml") in message and key in message and fix in message


def test_daemon_down_takes_no_filters(tmp_path: Path):
    text = GOOD.replace('on = ["run_failed", "freshness_missed"]', 'on = "daemon_down"')
    with pytest.raises(ConfigError, match="put daemon_down in a rule without filters"):
        _load(tmp_path, text)
