"""Messages whose run could not start: a team's pipeline reads an export config from each message
of a Redis stream. A message whose config does not fit the step's config model makes no run: it
is dead-lettered, and the tick history says why (CLI and API), while the good messages of the same
batch run. On SQLite and PostgreSQL, through `legato up`."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any
from urllib.parse import quote

from journey import Journey, wait_until

PROJECT = """
    import msgspec
    import legato as lg

    class Export(msgspec.Struct):
        table: str
        rows: int = 100

    @lg.task
    def export(config: Export) -> str:
        return f"{config.table}:{config.rows}"

    exports = lg.Pipeline(
        "exports",
        select="export",
        triggers=[lg.OnMessage(lg.RedisStreamSource(STREAM, url=URL), batch=10, within=2)],
    )
"""
TRIGGER = "exports#0:message"


def test_a_message_whose_config_does_not_fit_is_dead_lettered_and_its_tick_says_why(
    journey: Journey, redis_client: Any
) -> None:
    stream = f"legato-journey-{secrets.token_hex(4)}"
    url = os.environ.get("LEGATO_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    source = PROJECT.replace("STREAM", repr(stream)).replace("URL", repr(url))
    journey.write({"pipes.py": source})
    server = journey.up()
    try:
        wait_until(
            lambda: redis_client.exists(stream) and redis_client.xinfo_groups(stream),
            timeout=60,
            what="the consumer to join the stream",
        )
        for config in ({"table": "a"}, {"tabel": "b"}, {"table": "c", "rows": 3}):
            redis_client.xadd(stream, {"body": json.dumps({"export": config})})

        def succeeded() -> list[str]:
            _, body = server.get("/api/v1/runs?status=succeeded")
            return sorted(r["config"]["export"]["table"] for r in body["runs"])

        wait_until(lambda: succeeded() == ["a", "c"], timeout=120, what="the two good runs")
        path = f"/api/v1/automation/triggers/{quote(TRIGGER, safe='')}/ticks?status=failed"
        status, body = server.get(path)
        assert status == 200, body
        [tick] = body["ticks"]
        assert tick["run_id"] is None
        assert "the run config of step 'export' is invalid" in tick["reason"]
        assert "export.table is required" in tick["reason"]
        assert "export.tabel is not a known key" in tick["reason"]
        listed = journey.ok("automation", "ticks", TRIGGER).stdout
        assert "failed" in listed and "step 'export' is invalid" in " ".join(listed.split())
        _, runs = server.get("/api/v1/runs")
        assert len(runs["runs"]) == 2  # no run, failing or not, for the bad message
        [(_, letter)] = redis_client.xrange(f"{stream}:dead_letter")
        assert json.loads(letter[b"body"]) == {"export": {"tabel": "b"}}
    finally:
        redis_client.delete(stream, f"{stream}:dead_letter")
