"""``durability``: the default commits a run's state changes once per wave of steps; "strict"
commits every state change on its own, and SQLite fsyncs each commit (``synchronous=FULL``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, text

import legato as lg
from legato.errors import StoreError
from legato.store.engine import Store

WIDTH = 20


def root() -> list[int]:
    return list(range(WIDTH))


def middle(root: int) -> int:
    return root + 1


def join(middle: list[int]) -> int:
    return sum(middle)


def _fan_out() -> list[lg.StepDef]:
    return [lg.task(root), lg.task(map_over="root")(middle), lg.task(join)]


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/legato.db"
    return request.getfixturevalue("pg_schema_url")  # type: ignore[no-any-return]


@pytest.fixture
def stores(url: str) -> Iterator[dict[str, Store]]:
    made = {d: Store(url, durability=d) for d in ("normal", "strict")}
    yield made
    for store in made.values():
        store.dispose()


def _commits_of_a_run(store: Store, storage: Path) -> tuple[int, int, object]:
    """(commits, events recorded, the join's value) of one in-process run."""
    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(store.engine, "commit", count)
    try:
        result = lg.materialize(_fan_out(), executor="inprocess", store=store, storage=storage)
    finally:
        event.remove(store.engine, "commit", count)
    assert result.success, result.failures()
    return commits, len(result.events), result.output("join")


def test_strict_durability_commits_every_state_change_on_its_own(stores, tmp_path):
    normal, normal_events, normal_value = _commits_of_a_run(stores["normal"], tmp_path / "n")
    strict, strict_events, strict_value = _commits_of_a_run(stores["strict"], tmp_path / "s")
    assert normal_value == strict_value == WIDTH * (WIDTH + 1) // 2
    assert normal_events == strict_events >= 2 * (WIDTH + 2)  # started + succeeded per step
    assert strict >= strict_events  # one commit per event at least
    assert normal < normal_events / 2  # waves: many events per commit


def test_strict_durability_makes_sqlite_fsync_every_commit(tmp_path):
    for durability, level in (("normal", 1), ("strict", 2)):  # PRAGMA synchronous: NORMAL, FULL
        store = Store(f"sqlite:///{tmp_path}/{durability}.db", durability=durability)
        try:
            with store.read() as conn:
                assert conn.execute(text("PRAGMA synchronous")).scalar() == level
        finally:
            store.dispose()


def test_an_unknown_durability_names_the_value_and_the_choices(tmp_path):
    with pytest.raises(StoreError, match="durability 'paranoid' is not one of normal, strict"):
        Store(f"sqlite:///{tmp_path}/legato.db", durability="paranoid")
