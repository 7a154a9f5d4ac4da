"""PostgreSQL restarted under a running daemon: the daemon does not exit, resumes, and the
schedule's ticks have no gap and no duplicate (RELIABILITY F-06). The server is the test's own
(``postgres_cluster``), never the machine's shared one."""

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime

from sqlalchemy import select

from legato.store.engine import Store
from legato.store.schema_automation import ticks

PROJECT = """
    from datetime import timedelta
    import legato as lg

    @lg.task
    def job() -> None:
        return None

    every = lg.Pipeline("every", select="job", triggers=[
        lg.Every(1, catch_up=lg.CatchUp.all(within=timedelta(minutes=5)))])
"""


def _ticks(store: Store) -> list[datetime]:
    with store.read() as conn:
        keys = conn.execute(select(ticks.c.tick_key).where(ticks.c.status == "requested"))
        return sorted(datetime.fromisoformat(k) for k in keys.scalars())


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # the server is restarting: keep polling until the deadline
            pass
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_the_daemon_survives_a_postgres_restart(tmp_path, postgres_cluster):
    url = postgres_cluster.url
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\n')
    (tmp_path / "pipes.py").write_text(textwrap.dedent(PROJECT))
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "legato",
            "daemon",
            "--no-launch",
            "--lease",
            "3",
            "--interval",
            "0.1",
        ],
        cwd=tmp_path,
        env={**os.environ, "LEGATO_DATABASE_URL": url},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    store = Store(url, create=False)
    try:
        _wait(lambda: len(_ticks(store)) >= 3)
        postgres_cluster.stop("fast")
        postgres_cluster.start()
        assert daemon.poll() is None, "the daemon exited when the database went away"
        _wait(lambda: len(_ticks(store)) >= 1)  # the pool reconnects (pre-ping)
        before = len(_ticks(store))
        _wait(lambda: len(_ticks(store)) >= before + 3)
        assert daemon.poll() is None
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(30)
        log.close()
    times = _ticks(store)
    gaps = [(a, b) for a, b in itertools.pairwise(times) if (b - a).total_seconds() != 1]
    assert not gaps, gaps[:3]
    store.dispose()
