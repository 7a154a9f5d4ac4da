"""Pools: slot limits hold across racing processes (SQLite and PostgreSQL), expired leases give
slots back, and a run on 3 remote workers never has more than the limit running (RELIABILITY I4).
"""

from __future__ import annotations

import collections
import multiprocessing
import threading
import time
from typing import Any

import pytest
import scaleout_steps
from scaleout_support import start_workers

from legato.definitions.project import Project
from legato.definitions.step import StepDef
from legato.errors import ConfigError
from legato.execution.api import launch_run
from legato.graph.build import build_graph
from legato.store import pools
from legato.store.engine import Store


def _race(url: str, worker: int, rounds: int, limit: int, out: Any) -> None:
    store = Store(url)
    taken, worst = 0, 0
    for i in range(rounds):
        holder = f"w{worker}-{i}"
        deadline = time.monotonic() + 30
        while not pools.try_acquire(store, "warehouse", limit, holder):
            if time.monotonic() > deadline:
                raise AssertionError("never got a slot")
        taken += 1
        worst = max(worst, len(pools.holders(store, "warehouse")))
        pools.release(store, "warehouse", holder)
    out.put((taken, worst))
    store.dispose()


@pytest.mark.parametrize("racers", [4])
def test_racing_processes_never_take_more_slots_than_the_pool_has(store, racers):
    url = store.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(url, w, 20, 2, out)) for w in range(racers)]
    samples = []
    for p in procs:
        p.start()
    while any(p.is_alive() for p in procs):
        samples.append(len(pools.holders(store, "warehouse")))
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    assert sum(taken for taken, _ in results) == racers * 20
    assert max(worst for _, worst in results) <= 2 and max(samples) <= 2
    assert pools.holders(store, "warehouse") == []


def test_a_dead_holders_slot_comes_back_when_its_lease_expires(store):
    assert pools.try_acquire(store, "api", 1, "dead", lease=0.3)
    assert not pools.try_acquire(store, "api", 1, "alive")
    deadline = time.monotonic() + 10
    while not pools.try_acquire(store, "api", 1, "alive"):
        assert time.monotonic() < deadline, "the expired slot never came back"
        time.sleep(0.05)
    assert pools.holders(store, "api") == ["alive"]
    assert pools.renew(store, [("api", "alive"), ("api", "dead")]) == {("api", "dead")}


def test_acquiring_twice_keeps_one_slot_and_a_limit_of_zero_admits_nobody(store):
    assert pools.try_acquire(store, "db", 2, "a") and pools.try_acquire(store, "db", 2, "a")
    assert pools.holders(store, "db") == ["a"]
    assert not pools.try_acquire(store, "closed", 0, "a")


def test_bad_pool_names_and_limits_are_refused_with_the_fix(sqlite_store):
    with pytest.raises(ConfigError, match=r"pool name '\.\./etc' is invalid"):
        pools.try_acquire(sqlite_store, "../etc", 1, "a")
    with pytest.raises(ConfigError, match=r"\[tool.legato.pools\]"):
        pools.try_acquire(sqlite_store, "warehouse", -1, "a")


def test_a_pool_limit_holds_under_three_remote_workers(pg_schema, tmp_path_factory, tmp_path):
    from legato.execution.executors.remote import RemoteExecutor

    storage = tmp_path_factory.mktemp("pools") / "storage"
    workers = start_workers(
        pg_schema, storage, "pools", 3, "--concurrency", "2", "--poll-interval", "0.2"
    )
    project = Project.of(v for v in vars(scaleout_steps).values() if isinstance(v, StepDef))
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(len(pools.holders(pg_schema.store, "warehouse")))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        executor = RemoteExecutor(pg_schema.store, "pools")
        result = launch_run(
            project,
            build_graph(project),
            ["many", "pooled"],
            store=pg_schema.store,
            storage_root=storage,
            executor=executor,
            run_config={"dir": str(tmp_path), "ledger_url": pg_schema.plain_url},
            pool_limits={"warehouse": 4},  # the engine's executor is wrapped in a PoolGate
        )
    finally:
        done.set()
        sampler.join()
        for worker in workers:
            worker.stop()
    assert result.success, result.failures()
    assert result.output("pooled") == list(range(200))
    assert max(samples) == 4 and len(samples) > 50  # the limit was reached, never passed
    ledger = collections.Counter(r for r in pg_schema.ledger() if r[0] == result.run_id)
    assert len(ledger) == 200 and set(ledger.values()) == {1}
