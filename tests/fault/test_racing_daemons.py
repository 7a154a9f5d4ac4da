"""Two and three daemons on one PostgreSQL store, with the user's defaults (runs launched, default
lease and interval), each killed with SIGKILL and restarted at random while 50 schedules tick every
second and 500 messages arrive: every tick and every message gets exactly one run, none doubled,
none missing (RELIABILITY F-01, F-09). A killed daemon's run workers are orphaned as in real life;
the test reaps every process started in its project directory."""

import contextlib
import itertools
import json
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
from pathlib import Path

import pytest
from sqlalchemy import select

from legato.store.engine import Store
from legato.store.schema import runs
from legato.store.schema_automation import ticks
from polling import poller

SCHEDULES = 50
MESSAGES = 500
KILL_FOR = 20.0  # seconds of random SIGKILLs

PROJECT = """
    from datetime import timedelta
    import legato as lg

    @lg.task
    def job() -> None:
        return None

    for i in range({schedules}):
        globals()[f"every{{i}}"] = lg.Pipeline(
            f"every{{i}}", select="job",
            triggers=[lg.Every(1, catch_up=lg.CatchUp.all(within=timedelta(minutes=5)))])

    orders = lg.Pipeline("orders", select="job", triggers=[
        lg.OnMessage(lg.RedisStreamSource("{stream}", claim_after=3), batch=50, within=0.1)])
"""

_wait = poller(timeout=180.0, interval=0.5)


def _daemon(cwd, env, log):
    return subprocess.Popen(
        [sys.executable, "-m", "legato", "daemon"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _reap(project):
    """SIGKILL every process still working in ``project`` (orphaned run workers and what they
    started) and wait until they are gone."""

    def left():
        pids = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == project.resolve():
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    for pid in left():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _wait(lambda: not [p for p in left() if not _zombie(p)], what="orphans to die")


def _zombie(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def _requested(store):
    with store.read() as conn:
        return conn.execute(
            select(ticks.c.trigger_id, ticks.c.tick_key).where(ticks.c.status == "requested")
        ).all()


def _message_runs(store):
    with store.read() as conn:
        return conn.execute(
            select(runs.c.idempotency_key, runs.c.config).where(runs.c.pipeline == "orders")
        ).all()


def _caught_up(store, since):
    """Every schedule has a requested tick at or after ``since``."""
    latest = {}
    for row in _requested(store):
        if row.trigger_id.startswith("every"):
            at = datetime.fromisoformat(row.tick_key).timestamp()
            latest[row.trigger_id] = max(at, latest.get(row.trigger_id, 0.0))
    return len(latest) == SCHEDULES and min(latest.values()) >= since


@pytest.mark.slow
@pytest.mark.parametrize("daemons", [3])  # every pair of them races; two alone added nothing
def test_racing_daemons_with_kills_lose_and_double_nothing(
    daemons, tmp_path, postgres_url, redis_client
):
    import psycopg

    schema = f"legato_race_{secrets.token_hex(4)}"
    stream = f"legato-race-{secrets.token_hex(4)}"
    plain = postgres_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\n')
    (tmp_path / "pipes.py").write_text(
        textwrap.dedent(PROJECT.format(schedules=SCHEDULES, stream=stream))
    )
    env = {**os.environ, "LEGATO_DATABASE_URL": url}
    log = open(tmp_path / "daemons.log", "w")  # noqa: SIM115
    rng = random.Random(daemons)
    store = Store(url)
    procs = [_daemon(tmp_path, env, log) for _ in range(daemons)]
    try:
        started = time.monotonic()
        kills = sent = 0
        next_kill = started + rng.uniform(1.5, 3.0)
        while time.monotonic() - started < KILL_FOR:
            if sent < MESSAGES:  # the messages arrive during the kill period
                batch = min(10, MESSAGES - sent)
                for n in range(sent, sent + batch):
                    redis_client.xadd(stream, {"body": json.dumps({"n": n})})
                sent += batch
            if time.monotonic() >= next_kill:
                victim = rng.randrange(daemons)
                procs[victim].kill()  # the daemon alone: its run workers are orphaned
                procs[victim].wait(10)
                procs[victim] = _daemon(tmp_path, env, log)
                kills += 1
                next_kill = time.monotonic() + rng.uniform(1.5, 3.0)
            time.sleep(0.2)  # the pace of the load, not a wait for state
        for n in range(sent, MESSAGES):
            redis_client.xadd(stream, {"body": json.dumps({"n": n})})
        kills_ended = time.time()
        _wait(lambda: _caught_up(store, kills_ended), what="every schedule to catch up")
        _wait(lambda: len(_message_runs(store)) >= MESSAGES, what="a run for every message")
    finally:
        try:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()  # each stops within its drain
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            _reap(tmp_path)
        finally:
            log.close()
            redis_client.delete(stream, f"{stream}:dead_letter")
    assert kills >= 5
    try:
        _check(store)
    finally:
        store.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _check(store):
    schedules = defaultdict(list)
    for row in _requested(store):
        if row.trigger_id.startswith("every"):
            schedules[row.trigger_id].append(datetime.fromisoformat(row.tick_key))
    assert len(schedules) == SCHEDULES
    for trigger, times in schedules.items():
        times.sort()
        gaps = [(a, b) for a, b in itertools.pairwise(times) if (b - a).total_seconds() != 1]
        assert not gaps, f"{trigger} missed or doubled ticks: {gaps[:3]}"
        assert len(times) == len(set(times))
    with store.read() as conn:
        keys = conn.execute(select(runs.c.idempotency_key)).scalars().all()
    ticked = sum(len(v) for v in schedules.values())
    assert len(keys) == len(set(keys)) == ticked + MESSAGES  # one run per tick and per message
    numbers = sorted(row.config["n"] for row in _message_runs(store))
    assert numbers == list(range(MESSAGES))
