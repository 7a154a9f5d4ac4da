"""Daemons under load and kill -9: do schedules stay on time and do messages run once?

    python bench/automation/failover.py [--schedules 200] [--messages 2000] [--daemons 2]
        [--seconds 180] [--database-url URL] [--redis-url URL] [--no-launch]

A project of ``--schedules`` ``Every(1)`` schedules and one Redis stream trigger runs on
``--daemons`` real ``legato daemon`` processes with the user's defaults (runs launched, default
lease and interval) on a fresh PostgreSQL schema. For ``--seconds``, ``--messages`` messages are
published at an even pace while one daemon, chosen at random, is killed with SIGKILL every 15 to
25 s (the daemon process alone: its run workers are orphaned, as in life) and started again at
once. Then the daemons are stopped with SIGTERM.

Prints: ticks expected and requested, gaps and duplicates per schedule, runs per message, tick
lateness (the time a tick's run was requested minus its scheduled time) outside and across a
failover (ticks scheduled in the 10 s after a kill), how long each SIGTERM took, and CPU time.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

PROJECT = """
    from datetime import timedelta
    import legato as lg

    @lg.task
    def job() -> None:
        return None

    for i in range({schedules}):
        globals()[f"every{{i}}"] = lg.Pipeline(
            f"every{{i}}", select="job",
            triggers=[lg.Every(1, catch_up=lg.CatchUp.all(within=timedelta(minutes=10)))])

    orders = lg.Pipeline("orders", select="job", triggers=[
        lg.OnMessage(lg.RedisStreamSource("{stream}", url="{redis}"), batch=50, within=0.1)])
"""
FAILOVER_WINDOW = 10.0  # ticks scheduled this long after a kill count as "across a failover"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--daemons", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--database-url", default="postgresql+psycopg://127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-launch", action="store_true", help="daemons request runs only")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import psycopg
    import redis

    schema = f"bench_failover_{secrets.token_hex(4)}"
    stream = f"bench-failover-{secrets.token_hex(4)}"
    plain = args.database_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{args.database_url}?options=-csearch_path%3D{schema}"
    client = redis.Redis.from_url(args.redis_url)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "legato.toml").write_text('modules = ["pipes"]\n')
        source = PROJECT.format(schedules=args.schedules, stream=stream, redis=args.redis_url)
        (project / "pipes.py").write_text(textwrap.dedent(source))
        env = {**os.environ, "LEGATO_DATABASE_URL": url}
        extra = ["--no-launch"] if args.no_launch else []
        try:
            report = _scenario(args, project, env, extra, client, stream, url)
        finally:
            _reap(project)
            client.delete(stream, f"{stream}:dead_letter")
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(report)


def _scenario(
    args: argparse.Namespace,
    project: Path,
    env: dict[str, str],
    extra: list[str],
    client: object,
    stream: str,
    url: str,
) -> str:
    from legato.store.engine import Store

    rng = random.Random(args.seed)
    log = open(project / "daemons.log", "w")  # noqa: SIM115 - closed below

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "legato", "daemon", *extra],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    procs = [start() for _ in range(args.daemons)]
    store = Store(url)
    try:
        _wait(lambda: len({t for t, _, _ in _ticks(store)}) >= args.schedules, 120, "first ticks")
        began, cpu_before = time.time(), _machine_cpu()
        kills: list[float] = []
        next_kill = time.monotonic() + rng.uniform(15, 25)
        started, sent = time.monotonic(), 0
        while (elapsed := time.monotonic() - started) < args.seconds:
            due = min(args.messages, int(args.messages * elapsed / args.seconds) + 1)
            for n in range(sent, due):
                client.xadd(stream, {"body": json.dumps({"n": n})})  # type: ignore[attr-defined]
            sent = due
            if time.monotonic() >= next_kill:
                victim = rng.randrange(len(procs))
                procs[victim].kill()
                procs[victim].wait(10)
                kills.append(time.time())
                procs[victim] = start()
                next_kill = time.monotonic() + rng.uniform(15, 25)
            time.sleep(0.05)  # the pace of the load
        for n in range(sent, args.messages):
            client.xadd(stream, {"body": json.dumps({"n": n})})  # type: ignore[attr-defined]
        ended = time.time()
        _wait(lambda: _caught_up(store, args.schedules, ended), 300, "the schedules to catch up")
        _wait(lambda: len(_message_runs(store)) >= args.messages, 300, "a run per message")
        stops = []
        for proc in procs:
            at = time.monotonic()
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            stops.append(time.monotonic() - at)
        cpu = _machine_cpu() - cpu_before
        return _report(args, store, began, ended, kills, stops, cpu)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        store.dispose()
        log.close()


def _report(
    args: argparse.Namespace,
    store: object,
    began: float,
    ended: float,
    kills: list[float],
    stops: list[float],
    cpu: float,
) -> str:
    by_schedule: dict[str, list[float]] = defaultdict(list)
    lateness_out: list[float] = []
    lateness_across: list[float] = []
    for trigger, key, ts in _ticks(store):
        at = datetime.fromisoformat(key).timestamp()
        by_schedule[trigger].append(at)
        if began <= at <= ended:
            near = any(0 <= at - k <= FAILOVER_WINDOW for k in kills)
            (lateness_across if near else lateness_out).append(ts - at)
    gaps = duplicates = 0
    for times in by_schedule.values():
        times.sort()
        duplicates += len(times) - len(set(times))
        gaps += sum(
            round(b - a) - 1 for a, b in itertools.pairwise(sorted(set(times))) if b - a > 1
        )
    expected = sum(round(max(v) - min(v)) + 1 for v in by_schedule.values())
    requested = sum(len(v) for v in by_schedule.values())
    per_message = Counter(config["n"] for config in _message_runs(store))
    missing = args.messages - len(per_message)
    doubled = sum(1 for n in per_message.values() if n > 1)
    mode = "request only (--no-launch)" if args.no_launch else "runs launched (default)"
    lines = [
        f"{args.daemons} daemons, {args.schedules} Every(1) schedules, {args.messages} Redis "
        f"messages, {args.seconds:.0f} s, {len(kills)} kill -9, {mode}",
        f"schedules that ticked: {len(by_schedule)}/{args.schedules}; ticks requested "
        f"{requested:,} of {expected:,} due from each one's first to its last; "
        f"gaps {gaps}; duplicates {duplicates}",
        f"messages: {len(per_message)}/{args.messages} ran, {missing} missing, {doubled} doubled",
        "tick lateness outside a failover: " + _percentiles(lateness_out),
        f"tick lateness across a kill (scheduled ≤ {FAILOVER_WINDOW:.0f} s after it): "
        + _percentiles(lateness_across),
        "SIGTERM to exit: " + ", ".join(f"{s:.1f} s" for s in stops),
        f"machine CPU (daemons, workers, PostgreSQL, Redis): {cpu:.0f} s, "
        f"{cpu / (ended - began):.2f} of {os.cpu_count()} cores on average",
    ]
    return "\n".join(lines)


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return f"{len(values)} ticks"
    q = statistics.quantiles(values, n=100)
    return f"p50 {q[49]:.2f} s, p99 {q[98]:.2f} s, max {max(values):.2f} s ({len(values):,} ticks)"


def _ticks(store: object) -> list[tuple[str, str, float]]:
    from sqlalchemy import select

    from legato.store.schema_automation import ticks

    with store.read() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            select(ticks.c.trigger_id, ticks.c.tick_key, ticks.c.ts).where(
                ticks.c.status == "requested", ticks.c.trigger_id.like("every%")
            )
        ).all()
    return [(r.trigger_id, r.tick_key, r.ts) for r in rows]


def _caught_up(store: object, schedules: int, since: float) -> bool:
    latest: dict[str, float] = {}
    for trigger, key, _ in _ticks(store):
        latest[trigger] = max(latest.get(trigger, 0.0), datetime.fromisoformat(key).timestamp())
    return len(latest) == schedules and min(latest.values()) >= since


def _message_runs(store: object) -> list[dict[str, int]]:
    from sqlalchemy import select

    from legato.store.schema import runs

    with store.read() as conn:  # type: ignore[attr-defined]
        configs = conn.execute(select(runs.c.config).where(runs.c.pipeline == "orders"))
        # a JSON column: a dict, or its text where the driver does not decode it
        return [c if isinstance(c, dict) else json.loads(c) for c in configs.scalars()]


def _wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def _machine_cpu() -> float:
    """CPU seconds the whole machine spent (daemons, workers, PostgreSQL, Redis, this script)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # all but idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _reap(project: Path) -> None:
    """SIGKILL every process still working in ``project`` (orphaned run workers)."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ProcessLookupError):
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == project.resolve():
                os.kill(int(entry.name), signal.SIGKILL)


if __name__ == "__main__":
    main()
