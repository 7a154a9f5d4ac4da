"""A message trigger through the real daemon: Redis Stream messages become runs, exactly once each;
a poison message is dead-lettered and the consumer goes on."""

import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from legato.events.status import RunStatus
from legato.store.engine import Store
from legato.store.runs import list_runs

PROJECT = """
    import legato as lg

    @lg.task
    def handle(context) -> int:
        return int(context.run_config["n"])

    orders = lg.Pipeline("orders", select="handle", triggers=[
        lg.OnMessage(lg.RedisStreamSource("{stream}"), batch=10, within=0.2)])
"""


def test_redis_messages_become_runs_exactly_once(tmp_path, redis_client):
    stream = f"legato-e2e-{secrets.token_hex(4)}"
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\nexecutor = "threads"\n')
    (tmp_path / "pipes.py").write_text(textwrap.dedent(PROJECT.replace("{stream}", stream)))
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115
    daemon = subprocess.Popen(
        [sys.executable, "-m", "legato", "daemon", "--interval", "0.1", "--lease", "5"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for n in range(10):
            redis_client.xadd(stream, {"body": json.dumps({"n": n})})
        redis_client.xadd(stream, {"body": "not json"})  # poison: dead-lettered with the reason
        for n in range(10, 20):
            redis_client.xadd(stream, {"body": json.dumps({"n": n})})
        store = None
        deadline = time.monotonic() + 120
        while True:
            db = tmp_path / ".legato" / "legato.db"
            store = store or (db.exists() and Store(f"sqlite:///{db}")) or None
            done = list(list_runs(store, limit=100)) if store else []
            if len(done) >= 20 and all(r.status is RunStatus.SUCCEEDED for r in done):
                break
            assert time.monotonic() < deadline, (tmp_path / "daemon.log").read_text()[-3000:]
            time.sleep(0.2)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(30)
        log.close()
    runs = list_runs(store, limit=100)
    assert sorted(int(r.config["n"]) for r in runs) == list(range(20))
    assert len({r.idempotency_key for r in runs}) == 20
    dead = [k for k in redis_client.scan_iter(f"{stream}*") if k.decode() != stream]
    assert dead, "the poison message was not dead-lettered"
    for key in redis_client.scan_iter(f"{stream}*"):
        redis_client.delete(key)


def _consumers_in(directory):
    """Pids of message-consumer processes whose working directory is ``directory``."""
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


def test_the_consumers_of_a_killed_daemon_stop(tmp_path, redis_client):
    """kill -9 of the daemon must not leave its consumer process running as an orphan."""
    stream = f"legato-e2e-{secrets.token_hex(4)}"
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\nexecutor = "threads"\n')
    (tmp_path / "pipes.py").write_text(textwrap.dedent(PROJECT.replace("{stream}", stream)))
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115
    daemon = subprocess.Popen(
        [sys.executable, "-m", "legato", "daemon", "--interval", "0.1"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _consumers_in(tmp_path):
            assert time.monotonic() < deadline, "the daemon started no consumer"
            time.sleep(0.1)
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)  # the consumer runs in a session of its own
        daemon.wait(30)
        log.close()
    deadline = time.monotonic() + 30
    while _consumers_in(tmp_path):
        assert time.monotonic() < deadline, "the consumer outlived its daemon"
        time.sleep(0.1)
    redis_client.delete(stream)
