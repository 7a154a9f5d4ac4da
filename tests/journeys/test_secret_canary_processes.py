"""A canary secret through the processes the first canary journey does not reach: a remote worker
(``legato worker``), the Dask executor's workers, the message consumers of ``legato up``, a run a
webhook requested, and the running server's API. User code prints, logs and raises the value (a
step that did not resolve it, and a thread of its own, too); it appears nowhere in clear: not in
the store, not in an API response, not in a process's output, not in the broker's dead letters.
Only masks do."""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from collections.abc import Iterator
from typing import Any

import orphans
import pytest
from canary import assert_nowhere, store_text, strings
from journey import Journey, Server, wait_until

import legato as lg

PROJECT = """
    import logging
    import os
    import threading
    import legato as lg

    CANARY = lg.SecretRef("LEGATO_JOURNEY_CANARY")

    @lg.asset
    def token() -> str:
        return CANARY.get()

    @lg.asset
    def echo(token: str) -> int:  # another step process, which never called CANARY.get()
        print(f"received {token}")
        logging.getLogger("echo").warning("upstream gave %s", token)
        print(f"the hook's secret is {os.environ.get('LEGATO_JOURNEY_HOOK')}")
        aside = threading.Thread(target=print, args=(f"a thread of echo saw {token}",))
        aside.start()
        aside.join()
        return len(token)

    @lg.asset
    def explode(token: str) -> None:
        raise ValueError(f"cannot use {token}")

    hooks = lg.Pipeline("hooks", select="token echo explode", triggers=[
        lg.Webhook(secret_env="LEGATO_JOURNEY_HOOK")])

    def to_run(message):
        body = message.json()
        if body.get("poison"):
            raise RuntimeError(f"refused with token {CANARY.get()}")
        print(f"to_run saw {CANARY.get()}")
        logging.getLogger("to_run").warning("message %s, token %s", body["n"], CANARY.get())
        return lg.RunRequest(config={"n": body["n"]})

    @lg.task
    def handle(context) -> int:
        return int(context.run_config["n"])

    orders = lg.Pipeline("orders", select="handle", triggers=[
        lg.OnMessage(lg.RedisStreamSource(STREAM, url=URL), to_run=to_run)])
"""
SELECTION = ("token", "echo", "explode")
HOOK_SECRET = "hook-secret-for-the-canary-journey"

pytestmark = [pytest.mark.timeout(600), pytest.mark.together]


def _canary() -> str:
    return f"canary-{secrets.token_hex(16)}"


def _project(stream: str = "legato-canary-unused") -> str:
    url = os.environ.get("LEGATO_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    return PROJECT.replace("STREAM", repr(stream)).replace("URL", repr(url))


def _assert_steps_said_it_masked(recorded: str) -> None:
    """The steps did print, log and raise: what was recorded is masked, not missing."""
    assert "received ***" in recorded and "upstream gave ***" in recorded, recorded[-3000:]
    assert "cannot use ***" in recorded, recorded[-3000:]


# -- executors: a remote worker, Dask workers ---------------------------------------------------


@pytest.mark.parametrize("journey", ["postgres"], indirect=True)
def test_a_remote_worker_masks_what_its_steps_print_log_and_raise(journey: Journey) -> None:
    """Only the worker has the secret: the engine (``legato run``) cannot mask what the worker
    sends it, so every mask in the store is the worker's own."""
    canary = _canary()
    journey.write({"pipes.py": _project()})
    worker = journey.start("worker", "--queue", "default", env={"LEGATO_JOURNEY_CANARY": canary})
    ran = journey.legato("run", *SELECTION, env={"LEGATO_EXECUTOR": "remote"})
    assert "failed explode" in ran.stdout + ran.stderr, ran.stdout + ran.stderr + worker.output()
    worker.stop()
    recorded = store_text(journey.store())
    assert_nowhere(
        canary,
        {
            "the store": recorded,
            "legato run's output": ran.stdout + ran.stderr,
            "the worker's output": worker.output(),
        },
    )
    _assert_steps_said_it_masked(recorded)
    assert "a thread of echo saw ***" in worker.output(), worker.output()


@pytest.mark.parametrize("journey", ["sqlite"], indirect=True)
def test_dask_workers_mask_what_their_steps_print_log_and_raise(journey: Journey) -> None:
    """``legato run`` on the Dask executor: its local cluster's worker processes write to the
    command's own output, and send step logs and errors to the engine."""
    pytest.importorskip("distributed")
    canary = _canary()
    journey.write({"pipes.py": _project()}, config='executor = "dask"\nmax_concurrency = 1\n')
    ran = journey.legato("run", *SELECTION, env={"LEGATO_JOURNEY_CANARY": canary})
    output = ran.stdout + ran.stderr
    assert "failed explode" in output, output
    recorded = store_text(journey.store())
    assert_nowhere(canary, {"the store": recorded, "legato run's output": output})
    _assert_steps_said_it_masked(recorded)
    assert "a thread of echo saw ***" in output, output


# -- a step whose process never resolved the secret, on every executor -------------------------


@pytest.mark.parametrize(
    ("journey", "executor", "forks"),
    [
        ("sqlite", "process", "0"),  # step workers are fresh interpreters
        ("postgres", "process", "1"),  # forks of the engine, as by default
        ("sqlite", "inprocess", "1"),
        ("postgres", "threads", "1"),
        ("postgres", "dask", "1"),
        ("postgres", "remote", "1"),
    ],
    indirect=["journey"],
)
def test_a_fresh_process_masks_a_value_it_only_received_through_the_io_manager(
    journey: Journey, executor: str, forks: str
) -> None:
    """One command materializes ``token`` (``CANARY.get()``); another, with new processes of
    every kind, runs only ``echo``, which loads that value from the storage: no process of the
    second command ever resolves the secret, and each masks what it prints, logs and records.
    A remote worker is the only one given the secret then, so no other process can mask for it.
    ``forks="0"``: step workers start as fresh interpreters, not as forks of the engine."""
    if executor == "dask":
        pytest.importorskip("distributed")
    canary = _canary()
    secret = {"LEGATO_JOURNEY_CANARY": canary}
    config = "max_concurrency = 1\n" if executor == "dask" else ""
    journey.write({"pipes.py": _project()}, config=config)
    first = journey.legato("run", "token", env=secret)
    assert first.returncode == 0, first.stdout + first.stderr
    outputs = {"the first command's output": first.stdout + first.stderr}
    if executor == "remote":
        worker = journey.start("worker", "--queue", "default", env=secret)
        ran = journey.legato("run", "echo", env={"LEGATO_EXECUTOR": "remote"})
        worker.stop()
        outputs["the worker's output"] = steps_output = worker.output()
    else:
        second = {**secret, "LEGATO_EXECUTOR": executor, "LEGATO_FORK_SERVER": forks}
        ran = journey.legato("run", "echo", env=second)
        steps_output = ran.stdout + ran.stderr
    outputs["the second command's output"] = ran.stdout + ran.stderr
    assert ran.returncode == 0, ran.stdout + ran.stderr + steps_output
    recorded = store_text(journey.store())
    assert_nowhere(canary, {"the store": recorded, **outputs})
    assert "received ***" in recorded and "upstream gave ***" in recorded, recorded[-3000:]
    assert "a thread of echo saw ***" in steps_output, steps_output


# -- legato up: its message consumers, a webhook's run, its API ---------------------------------


class Served:
    """One ``legato up`` (web server, daemon, consumers, run workers) per store, shared by the
    tests below; the canary and the webhook's secret are in its environment only. On SQLite its
    children start as fresh interpreters, on PostgreSQL as forks (the default)."""

    def __init__(self, journey: Journey, server: Server, canary: str, stream: str) -> None:
        self.journey, self.server, self.canary, self.stream = journey, server, canary, stream

    def sinks(self) -> dict[str, str]:
        return {
            "the store": store_text(self.journey.store()),
            "legato up's output": self.server.process.output(),
        }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    module_redis_client: Any,
) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp(f"canary-up-{request.param}")
    url = None if request.param == "sqlite" else request.getfixturevalue("module_pg_schema_url")
    journey = Journey(directory, request.param, url)
    stream = f"legato-canary-{secrets.token_hex(4)}"
    canary = _canary()
    try:
        journey.write({"pipes.py": _project(stream)})
        env = {"LEGATO_JOURNEY_CANARY": canary, "LEGATO_JOURNEY_HOOK": HOOK_SECRET}
        if request.param == "sqlite":  # consumers, run and step workers: fresh interpreters
            env["LEGATO_FORK_SERVER"] = "0"
        yield Served(journey, journey.up(env=env), canary, stream)
    finally:
        journey.close()
        orphans.kill_in(directory)
        module_redis_client.delete(stream, f"{stream}:dead_letter")


def test_message_consumers_mask_what_to_run_prints_logs_and_raises(
    served: Served, module_redis_client: Any
) -> None:
    redis, stream = module_redis_client, served.stream
    wait_until(
        lambda: redis.exists(stream) and redis.xinfo_groups(stream),
        timeout=60,
        what="the consumer to join the stream",
    )
    for body in ({"n": 1}, {"poison": True}, {"n": 2}):
        redis.xadd(stream, {"body": json.dumps(body)})

    def handled() -> bool:
        _, body = served.server.get("/api/v1/runs?pipeline=orders&status=succeeded")
        return len(body["runs"]) == 2 and bool(redis.xlen(f"{stream}:dead_letter"))

    wait_until(handled, timeout=120, what="two runs and a dead letter")
    path = "/api/v1/automation/triggers/orders%230%3Amessage/ticks?status=failed"
    status, ticks = served.server.get(path)
    assert status == 200, ticks
    letters = redis.xrange(f"{stream}:dead_letter")
    sinks = served.sinks()
    sinks["the API's ticks"] = "\n".join(strings(ticks))
    sinks["the dead letters"] = repr(letters)
    assert_nowhere(served.canary, sinks)
    # to_run did raise, print and log: masked, not missing
    assert "refused with token ***" in sinks["the API's ticks"], ticks
    assert "refused with token ***" in sinks["the dead letters"], letters
    assert "to_run saw ***" in sinks["legato up's output"]
    assert "message 1, token ***" in sinks["legato up's output"]


def test_a_webhook_run_is_masked_in_the_running_server_s_api(served: Served) -> None:
    body = json.dumps({"note": "from the canary journey"}).encode()
    request = urllib.request.Request(
        f"{served.server.url}/api/v1/webhooks/hooks",
        data=body,
        method="POST",
        headers={
            **lg.sign_webhook(HOOK_SECRET, body, f"canary-{secrets.token_hex(4)}"),
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
        run_id = json.loads(response.read())["run_id"]

    def finished() -> bool:
        _, run = served.server.get(f"/api/v1/runs/{run_id}")
        return run["status"] in ("succeeded", "failed")

    wait_until(finished, timeout=120, what="the webhook's run to finish")
    answers = {}
    for path in ("", "/steps", "/events", "/logs"):
        status, answer = served.server.get(f"/api/v1/runs/{run_id}{path}")
        assert status == 200, (path, answer)
        answers[f"/runs/{{id}}{path}"] = "\n".join(strings(answer))
    _, runs = served.server.get("/api/v1/runs")
    answers["/runs"] = "\n".join(strings(runs))
    assert_nowhere(served.canary, {**served.sinks(), **answers})
    _assert_steps_said_it_masked(answers["/runs/{id}/logs"] + answers["/runs/{id}/steps"])
    # the webhook's signing secret is a secret of the project too, masked wherever it is printed
    assert_nowhere(HOOK_SECRET, {**served.sinks(), **answers})
    assert "the hook's secret is ***" in answers["/runs/{id}/logs"]
    assert "a thread of echo saw ***" in served.server.process.output()
    _, run = served.server.get(f"/api/v1/runs/{run_id}")
    assert run["status"] == "failed", run  # explode raised
