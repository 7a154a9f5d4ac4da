"""A canary secret through every process Legato runs (RELIABILITY S-04): a sensor in the code
server prints, logs and raises with it, a step returns it, a downstream step in another worker
process logs the value it received and another raises with it, from the ``legato`` command and
from a real daemon's run workers. The token appears nowhere: not in any text of the store, not
in any command's output, not in the daemon's log. Only masks do. On SQLite every child process
(code server, run workers, step workers) starts as a fresh interpreter; on PostgreSQL, as by
default, as a fork of its parent."""

from __future__ import annotations

import re
import secrets

import pytest
from canary import assert_nowhere, store_text
from journey import Journey, wait_until

PROJECT = """
    import logging
    import legato as lg

    CANARY = lg.SecretRef("LEGATO_JOURNEY_CANARY")

    @lg.sensor(interval=0.2)
    def feed(context):
        print(f"the feed prints {CANARY.get()}")
        logging.getLogger("feed").warning("the feed logs %s", CANARY.get())
        raise RuntimeError(f"the feed refused token {CANARY.get()}")

    watch = lg.Pipeline("watch", select="token", triggers=[feed])

    @lg.asset
    def token() -> str:
        return CANARY.get()

    @lg.asset
    def echo(token: str) -> int:
        print(f"received {token}")
        logging.getLogger("echo").warning("upstream gave %s", token)
        return len(token)

    @lg.asset
    def explode(token: str) -> None:
        raise ValueError(f"cannot use {token}")
"""

pytestmark = pytest.mark.timeout(600)


def test_a_canary_secret_is_masked_in_every_process_and_every_sink(journey: Journey) -> None:
    from legato.store.automation import list_ticks
    from legato.store.runs import get_run

    canary = f"canary-{secrets.token_hex(16)}"
    journey.write({"pipes.py": PROJECT})
    env = {"LEGATO_JOURNEY_CANARY": canary}
    if journey.backend == "sqlite":  # every child process a fresh interpreter, not a fork
        env["LEGATO_FORK_SERVER"] = "0"
    outputs = []

    def legato(*args: str) -> str:
        done = journey.legato(*args, env=env)
        outputs.append(done.stdout + done.stderr)
        return done.stdout + done.stderr

    ran = legato("run", "token", "echo", "explode")
    assert "failed" in ran, ran
    daemon = journey.start("daemon", env=env)
    queued = legato("run", "token", "echo", "explode", "--queue")
    run_id = re.search(r"run (\S+) queued", queued)
    assert run_id, queued

    def done() -> bool:
        if not daemon.alive():
            raise AssertionError(f"legato daemon exited:\n{daemon.output()}")
        ticks = list_ticks(journey.store(), None, limit=10)
        return get_run(journey.store(), run_id.group(1)).status.finished and any(
            t.status == "failed" for t in ticks
        )

    wait_until(done, timeout=180, what="the daemon's run to finish and the sensor to fail")
    runs = legato("runs", "--plain").split()
    assert len(runs) == 2, runs
    for run in runs:
        legato("logs", run)
        legato("runs", "show", run)
    legato("automation", "ticks")
    daemon.stop()

    recorded = store_text(journey.store())
    everything = {"the store": recorded, "the commands": "\n".join(outputs)}
    everything["the daemon's log"] = daemon.log_path.read_text(errors="replace")
    assert_nowhere(canary, everything)
    # every sink did receive the text, masked
    assert "the feed refused token ***" in recorded, recorded[-3000:]
    daemon_log = everything["the daemon's log"]
    assert "the feed prints ***" in daemon_log and "the feed logs ***" in daemon_log, daemon_log
    assert "received ***" in recorded and "upstream gave ***" in recorded
    assert "cannot use ***" in recorded and "cannot use ***" in "\n".join(outputs)
