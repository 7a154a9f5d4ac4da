"""``legato store prune``: what --dry-run says it would delete is what a prune deletes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from legato.events.status import RunStatus
from legato.store.engine import Store
from legato.store.runs import NewStep, RunRecord, create_run, list_runs

DAY = 86400.0
PIPES = """
import legato as lg

@lg.task
def job() -> None:
    return None

archive = lg.Pipeline("archive", select="job", retention=lg.Retention())
"""


@pytest.fixture(params=["sqlite", "postgres"])
def pruned(request: pytest.FixtureRequest, project: Any) -> Iterator[tuple[Any, str]]:
    """A project keeping 30 days of runs (its archive pipeline: every run), and its store's URL,
    with an ad hoc run 40 days old, an archive run 90 days old and a run of yesterday."""
    project.write("legato.toml", 'modules = ["pipes"]\n\n[retention]\ndays = 30\n')
    project.write("pipes.py", PIPES)
    url = (
        f"sqlite:///{project.root}/.legato/legato.db"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    store = Store(url)
    now = time.time()
    for run_id, days, pipeline in [
        ("adhoc", 40, None),
        ("archived", 90, "archive"),
        ("new", 1, None),
    ]:
        record = RunRecord(run_id, "job", RunStatus.SUCCEEDED, now - days * DAY, pipeline=pipeline)
        create_run(store, record, [NewStep("job", "job", "task")])
    store.dispose()
    yield project, url


def _runs(url: str) -> set[str]:
    store = Store(url)
    try:
        return {r.run_id for r in list_runs(store)}
    finally:
        store.dispose()


def test_prune_dry_run_counts_what_prune_then_deletes(pruned):
    project, url = pruned
    dry = project.legato("store", "prune", "--dry-run", LEGATO_DATABASE_URL=url)
    assert dry.returncode == 0, dry.stderr
    assert "would delete 1 run(s)" in dry.stdout and "steps" in dry.stdout
    assert _runs(url) == {"adhoc", "archived", "new"}
    real = project.legato("store", "prune", LEGATO_DATABASE_URL=url)
    assert real.returncode == 0, real.stderr
    assert "deleted 1 run(s)" in real.stdout
    assert dry.stdout.replace("would delete", "deleted") == real.stdout
    assert _runs(url) == {"archived", "new"}
