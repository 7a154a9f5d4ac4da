"""``legato init`` scaffolds a project; ``legato check`` reports every definition error, with the
contracts that disagree with other projects sharing its store (and, asked, the contract changes
since another version)."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import click
from rich.markup import escape

from legato.cli._console import console, print_error
from legato.cli._project import settings_of
from legato.cli.contracts import baseline, print_changes, shared_store_check, write_snapshot
from legato.definitions.pipeline import CONFIG_FROM_PIPELINE
from legato.errors import ConfigError, LegatoError
from legato.graph.build import build_graph_with_errors
from legato.graph.contract_diff import compare_contracts
from legato.graph.contracts import contracts_snapshot
from legato.graph.run_config import (
    check_run_config,
    check_triggered_config,
    selection_config_schema,
)
from legato.graph.select import select
from legato.loader.modules import load_project

_ASSETS = '''"""Assets and tasks of {name}: edit freely."""

import legato as lg


@lg.asset(group="sales", retries=lg.Retry(3, delay=1.0, backoff=2.0), timeout=60)
def raw_orders() -> list[dict]:
    """Orders as they arrive (replace with a query or an API call)."""
    return [{{"id": i, "amount": (i * 37) % 100 - 20}} for i in range(100)]


@lg.asset(group="sales")
def clean_orders(raw_orders: list[dict]) -> list[dict]:
    """Orders with a positive amount."""
    return [o for o in raw_orders if o["amount"] > 0]


@lg.task
def report(clean_orders: list[dict]) -> str:
    total = sum(o["amount"] for o in clean_orders)
    print(f"{{len(clean_orders)}} orders, total {{total}}")
    return f"total={{total}}"


nightly = lg.Pipeline("nightly", select="group:sales+", tags={{"team": "sales"}})
'''

_TEST = """import legato as lg

from {name}.assets import clean_orders, raw_orders, report


def test_clean_orders_drops_non_positive_amounts():
    result = lg.materialize([raw_orders, clean_orders, report])
    assert result.success
    assert all(o["amount"] > 0 for o in result.output("clean_orders"))
"""

_PYPROJECT = """[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["legato"]

[tool.legato]
modules = ["{name}.assets"]
# database_url = "postgresql://localhost/legato"   # default: SQLite under .legato/
# executor = "process"                               # inprocess | threads | process

[tool.pytest.ini_options]
pythonpath = ["."]
"""


@click.command()
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to create it (default: ./NAME).",
)
def init(name: str, directory: Path | None) -> None:
    """Create a new project NAME with example assets, a pipeline and a test."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,63}", name):
        raise ConfigError(
            f"project name {name!r} is not a Python package name",
            obj=name,
            hint="use lowercase letters, digits and '_' (e.g. 'sales_data')",
        )
    target = directory or Path(name)
    if target.exists() and any(target.iterdir()):
        raise ConfigError(
            f"{target} already exists and is not empty",
            obj=str(target),
            hint="choose another name or --directory",
        )
    files = {
        target / "pyproject.toml": _PYPROJECT.format(name=name),
        target / name / "__init__.py": "",
        target / name / "assets.py": _ASSETS.format(name=name),
        target / "tests" / f"test_{name}.py": _TEST.format(name=name),
        target / ".gitignore": ".legato/\n__pycache__/\n",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    console.print(
        f"created project [bold]{escape(name)}[/] in {escape(str(target))}\n"
        f"  cd {escape(str(target))} && legato check && legato run --pipeline nightly"
    )


@click.command()
@click.option(
    "--snapshot-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the project's contracts (what each asset and task returns and expects) "
    "to this JSON file.",
)
@click.option(
    "--against",
    metavar="REF|FILE",
    default=None,
    help="Also list the contract changes since this git ref (or a file written by "
    "--snapshot-out), breaking ones first; exit 1 if any is breaking.",
)
@click.pass_context
def check(ctx: click.Context, snapshot_out: Path | None, against: str | None) -> None:
    """Load the project and report every definition error with file:line and the fix."""
    settings = settings_of(ctx)
    loaded = load_project(settings)
    errors: list[LegatoError] = list(loaded.errors)
    graph, found = build_graph_with_errors(loaded.project)
    errors += found
    if not errors:
        for pipe in loaded.project.pipelines.values():
            try:
                schema = selection_config_schema(graph, select(graph, pipe.selection))
                triggered = [t.describe().get("kind") for t in pipe.triggers]
                alone = next((k for k in triggered if k in CONFIG_FROM_PIPELINE), None)
                if alone is not None:  # its runs get the pipeline's config and nothing else
                    check_triggered_config(schema, pipe.config, pipe.name, alone)
                elif pipe.config:  # defaults, which each request (API, webhook, message) completes
                    check_run_config(schema, pipe.config, complete=False)
            except LegatoError as exc:
                exc.message = f"pipeline {pipe.name!r} ({pipe.source}): {exc.message}"
                exc.source = exc.source or pipe.source
                errors.append(exc)
    shared = shared_store_check(settings, contracts_snapshot(graph))
    errors += shared.errors if shared is not None else []
    if errors:
        for error in errors:
            print_error(error)
        console.print(f"[bold red]{len(errors)} error(s)[/] in {escape(settings.source)}")
        sys.exit(1)
    p = loaded.project
    kinds = Counter(s.kind for s in p.steps)
    checks = f"{kinds['check']} check(s), " if kinds["check"] else ""
    external = sum(s.external is not None for s in p.steps)
    assets = f"{kinds['asset']} asset(s)" + (f" ({external} external)" if external else "")
    console.print(
        f"[green]ok[/]: {assets}, {kinds['task']} task(s), {checks}"
        f"{len(p.pipelines)} pipeline(s), {len(p.resources)} resource(s) "
        f"from {escape(settings.source)}"
    )
    if shared is not None and shared.projects:
        names = ", ".join(repr(name) for name in shared.projects)
        console.print(
            f"[green]ok[/]: contracts compared with project(s) {escape(names)} in the store"
        )
    if snapshot_out is not None or against is not None:
        contracts = contracts_snapshot(graph, settings.root)
        if snapshot_out is not None:
            write_snapshot(snapshot_out, contracts)
        if against is not None:
            old, name = baseline(against, settings.root)
            changes = compare_contracts(old, contracts)
            print_changes(changes, name)
            if any(c.breaking for c in changes):
                sys.exit(1)
