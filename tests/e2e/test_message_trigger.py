"""A message trigger through the real daemon: Redis Stream messages become runs, exactly once each;
a poison message is dead-lettered and the consumer goes on; a consumer process killed mid-stream
is replaced by the daemon, and no message is lost or doubled."""

import json
import os
import secrets
import signal
import textwrap
from pathlib import Path

from legato.events.status import RunStatus
from legato.store.automation import list_ticks
from legato.store.engine import Store
from legato.store.runs import list_runs
from legato_process import start_daemon, stop_daemon
from polling import poller

_wait = poller(timeout=120.0, interval=0.1)

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
    daemon = start_daemon(tmp_path, "--interval", "0.1", "--lease", "5")
    try:
        for n in range(10):
            redis_client.xadd(stream, {"body": json.dumps({"n": n})})
        redis_client.xadd(stream, {"body": "not json"})  # poison: dead-lettered with the reason
        for n in range(10, 20):
            redis_client.xadd(stream, {"body": json.dumps({"n": n})})
        db = tmp_path / ".legato" / "legato.db"
        store = _wait(lambda: db.exists() and Store(f"sqlite:///{db}"), what="the store")

        def all_done():
            done = list_runs(store, limit=100)
            return len(done) >= 20 and all(r.status is RunStatus.SUCCEEDED for r in done)

        _wait(all_done, what="a succeeded run for each of the 20 good messages")
    finally:
        stop_daemon(daemon)
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
    daemon = start_daemon(tmp_path, "--interval", "0.1")
    try:
        _wait(lambda: _consumers_in(tmp_path), what="the daemon's consumer process")
    finally:
        stop_daemon(daemon, signal.SIGKILL)  # the consumer runs in a session of its own
    _wait(lambda: not _consumers_in(tmp_path), timeout=30, what="the consumer to follow its daemon")
    redis_client.delete(stream)


def test_a_killed_consumer_is_restarted_and_no_message_is_lost_or_doubled(tmp_path, redis_client):
    """kill -9 of the consumer child, mid-stream: the daemon starts another, which takes over
    what the dead one had read and not acknowledged (``claim_after``); every message, sent
    before or after the kill, makes exactly one run, and none is left pending."""
    stream = f"legato-e2e-{secrets.token_hex(4)}"
    project = PROJECT.replace('"{stream}"', f'"{stream}", claim_after=1')
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\n')
    (tmp_path / "pipes.py").write_text(textwrap.dedent(project))
    daemon = start_daemon(tmp_path, "--no-launch")  # runs are recorded, not executed: enough here
    log = Path(daemon.log.name)
    db = tmp_path / ".legato" / "legato.db"
    stores = []
    try:
        first = _wait(lambda: _consumers_in(tmp_path), what="the daemon's consumer process")
        store = _wait(lambda: db.exists() and Store(f"sqlite:///{db}"), what="the store")
        stores.append(store)
        for n in range(10):
            redis_client.xadd(stream, {"body": json.dumps({"n": n})})
        _wait(lambda: list_runs(store, limit=100), what="the consumer to record a run")
        os.kill(first[0], signal.SIGKILL)  # perhaps mid-batch: read, not yet acknowledged
        for n in range(10, 20):
            redis_client.xadd(stream, {"body": json.dumps({"n": n})})
        restarted = _wait(
            lambda: [pid for pid in _consumers_in(tmp_path) if pid not in first],
            what="the daemon to start a new consumer process",
        )

        def all_recorded_and_acknowledged():
            pending = redis_client.xpending(stream, "legato")["pending"]
            return len(list_runs(store, limit=100)) >= 20 and pending == 0

        _wait(all_recorded_and_acknowledged, what="a run for each of the 20 messages, all acked")
        runs = list_runs(store, limit=100)
        assert sorted(int(r.config["n"]) for r in runs) == list(range(20))
        assert len({r.idempotency_key for r in runs}) == 20
        ticks = list_ticks(store, "orders#0:message", 100)
        assert sorted(t.status for t in ticks) == ["requested"] * 20
        assert _consumers_in(tmp_path) == restarted
        _wait(
            lambda: "message consumers exited with -9; restarting" in log.read_text(),
            what="the daemon to say that it restarted its consumers",
        )
    finally:
        stop_daemon(daemon)
        _wait(lambda: not _consumers_in(tmp_path), timeout=30, what="the consumers to stop")
        for store in stores:
            store.dispose()
        redis_client.delete(stream)
