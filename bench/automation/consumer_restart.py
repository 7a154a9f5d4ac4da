"""How soon the daemon replaces a message consumer killed with kill -9, and how soon a message
sent right after the kill becomes a run.

    python bench/automation/consumer_restart.py [--kills 5] [--redis-url redis://127.0.0.1:6379/0]

A project with one Redis-stream `OnMessage` trigger in a temporary directory, `legato daemon
--no-launch` (runs recorded, not executed) on its SQLite store, with the default loop interval.
For each kill: SIGKILL the consumer process, then time until a new consumer process exists, and
until a message sent just after the kill is recorded as a run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PROJECT = """
    import legato as lg

    @lg.task
    def handle(context) -> int:
        return int(context.run_config["n"])

    orders = lg.Pipeline("orders", select="handle", triggers=[
        lg.OnMessage(lg.RedisStreamSource("{stream}", claim_after=1), batch=10, within=0.05)])
"""


def _consumers(directory: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if b"legato.automation.consumers" in cmdline and cwd == str(directory):
            found.append(int(entry))
    return found


def _until(predicate, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.005)
    raise TimeoutError("gave up waiting")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    import redis

    from legato.store.engine import Store
    from legato.store.runs import list_runs

    client = redis.Redis.from_url(args.redis_url)
    stream = f"bench-restart-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp).resolve()
        (project / "legato.toml").write_text('modules = ["pipes"]\n')
        (project / "pipes.py").write_text(textwrap.dedent(PROJECT.replace("{stream}", stream)))
        log = open(project / "daemon.log", "w")  # noqa: SIM115 - closed below
        legato = Path(sys.executable).with_name("legato")
        daemon = subprocess.Popen(
            [str(legato), "daemon", "--no-launch"], cwd=project, stdout=log, stderr=log
        )
        store = None
        restarted, recorded = [], []
        try:
            _until(lambda: _consumers(project))
            store = _until(lambda: (project / ".legato" / "legato.db").exists() and Store(
                f"sqlite:///{project / '.legato' / 'legato.db'}"))  # fmt: skip
            for n in range(args.kills):
                old = _consumers(project)
                killed = time.monotonic()
                for pid in old:
                    os.kill(pid, signal.SIGKILL)
                client.xadd(stream, {"body": json.dumps({"n": n})})
                _until(lambda old=old: [p for p in _consumers(project) if p not in old])
                restarted.append(time.monotonic() - killed)
                _until(lambda n=n: len(list_runs(store, limit=100)) > n)
                recorded.append(time.monotonic() - killed)
                time.sleep(1.0)  # let the new consumer settle before the next kill
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
            log.close()
            if store is not None:
                store.dispose()
            client.delete(stream)
    print(f"{args.kills} kills; seconds from kill -9 of the consumer")
    print(f"  to a new consumer process: median {statistics.median(restarted):.2f}, "
          f"max {max(restarted):.2f}")  # fmt: skip
    print(f"  to a run for a message sent at the kill: median {statistics.median(recorded):.2f}, "
          f"max {max(recorded):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
