"""``[alerts]`` of ``legato.toml``: channels (where alerts go) and rules (which facts go where).

    [alerts.channels.oncall]
    type = "email"                     # webhook | slack | email | a plugin's (legato.alert_channels)
    host = "smtp.example.com"
    from = "legato@example.com"
    to = ["oncall@example.com"]
    starttls = true
    user = "legato"
    password = {secret = "SMTP_PASSWORD"}

    [[alerts.rules]]
    on = ["run_failed", "freshness_missed"]
    pipeline = "nightly"               # filters: pipeline, asset, group, tag (globs; any matches)
    channels = ["oncall"]

A channel's ``type`` names the plugin that sends it; the plugin checks the channel's other
fields here, when the config loads. A value written ``{secret = "NAME"}`` is a ``SecretRef``:
resolved where the alert is sent, never stored. Every mistake is a ``ConfigError`` naming the
file, the key and the fix.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from legato import plugins
from legato.definitions.channels import DEFAULT_PER_MINUTE, Channel, make_channel
from legato.errors import ConfigError
from legato.events.alerts import KINDS
from legato.loader.secret_fields import with_secret_refs

__all__ = ["AlertSettings", "Channel", "Rule", "parse_alerts"]
_TYPES = '"webhook" (JSON POST), "slack" (incoming webhook), "email" (SMTP) or a plugin\'s name'
FILTERS = ("pipeline", "asset", "group", "tag")
_RULE_KEYS = {"on", "channels", "name", *FILTERS}


@dataclass(frozen=True)
class Rule:
    """Facts of the kinds ``on`` whose attributes match every filter go to ``channels``."""

    index: int
    on: tuple[str, ...]
    channels: tuple[str, ...]
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    name: str | None = None

    def matches(self, kind: str, attributes: Mapping[str, Iterable[str]]) -> bool:
        """Whether a fact of ``kind`` with ``attributes`` (pipeline, asset, group and tag
        values, each a set) is one of this rule's: each filter matches one of its values."""
        if kind not in self.on:
            return False
        for name, patterns in self.filters.items():
            values = list(attributes.get(name, ()))
            if not any(fnmatch.fnmatchcase(v, p) for v in values for p in patterns):
                return False
        return True


@dataclass(frozen=True)
class AlertSettings:
    channels: Mapping[str, Channel] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    source: str = "defaults"

    def channels_for(self, kind: str, attributes: Mapping[str, Iterable[str]]) -> list[str]:
        """The channels of every rule that matches, each once, in rule order."""
        found: dict[str, None] = {}
        for rule in self.rules:
            if rule.matches(kind, attributes):
                found.update(dict.fromkeys(rule.channels))
        return list(found)


def parse_alerts(table: Any, source: str) -> AlertSettings:
    """The ``[alerts]`` table of ``source``, checked."""
    if not table:
        return AlertSettings(source=source)
    _table(table, "alerts", source, "write [alerts.channels.NAME] and [[alerts.rules]] tables")
    _unknown(table, {"channels", "rules"}, "alerts", source)
    channels_table = table.get("channels", {})
    _table(channels_table, "alerts.channels", source, "write [alerts.channels.NAME] tables")
    channels = {name: _channel(name, values, source) for name, values in channels_table.items()}
    rules = table.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise _error(source, "alerts.rules", "must be a list of tables", "write [[alerts.rules]]")
    return AlertSettings(
        channels, tuple(_rule(i, r, channels, source) for i, r in enumerate(rules)), source
    )


def _channel(name: str, values: Any, source: str) -> Channel:
    key = f"alerts.channels.{name}"
    _table(values, key, source, f"write [{key}] with type = {_TYPES}")
    kind = values.get("type")
    if not isinstance(kind, str) or not kind:
        problem = f"is {kind!r}" if kind is not None else "is missing"
        raise _error(source, f"{key}.type", problem, f"set type = {_TYPES}")
    plugins.check(plugins.ALERT_CHANNELS, kind, source=f"{source}: {key}.type")
    common = Channel.common
    channel = Channel(
        name,
        kind,
        {
            k: with_secret_refs(v, f"{key}.{k}", source)
            for k, v in values.items()
            if k not in common
        },
        timeout=_number(values.get("timeout", 10.0), f"{key}.timeout", source, "timeout = 10"),
        max_per_minute=int(
            _number(
                values.get("max_per_minute", DEFAULT_PER_MINUTE),
                f"{key}.max_per_minute",
                source,
                "max_per_minute = 30",
                whole=True,
            )
        ),
        source=source,
    )
    make_channel(channel)  # the plugin checks the fields now: a mistake shows at `legato check`
    return channel


def _rule(index: int, values: dict[str, Any], channels: Mapping[str, Channel], source: str) -> Rule:
    key = f"alerts.rules[{index}]"
    _unknown(values, _RULE_KEYS, key, source)
    on = _strings(values.get("on"), f"{key}.on", source, 'on = ["run_failed"]')
    for kind in on:
        if kind not in KINDS:
            raise _error(source, f"{key}.on", f"names {kind!r}", f"use one of {', '.join(KINDS)}")
    names = _strings(values.get("channels"), f"{key}.channels", source, 'channels = ["oncall"]')
    for name in names:
        if name not in channels:
            close = difflib.get_close_matches(name, list(channels), n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"define [alerts.channels.{name}]"
            raise _error(
                source,
                f"{key}.channels",
                f"names {name!r}, which is not a channel (channels: {sorted(channels)})",
                fix,
            )
    filters = {
        f: _strings(values[f], f"{key}.{f}", source, f'{f} = ["..."]')
        for f in FILTERS
        if f in values
    }
    if filters and "daemon_down" in on:
        raise _error(
            source,
            key,
            f"filters daemon_down by {', '.join(filters)}, which a daemon has none of",
            "put daemon_down in a rule without filters",
        )
    for tag in filters.get("tag", ()):
        if "=" not in tag:
            raise _error(source, f"{key}.tag", f"{tag!r} is not key=value", 'tag = "team=finance"')
    label = values.get("name")
    return Rule(index, on, names, filters, str(label) if label is not None else None)


def _number(value: Any, key: str, source: str, fix: str, *, whole: bool = False) -> float:
    kinds = (int,) if whole else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or value <= 0:
        raise _error(source, key, f"{value!r} is not a positive number", f"write {fix}")
    return float(value)


def _strings(value: Any, key: str, source: str, fix: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _error(source, key, "must be a name or a list of names", f"write {fix}")
    return tuple(value)


def _table(value: Any, key: str, source: str, fix: str) -> None:
    if not isinstance(value, dict):
        raise _error(source, key, "must be a table", fix)


def _unknown(values: Mapping[str, Any], known: set[str], key: str, source: str) -> None:
    for name in sorted(set(values) - known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        fix = f"did you mean {close[0]!r}?" if close else f"known keys are {sorted(known)}"
        raise _error(source, f"{key}.{name}", "is not a setting", fix)


def _error(source: str, key: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{source}: {key} {problem}", obj=key, source=source, hint=fix)
