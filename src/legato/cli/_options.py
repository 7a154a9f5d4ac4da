"""Option checks shared by commands."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import click

from legato import plugins
from legato._internal.durations import EXAMPLES, parse_duration
from legato.errors import ConfigError


def installed_executor(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--executor``: the name of an installed executor (a built-in or a plugin's)."""
    if value is not None:
        try:
            plugins.check(plugins.EXECUTORS, value, source="")  # click names the option
        except ConfigError as exc:
            raise click.BadParameter(f"{exc.message}; {exc.hint}", ctx, param) from None
    return value


def since(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``--since``: a duration back from now (``2h``, ``1d12h``) or a date and time (``2025-03-01``,
    ``2025-03-01T06:00``, local time unless it names its offset) → epoch seconds."""
    if value is None:
        return None
    try:
        return time.time() - parse_duration(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a duration ({EXAMPLES}) nor a date "
            "(2025-03-01, or 2025-03-01T06:00)",
            ctx,
            param,
        ) from None
    return (moment if moment.tzinfo else moment.astimezone()).timestamp()


def tags(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """``--tag KEY=VALUE`` (repeatable)."""
    for tag in value:
        if "=" not in tag:
            raise click.BadParameter(f"{tag!r} is not KEY=VALUE (e.g. team=finance)", ctx, param)
    return value


def run_config_json(text: str | None) -> dict[str, Any]:
    """``--config JSON``: a run config, a JSON object (``{}`` when not given)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--config is not valid JSON: {exc}", hint="pass a JSON object, e.g. '{\"limit\": 10}'"
        ) from None
    if not isinstance(value, dict):
        raise ConfigError("--config must be a JSON object", hint="wrap values in {...}")
    return value
