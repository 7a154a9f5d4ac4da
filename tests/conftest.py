"""Shared fixtures: a store on SQLite and on the machine's PostgreSQL (required when CI=true), and
a PostgreSQL server of a test's own for tests that stop the database."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import pg_schemas
from legato.store.engine import Store

# Property tests explore new examples on developers' machines (and keep the failures they find in
# .hypothesis/); under CI they replay the same examples every run, so a red CI is a change's
# doing, never the luck of a draw.
if os.environ.get("CI") == "true":
    settings.register_profile("ci", derandomize=True, database=None)
    settings.load_profile("ci")

POSTGRES_URL = os.environ.get(
    "LEGATO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not reachable" here
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required under CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return POSTGRES_URL


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema (on the search path), dropped afterwards."""
    yield from pg_schemas.fresh_schema(postgres_url)


@pytest.fixture(scope="module")
def module_pg_schema_url(postgres_url: str) -> Iterator[str]:
    """The same, shared by the tests of a module (a server they all talk to)."""
    yield from pg_schemas.fresh_schema(postgres_url)


@pytest.fixture(scope="session")
def _reusable_pg_schemas(postgres_url: str) -> Iterator[None]:
    yield
    pg_schemas.drop_reusable(postgres_url)


@pytest.fixture
def pg_store(postgres_url: str, _reusable_pg_schemas: None) -> Iterator[Store]:
    """A store on PostgreSQL, empty, in a schema of its own for the test (one an earlier test
    of this process used, emptied, when there is one: see pg_schemas.py)."""
    schema = pg_schemas.StoreSchema(postgres_url)
    try:
        store = Store(schema.url)
        schema.opened()
    except BaseException:
        schema.release()
        raise
    try:
        yield store
    finally:
        store.dispose()
        schema.release()


@pytest.fixture
def sqlite_store(tmp_path: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path}/legato.db")  # type: ignore[str-bytes-safe]
    yield store
    store.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Store:
    """Every store test runs on both backends."""
    name = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def redis_client() -> Iterator[Any]:
    """A client of the machine's Redis (required when CI=true)."""
    yield from _redis()


@pytest.fixture(scope="module")
def module_redis_client() -> Iterator[Any]:
    """The same, shared by the tests of a module."""
    yield from _redis()


def _redis() -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(os.environ.get("LEGATO_TEST_REDIS_URL", "redis://127.0.0.1:6379"))
    try:
        client.ping()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")
    yield client
    client.close()


@pytest.fixture
def postgres_cluster(tmp_path: Any) -> Iterator[Any]:
    """A PostgreSQL server of this test's own (``pg_cluster.Cluster``), free to stop and start;
    stopped and deleted afterwards. Required when CI=true; skipped without initdb otherwise."""
    import shutil

    import pg_cluster

    if pg_cluster.find_bindir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("initdb and pg_ctl are required under CI (install postgresql)")
        pytest.skip("initdb not found: install postgresql to run this test")
    with pg_cluster.cluster() as made:
        try:
            yield made
        finally:
            if made.log.exists():  # kept beside the test's files for a post-mortem
                shutil.copy(made.log, tmp_path / "postgres.log")


# Tests that start real processes (daemons, workers, brokers, servers) get more time than unit
# tests: under coverage and xdist on two cores they take several times longer than alone. Still
# bounded, so a hang fails its test instead of the run.
_PROCESS_TESTS = ("journeys", "e2e", "fault", "scaleout", "messages")


_CPU_LOG = os.environ.get("LEGATO_TEST_CPU_LOG")  # where to append each test's CPU seconds


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """With LEGATO_TEST_CPU_LOG, append ``nodeid<TAB>cpu seconds<TAB>start<TAB>end<TAB>worker``
    per test: the CPU of the test process and of the processes it started and waited for (what
    makes the suite slow on two cores, where wall time hides it), and when it ran where (to see
    the gaps a schedule leaves)."""
    if not _CPU_LOG:
        return (yield)
    import cli_forks

    def cpu() -> float:  # commands forked for the test are reaped by their fork server
        return sum(os.times()[:4]) + cli_forks.children_cpu()

    before, started = cpu(), time.time()
    try:
        return (yield)
    finally:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "-")
        with open(_CPU_LOG, "a") as log:
            log.write(
                f"{item.nodeid}\t{cpu() - before:.2f}\t{started:.2f}\t{time.time():.2f}\t{worker}\n"
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item (``item.rep_call``), for fixtures that add a
    post-mortem to a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is not None:
            continue
        if any(part in _PROCESS_TESTS for part in item.path.parts):
            item.add_marker(pytest.mark.timeout(600))
    items[:] = _scheduled(items, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1))


_WAITING = 25.0  # seconds: a test this long mostly waits (a lease, an outage, a backlog)


def _scheduled(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """The order in which scripts/test hands tests out, one at a time as xdist workers free up
    (--maxschedchunk 1), planned by playing that hand-out with each test's expected duration.

    The longest tests mostly wait (a 30 s lease to expire, a database outage, a backlog to
    drain), using a fifth of a core: they go one at a time, the next as the previous one is
    expected to end, so that the other workers keep the cores busy meanwhile (all of them at
    once at the start left the machine idle for a minute and a half). The rest go longest first,
    so that short tests fill the gaps at the end instead of one long test ending the run alone.
    A test's weight is its duration in a recorded whole-suite run (tests/durations.json,
    scripts/record-durations), else a guess from what it starts.
    """
    by_length = sorted(items, key=_expected_seconds, reverse=True)
    waiting = [i for i in by_length if _expected_seconds(i) >= _WAITING]
    rest = [i for i in by_length if _expected_seconds(i) < _WAITING]
    if workers < 2:
        return by_length
    free_at = [0.0] * workers
    waiting_until = 0.0
    order: list[pytest.Item] = []
    while waiting or rest:
        worker = min(range(workers), key=free_at.__getitem__)
        now = free_at[worker]
        if waiting and (now >= waiting_until or not rest):
            item = waiting.pop(0)
            waiting_until = now + _expected_seconds(item)
        else:
            item = rest.pop(0)
        free_at[worker] = now + _expected_seconds(item)
        order.append(item)
    return _kept_together(order)


def _kept_together(order: list[pytest.Item]) -> list[pytest.Item]:
    """``order`` with the tests of each module marked ``together`` moved up to its first one.

    Such a module shares costly module-scoped fixtures (a Dask cluster, remote workers, a
    ``legato up``). pytest tears those down whenever a worker's next test comes from another
    module, so interleaved with the rest they were started again for nearly every test (the
    executor conformance tests: 22 times for 40 tests); side by side, each worker that takes
    some of them starts them once."""
    first: dict[Path, int] = {}
    for index, item in enumerate(order):
        if item.get_closest_marker("together") is not None:
            first.setdefault(item.path, index)
    position = {id(item): (first.get(item.path, index), index) for index, item in enumerate(order)}
    return sorted(order, key=lambda item: position[id(item)])


_LONG_FILES = ("test_browser.py", "test_snippets.py", "test_cli_web.py")  # browsers, CLIs
_DURATIONS = Path(__file__).with_name("durations.json")
_RECORDED: dict[str, float] = json.loads(_DURATIONS.read_text()) if _DURATIONS.exists() else {}


def _expected_seconds(item: pytest.Item) -> float:
    recorded = _RECORDED.get(item.nodeid)
    if recorded is not None:
        return recorded
    starts_processes = any(part in _PROCESS_TESTS for part in item.path.parts)
    starts_processes = starts_processes or item.path.name in _LONG_FILES
    slow = item.get_closest_marker("slow") is not None
    return 10.0 if starts_processes and slow else 3.0 if starts_processes else 0.1
