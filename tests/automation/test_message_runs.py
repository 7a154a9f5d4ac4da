"""How messages become runs in the daemon: a message whose config fits is checked once and
recorded as checked; one that does not fit is refused with the reason, and makes no run."""

from __future__ import annotations

import pytest

import legato as lg
from legato.automation import consumers
from legato.automation.consumers import MessageRuns
from legato.definitions.messages import Message, RunRequest
from legato.store.engine import Store
from legato.store.runs import get_run, list_runs

SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}},
    "required": ["n"],
    "additionalProperties": False,
}


def test_a_batch_is_checked_once_and_recorded_as_checked(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real = consumers.message_run

    def counting(*args, **kwargs):
        made.append(args[2].id)
        return real(*args, **kwargs)

    monkeypatch.setattr(consumers, "message_run", counting)
    runs = MessageRuns(store, "orders#0:message", lg.Pipeline("orders", select="job"), SCHEMA)
    good = [
        (Message(f"{i}-0", b"{}", source="redis:o"), RunRequest(config={"n": i})) for i in (1, 2)
    ]
    bad = (Message("3-0", b"{}", source="redis:o"), RunRequest(config={"n": "three"}))
    assert [runs.check(m, r) for m, r in good] == [None, None]
    problem = runs.check(*bad)
    assert problem is not None and "n" in problem
    runs.record(good)
    assert made == ["1-0", "2-0", "3-0"]  # each made once: recording did not check again
    recorded = sorted(get_run(store, r.run_id).config["n"] for r in list_runs(store))
    assert recorded == [1, 2]
    runs.record(good)  # delivered again (a crash before the ack): made anew, recorded once
    assert made == ["1-0", "2-0", "3-0", "1-0", "2-0"] and len(list_runs(store)) == 2
