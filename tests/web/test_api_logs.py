"""Logs over the API: pages, literal search, hostile content (B-05), and the SSE live tail."""

from __future__ import annotations

import json
import time

from web_helpers import Seeded, local_client

from legato.events.status import RunStatus
from legato.events.types import Event, EventType
from legato.store.runs import RunRecord, create_run
from legato.web.app import create_app
from legato.web.config import Limits


def _log(store, run_id: str, messages: list[str], step: str = "s") -> None:  # type: ignore[no-untyped-def]
    from legato.store import event_log

    rows = [
        {
            "run_id": run_id,
            "step_key": step,
            "ts": time.time(),
            "level": "INFO",
            "stream": "stdout",
            "message": m,
        }
        for m in messages
    ]
    with store.transaction() as conn:
        event_log.append(conn, [], rows)


def test_logs_page_filter_by_step_and_continue_after_id(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    body = client.get(f"/api/v1/runs/{seeded.ok_run}/logs").json()
    assert body["run_status"] == "succeeded"
    steps = {line["step_key"] for line in body["lines"]}
    assert steps == {"raw_orders", "report"}
    only = client.get(f"/api/v1/runs/{seeded.ok_run}/logs", params={"step": "report"}).json()
    assert [line["message"] for line in only["lines"]] == ["2 orders"]
    rest = client.get(
        f"/api/v1/runs/{seeded.ok_run}/logs", params={"after_id": body["next_after_id"]}
    ).json()
    assert rest["lines"] == [] and rest["next_after_id"] == body["next_after_id"]


def test_hostile_log_lines_are_stored_and_returned_intact(store):
    create_run(store, RunRecord("r1", "*", RunStatus.QUEUED, time.time()))
    # NUL and unpaired surrogates never reach the store (PostgreSQL refuses both in text); the
    # capture layer replaces them, so the API sees U+FFFD where a bad byte was.
    lines = [
        "tab\tand \x07 bell",
        "ansi \x1b[31mred\x1b[0m",
        "progress 10%\rprogress 100%",
        "x" * 1_000_000,
        "bad \ufffd byte",
        "100% done_ok",
    ]
    _log(store, "r1", lines)
    client = local_client(create_app(store))
    got = client.get("/api/v1/runs/r1/logs").json()["lines"]
    assert [line["message"] for line in got[:3]] == lines[:3]
    assert len(got[3]["message"]) == 1_000_000
    assert got[4]["message"] == "bad \ufffd byte"
    assert [
        line["message"]
        for line in client.get("/api/v1/runs/r1/logs", params={"q": "RED"}).json()["lines"]
    ] == [lines[1]]
    percent = client.get("/api/v1/runs/r1/logs", params={"q": "100%"}).json()["lines"]
    assert [line["message"] for line in percent] == [lines[2], lines[5]]
    underscore = client.get("/api/v1/runs/r1/logs", params={"q": "e_o"}).json()["lines"]
    assert [line["message"] for line in underscore] == [lines[5]]


def _sse(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in block.splitlines()
            if ": " in line and not line.startswith(":")
        )
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


def test_stream_of_a_finished_run_sends_every_line_then_ends(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    with client.stream("GET", f"/api/v1/runs/{seeded.ok_run}/logs/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = _sse(text)
    assert events[0] == ("status", {"status": "succeeded"})
    assert [e for e, _ in events].count("log") == 3
    assert events[-1][0] == "end"


def test_stream_tails_a_running_run_until_it_finishes(store):
    create_run(store, RunRecord("r1", "*", RunStatus.QUEUED, time.time()))
    from legato.store import event_log

    with store.transaction() as conn:
        event_log.append(
            conn, [Event(EventType.RUN_STARTED, "r1", ts=time.time(), status="running")]
        )
    _log(store, "r1", ["first"])
    app = create_app(store, limits=Limits(sse_poll_seconds=0.05))
    client = local_client(app)
    received: list[str] = []
    with client.stream(
        "GET", "/api/v1/runs/r1/logs/stream", headers={"Last-Event-ID": "0"}
    ) as response:
        for chunk in response.iter_text():
            received.append(chunk)
            text = "".join(received)
            if '"first"' in text and '"second"' not in text and "appended" not in received:
                _log(store, "r1", ["second"])
                with store.transaction() as conn:
                    event_log.append(
                        conn,
                        [Event(EventType.RUN_SUCCEEDED, "r1", ts=time.time(), status="succeeded")],
                    )
                received.append("appended")
    events = _sse("".join(c for c in received if c != "appended"))
    messages = [d["message"] for e, d in events if e == "log"]
    assert messages == ["first", "second"]
    assert events[-1] == ("end", {"status": "succeeded"})


def test_stream_resumes_after_last_event_id(seeded: Seeded):
    client = local_client(create_app(seeded.store))
    first = client.get(f"/api/v1/runs/{seeded.ok_run}/logs").json()["lines"][0]["id"]
    with client.stream(
        "GET", f"/api/v1/runs/{seeded.ok_run}/logs/stream", headers={"Last-Event-ID": str(first)}
    ) as response:
        events = _sse("".join(response.iter_text()))
    assert [e for e, _ in events].count("log") == 2


def test_too_many_open_streams_is_429(seeded: Seeded):
    client = local_client(create_app(seeded.store, limits=Limits(max_streams=0)))
    response = client.get(f"/api/v1/runs/{seeded.ok_run}/logs/stream")
    assert response.status_code == 429 and response.json()["error"]["code"] == "too_many_requests"
