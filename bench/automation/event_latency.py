"""Event → run started, end to end, through `legato up` (the web server and the daemon).

    python bench/automation/event_latency.py [--events 200] [--gap 0.05] [--database-url URL]

A throwaway project has three pipelines of one no-op task each: one started by a webhook, one by
messages on a Redis stream, one by file arrival (a batch directory with a manifest, in a landing
directory the daemon watches; the sensor also polls every `--file-interval` s, FileArrival's
default 5 s). For each event the clock starts just before the POST, the
publish or the rename that completes the batch, and stops at the run's `started_at` as the
engine records it: the whole path of trigger → run request → queue → run worker → engine.
Events are sent one at a time, `--gap` s apart (latency, not throughput), after 10 uncounted.
Needs Redis on 127.0.0.1:6379. Targets: p50 ≤ 50 ms, p99 ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fresh_store import fresh_store_url

from legato.definitions.webhooks import sign_webhook
from legato.store.automation import list_triggers
from legato.store.engine import Store
from legato.store.runs import list_runs

WARM_UP = 10
SECRET = secrets.token_hex(16)

PROJECT = """
    import legato as lg

    @lg.task
    def hooked() -> None:
        return None

    @lg.task
    def messaged() -> None:
        return None

    @lg.task
    def landed() -> None:
        return None

    hooks = lg.Pipeline("hooks", select="hooked", triggers=[lg.Webhook(secret_env="BENCH_SECRET")])
    messages = lg.Pipeline("messages", select="messaged", triggers=[
        lg.OnMessage(lg.RedisStreamSource("{stream}"))])
    files = lg.Pipeline("files", select="landed", triggers=[lg.FileArrival(
        path="landing", pattern="{{batch}}/*", expected=["manifest"], interval={interval})])
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _newest(store: Store, pipeline: str) -> tuple[str, float | None] | None:
    runs = list_runs(store, pipeline=pipeline, limit=1)
    return (runs[0].run_id, runs[0].started_at) if runs else None


def _started(store: Store, pipeline: str, before: str | None, timeout: float = 30.0) -> float:
    """When the first run of ``pipeline`` newer than ``before`` started (waits for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        newest = _newest(store, pipeline)
        if newest is not None and newest[0] != before and newest[1] is not None:
            return newest[1]
        time.sleep(0.002)
    raise SystemExit(f"{pipeline}: no run started within {timeout:g} s of the event")


def _webhook(port: int) -> Callable[[int], None]:
    def send(i: int) -> None:
        body = json.dumps({"i": i}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/webhooks/hooks",
            data=body,
            headers={
                **sign_webhook(SECRET, body, f"bench-{i}"),
                "Content-Type": "application/json",
            },
        )
        urllib.request.urlopen(request, timeout=10).read()

    return send


def _message(stream: str) -> Callable[[int], None]:
    import redis

    client = redis.Redis()
    return lambda i: client.xadd(stream, {"body": json.dumps({"i": i})})


def _file(root: Path) -> Callable[[int], None]:
    landing = root / "landing"
    landing.mkdir(exist_ok=True)

    def send(i: int) -> None:
        staged = root / f".staged-{i}"
        staged.mkdir()
        (staged / "data.csv").write_text("a,b\n1,2\n")
        (staged / "manifest").write_text("data.csv\n")
        staged.rename(landing / f"batch-{i}")  # the batch appears complete, at once

    return send


def _measure(
    store: Store, pipeline: str, send: Callable[[int], None], events: int, gap: float
) -> dict[str, float | str | int]:
    latencies = []
    for i in range(WARM_UP + events):
        newest = _newest(store, pipeline)
        sent = time.time()
        send(i)
        started = _started(store, pipeline, newest[0] if newest else None)
        if i >= WARM_UP:
            latencies.append((started - sent) * 1000)
        time.sleep(gap)
    ms = sorted(latencies)
    return {
        "trigger": pipeline,
        "events": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
        "max_ms": round(ms[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.05)
    parser.add_argument("--file-interval", type=float, default=5.0, help="the sensor's poll")
    parser.add_argument("--triggers", default="hooks,messages,files")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="legato-latency-bench-"))
    stream = f"legato-latency-{secrets.token_hex(4)}"
    (root / "legato.toml").write_text('modules = ["bench_project"]\nexecutor = "inprocess"\n')
    (root / "bench_project.py").write_text(
        textwrap.dedent(PROJECT.format(stream=stream, interval=args.file_interval))
    )
    try:
        with fresh_store_url(args.database_url, root) as url:  # never a schema others use
            _bench(args, root, url, stream)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _bench(args: argparse.Namespace, root: Path, url: str, stream: str) -> None:
    port = _free_port()
    env = {**os.environ, "LEGATO_DATABASE_URL": url, "BENCH_SECRET": SECRET}
    server = subprocess.Popen(
        [sys.executable, "-m", "legato", "up", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    senders = {
        "hooks": lambda: _webhook(port),
        "messages": lambda: _message(stream),
        "files": lambda: _file(root),
    }
    try:
        deadline = time.monotonic() + 60
        while True:  # the server answers and the daemon has recorded the triggers
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health").read()
                if json.loads(health).get("daemon", {}).get("running"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("legato up did not become healthy within 60 s")
            time.sleep(0.1)
        store = Store(url)
        while {t.pipeline for t in list_triggers(store)} < {"hooks", "messages", "files"}:
            if time.monotonic() > deadline:
                raise SystemExit("the daemon did not record the triggers within 60 s")
            time.sleep(0.1)
        results = [
            _measure(store, name, senders[name](), args.events, args.gap)
            for name in args.triggers.split(",")
        ]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
        try:
            import redis

            redis.Redis().delete(stream, f"{stream}:dead_letter")
        except Exception:
            pass
    print(f"{'trigger':<10}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for r in results:
        print(
            f"{r['trigger']:<10}{r['events']:>6}{r['p50_ms']:>10}{r['p99_ms']:>10}{r['max_ms']:>10}"
        )
    print(json.dumps({"store": url.split(":", 1)[0], "results": results}))


if __name__ == "__main__":
    main()
