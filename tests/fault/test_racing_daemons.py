"""Three daemons on one PostgreSQL store, killed and restarted at random: every schedule tick
gets exactly one run — none doubled, none missing (RELIABILITY F-01, F-09)."""

import itertools
import os
import random
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from legato.store.engine import Store
from legato.store.schema import runs
from legato.store.schema_automation import ticks

PROJECT = """
    from datetime import timedelta
    import legato as lg

    @lg.task
    def job() -> None:
        return None

    for i in range(20):
        globals()[f"every{i}"] = lg.Pipeline(
            f"every{i}", select="job",
            triggers=[lg.Every(1, catch_up=lg.CatchUp.all(within=timedelta(minutes=5)))])
"""


def _daemon(cwd, env, log):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "legato",
            "daemon",
            "--no-launch",
            "--lease",
            "2",
            "--interval",
            "0.1",
        ],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_racing_daemons_with_kills_create_exactly_one_run_per_tick(tmp_path, postgres_url):
    import psycopg

    schema = f"legato_race_{secrets.token_hex(4)}"
    plain = postgres_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\n')
    (tmp_path / "pipes.py").write_text(textwrap.dedent(PROJECT))
    env = {**os.environ, "LEGATO_DATABASE_URL": url}
    log = open(tmp_path / "daemons.log", "w")  # noqa: SIM115
    rng = random.Random(7)
    store = Store(url)
    daemons = [_daemon(tmp_path, env, log) for _ in range(3)]
    try:
        deadline = time.monotonic() + 20
        kills = 0
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(1.5, 3.0))  # let them work between kills (not a state wait)
            victim = rng.randrange(len(daemons))
            os.killpg(daemons[victim].pid, signal.SIGKILL)
            daemons[victim].wait(10)
            daemons[victim] = _daemon(tmp_path, env, log)
            kills += 1
        time.sleep(4)  # a last lease period for the survivors to catch up on every trigger
    finally:
        for proc in daemons:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in daemons:
            proc.wait(30)
        log.close()
    assert kills >= 5
    with store.read() as conn:
        rows = conn.execute(
            select(ticks.c.trigger_id, ticks.c.tick_key, ticks.c.run_id).where(
                ticks.c.status == "requested"
            )
        ).all()
        run_keys = conn.execute(select(runs.c.idempotency_key)).scalars().all()
    by_trigger = defaultdict(list)
    for row in rows:
        by_trigger[row.trigger_id].append(datetime.fromisoformat(row.tick_key))
    assert len(by_trigger) == 20
    for trigger, times in by_trigger.items():
        times.sort()
        gaps = [(a, b) for a, b in itertools.pairwise(times) if (b - a).total_seconds() != 1]
        assert not gaps, f"{trigger} missed ticks: {gaps[:3]}"
        assert len(times) >= 15, f"{trigger} ticked only {len(times)} times"
    assert len(run_keys) == len(set(run_keys)) == len(rows)  # one run per tick, none doubled
    store.dispose()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
