"""Open the project a command works on: settings, user code, graph and store, with clear errors."""

from __future__ import annotations

import faulthandler
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from legato.definitions.project import Project
from legato.errors import LegatoError
from legato.execution import fork_server
from legato.graph.build import build_graph
from legato.graph.graph import Graph
from legato.graph.snapshot import snapshot
from legato.loader.config import Settings, load_settings
from legato.loader.modules import load_project
from legato.store.engine import Store
from legato.store.snapshots import save_snapshot


@dataclass
class OpenProject:
    settings: Settings
    project: Project
    graph: Graph
    sys_path: tuple[str, ...]

    def store(self) -> Store:
        """The project's store, with the current definitions recorded for the daemon and the UI."""
        store = self.settings.open_store()
        save_snapshot(store, snapshot(self.project, self.graph), self.settings.name)
        return store


def settings_of(ctx: click.Context) -> Settings:
    start: Path | None = (ctx.obj or {}).get("project_dir")
    return load_settings(start)


def open_project(ctx: click.Context) -> OpenProject:
    """Load the project or raise its first error (``legato check`` lists them all)."""
    settings = settings_of(ctx)
    loaded = load_project(settings)
    if loaded.errors:
        first = loaded.errors[0]
        more = len(loaded.errors) - 1
        if more:
            raise LegatoError(
                first.message + f" (and {more} more error(s))",
                obj=first.obj,
                source=first.source,
                hint=(first.hint or "") + "; run 'legato check' to see all",
            )
        raise first
    return OpenProject(settings, loaded.project, build_graph(loaded.project), loaded.sys_path)


def open_store(ctx: click.Context) -> Store:
    """The store alone, for commands that only read history (no user code is imported)."""
    settings = settings_of(ctx)
    return settings.open_store()


def start_fork_server(ctx: click.Context, preload: tuple[str, ...]) -> None:
    """In the command's own process, make the copy its workers will be forked from
    (``fork_server``), importing ``preload`` there once for them all. Called before the command
    starts any thread; a command run in another program's process starts fresh interpreters."""
    if (ctx.obj or {}).get("own_process"):
        fork_server.start(preload=preload)


def dump_stacks_on_request(ctx: click.Context) -> None:
    """In a long-running command's own process: ``kill -USR1 PID`` prints the stack of every
    thread to its stderr (the log), to see where a process that does not stop or answer is."""
    if (ctx.obj or {}).get("own_process") and hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
