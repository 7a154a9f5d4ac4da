"""A process pool kept between runs (a daemon's run worker, a backfill): the next run of the same
project reuses the idle workers instead of starting Python and loading the project again; another
project, or a run that killed its workers, gets fresh ones; closing stops them."""

import os
from pathlib import Path

import legato as lg
from legato.definitions.project import Project
from legato.events.status import RunStatus
from legato.execution.api import launch_run
from legato.execution.executors.process_pool import ProcessPoolExecutor
from legato.graph.build import build_graph
from legato.store.engine import Store


def _project(ledger: Path, *, other: bool = False) -> Project:
    @lg.task
    def where() -> None:
        with open(ledger, "a") as f:
            f.write(f"{os.getpid()}\n")

    @lg.task
    def another() -> None:
        return None

    return Project.of([where, another] if other else [where])


def _run(project: Project, store: Store, tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    result = launch_run(
        project,
        build_graph(project),
        "*",
        store=store,
        storage_root=tmp_path / "storage",
        executor=pool,
    )
    assert result.status is RunStatus.SUCCEEDED


def _pids(ledger: Path) -> list[int]:
    return [int(line) for line in ledger.read_text().split()]


def test_a_kept_pool_reuses_its_workers_for_the_same_project_only(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    ledger = tmp_path / "pids"
    pool = ProcessPoolExecutor(1, keep_workers=True)
    try:
        project = _project(ledger)
        _run(project, store, tmp_path, pool)
        _run(project, store, tmp_path, pool)
        first, second = _pids(ledger)
        assert first == second != os.getpid()  # one worker, started once

        _run(_project(ledger, other=True), store, tmp_path, pool)
        assert _pids(ledger)[-1] != first  # another project: a fresh worker
    finally:
        pool.shutdown(kill=True)
    assert not pool._pool
    store.dispose()


def test_a_pool_not_kept_starts_workers_for_each_run(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    ledger = tmp_path / "pids"
    pool = ProcessPoolExecutor(1)
    project = _project(ledger)
    _run(project, store, tmp_path, pool)
    _run(project, store, tmp_path, pool)
    first, second = _pids(ledger)
    assert first != second
    store.dispose()


def test_a_chain_starts_one_worker_not_one_per_core(tmp_path):
    ledger = tmp_path / "pids"

    @lg.task
    def first() -> int:
        with open(ledger, "a") as f:
            f.write(f"{os.getpid()}\n")
        return 1

    @lg.task
    def second(first: int) -> int:
        with open(ledger, "a") as f:
            f.write(f"{os.getpid()}\n")
        return first

    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    pool = ProcessPoolExecutor(4, keep_workers=True)
    try:
        _run(Project.of([first, second]), store, tmp_path, pool)
        assert len(set(_pids(ledger))) == 1  # the chain's steps ran one after the other
        assert len(pool._pool) == 1  # so one worker was started, not one per core
    finally:
        pool.shutdown(kill=True)
