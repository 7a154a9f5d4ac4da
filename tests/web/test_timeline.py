"""The attempts the run page's timeline draws, from a run's events."""

from legato.web.timeline import attempts_by_step


def test_an_attempt_starts_when_it_began_to_execute_not_when_it_was_handed_over():
    events = [
        {"type": "step_started", "step": "a", "attempt": 1, "ts": 100.0, "data": {}},
        {"type": "step_started", "step": "b", "attempt": 1, "ts": 100.0, "data": {}},
        {"type": "step_succeeded", "step": "a", "attempt": 1, "ts": 100.2, "data": {}},
        {
            "type": "step_succeeded",
            "step": "b",
            "attempt": 1,
            "ts": 100.4,
            "data": {"started_at": 100.2, "duration": 0.2},
        },
    ]
    attempts = attempts_by_step(events)
    assert [(x["started_at"], x["ended_at"]) for x in attempts["a"]] == [(100.0, 100.2)]
    assert [(x["started_at"], x["ended_at"]) for x in attempts["b"]] == [(100.2, 100.4)]
