"""Trigger descriptions are typed: what a trigger describes is what the daemon and the web server
read back, an older description still reads, and a broken one is an error that says so."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

import legato as lg
from legato.definitions.schedule_specs import schedule_from_spec, schedule_of
from legato.definitions.trigger_specs import (
    CronSpec,
    EverySpec,
    FileArrivalSpec,
    MessageSpec,
    OnUpdateSpec,
    SensorSpec,
    WebhookSpec,
    parse_trigger_spec,
    poll_interval,
)
from legato.errors import DefinitionError


@lg.sensor(interval=7)
def looks_around(context: object) -> None:
    return None


TRIGGERS = [
    (lg.Cron("30 2 * * *", timezone="Europe/Paris", on_gap="skip"), CronSpec),
    (lg.Every(timedelta(minutes=5)), EverySpec),
    (looks_around, SensorSpec),
    (lg.OnUpdate(require="any", interval=2), OnUpdateSpec),
    (lg.FileArrival("landing", "{tenant}/{batch}/*.csv", expected=["a.csv"]), FileArrivalSpec),
    (lg.Webhook(secret_env="HOOK_SECRET", partition_field="day"), WebhookSpec),
    (lg.OnMessage(lg.NatsSource("orders")), MessageSpec),
]


@pytest.mark.parametrize(("trigger", "kind"), TRIGGERS, ids=lambda v: getattr(v, "__name__", ""))
def test_every_trigger_kind_reads_back_as_its_typed_spec(trigger: object, kind: type) -> None:
    described = trigger.describe()  # type: ignore[attr-defined]
    stored = msgspec.json.decode(msgspec.json.encode(described))  # as the store gives it back
    spec = parse_trigger_spec(stored)
    assert type(spec) is kind
    assert msgspec.to_builtins(spec) == stored  # nothing lost, nothing added


def test_the_fields_each_reader_uses_come_typed() -> None:
    sensor = parse_trigger_spec(looks_around.describe())
    on_update = parse_trigger_spec(lg.OnUpdate(interval=2).describe())
    webhook = parse_trigger_spec(lg.Webhook(secret_env="S").describe())
    assert poll_interval(sensor) == 7.0 and poll_interval(on_update) == 2.0
    assert poll_interval(webhook) == 30.0  # not polled
    assert isinstance(webhook, WebhookSpec) and webhook.tolerance == 300.0


def test_a_description_recorded_by_an_older_legato_reads_with_defaults() -> None:
    spec = parse_trigger_spec(
        {"kind": "file_arrival", "path": "landing", "pattern": "{t}/*.csv", "gone": 1}
    )
    assert spec == FileArrivalSpec(path="landing", pattern="{t}/*.csv")
    assert spec.stable_for == 0.0 and spec.follow_links is False and spec.expected == []


@pytest.mark.parametrize(
    ("described", "named"),
    [
        ({"kind": "carrier_pigeon"}, "carrier_pigeon"),
        ({"kind": "cron"}, "cron"),  # no expression
        ({"kind": "webhook", "secret_env": 3}, "webhook"),
        ({"expr": "* * * * *"}, "trigger"),  # no kind at all
    ],
)
def test_a_broken_description_is_an_error_naming_the_trigger(described: dict, named: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_trigger_spec(described, where="trigger 'p#0' in the store")
    assert "trigger 'p#0' in the store" in str(raised.value)
    assert raised.value.obj == named and "legato check" in (raised.value.hint or "")


def test_a_schedule_is_rebuilt_from_its_spec_with_its_policies() -> None:
    cron = lg.Cron(
        "0 3 * * *", timezone="America/New_York", catch_up=lg.CatchUp.all(within=timedelta(days=1))
    )
    spec = parse_trigger_spec(cron.describe())
    assert isinstance(spec, CronSpec)
    rebuilt = schedule_from_spec(spec)
    assert rebuilt.expr == cron.expr and rebuilt.timezone == cron.timezone
    assert rebuilt.catch_up == cron.catch_up
    assert schedule_of(spec) is schedule_of(spec)  # parsed once per distinct spec
