"""When the engine itself fails mid-run, the run and its steps are recorded as ended, never left
running, and the caller gets a LegatoError that says what happened."""

from __future__ import annotations

import pytest

import legato as lg
from legato.errors import EngineError
from legato.store.engine import Store
from legato.store.runs import get_steps, list_runs


def test_an_engine_failure_ends_the_run_and_its_steps(tmp_path, monkeypatch):
    @lg.asset
    def first() -> int:
        return 1

    @lg.asset
    def second(first: int) -> int:
        return first + 1

    def broken(conn, events):
        if events:
            raise RuntimeError("the projection broke")

    monkeypatch.setattr("legato.store.event_log._project_materializations", broken)
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    try:
        with pytest.raises(EngineError, match="the projection broke"):
            lg.materialize([first, second], store=store, storage=tmp_path / "storage")
        run = list_runs(store, limit=1)[0]
        assert run.status.value == "failed"
        statuses = {s.step_key: s.status.value for s in get_steps(store, run.run_id)}
        assert statuses == {"first": "failed", "second": "skipped"}, statuses
    finally:
        store.dispose()
