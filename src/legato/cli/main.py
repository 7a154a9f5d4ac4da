"""The ``legato`` command: root group, shared options, and errors turned into messages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from legato._internal.masking import mask_process_output
from legato.errors import LegatoError

# Each command's module is imported only when that command runs, so `legato run` does not pay
# for the web server's or the daemon's imports.
COMMANDS = {
    "init": "legato.cli.project:init",
    "check": "legato.cli.project:check",
    "run": "legato.cli.run:run",
    "rerun": "legato.cli.run:rerun",
    "cancel": "legato.cli.run:cancel",
    "runs": "legato.cli.inspect:runs",
    "logs": "legato.cli.inspect:logs",
    "assets": "legato.cli.inspect:assets",
    "checks": "legato.cli.checks:checks",
    "freshness": "legato.cli.freshness:freshness",
    "alerts": "legato.cli.alerts:alerts",
    "partitions": "legato.cli.partitions:partitions",
    "backfill": "legato.cli.backfill:backfill",
    "backfills": "legato.cli.backfill:backfills",
    "daemon": "legato.cli.daemon:daemon",
    "automation": "legato.cli.daemon:automation",
    "up": "legato.cli.web:up",
    "users": "legato.cli.users:users",
    "worker": "legato.cli.worker:worker",
    "db": "legato.cli.db:db",
    "store": "legato.cli.store:store",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        import importlib

        module, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LegatoError as exc:
            from legato.cli._console import print_error

            print_error(exc)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project directory (default: the nearest one with legato.toml "
    "or [tool.legato] in pyproject.toml).",
)
@click.version_option(package_name="legato")
@click.pass_context
def cli(ctx: click.Context, project_dir: Path | None) -> None:
    """Legato: one orchestrator for data assets, tasks, partitions and triggers."""
    ctx.ensure_object(dict)["project_dir"] = project_dir


def main(argv: list[str] | None = None) -> None:
    """``legato ARGV`` (default: the command line) in this process, which is the command's."""
    mask_process_output()  # the daemon, the web server and workers run inside this process
    # The process is the command's own, so a command may tune the interpreter for what it does
    # (a test's CliRunner or a program embedding the CLI passes no such object).
    cli(args=argv, prog_name="legato", obj={"own_process": True})
