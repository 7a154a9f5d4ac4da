"""Option checks shared by commands."""

from __future__ import annotations

import click

from legato import plugins
from legato.errors import ConfigError


def installed_executor(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--executor``: the name of an installed executor (a built-in or a plugin's)."""
    if value is not None:
        try:
            plugins.check(plugins.EXECUTORS, value, source="")  # click names the option
        except ConfigError as exc:
            raise click.BadParameter(f"{exc.message}; {exc.hint}", ctx, param) from None
    return value
