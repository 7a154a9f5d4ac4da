"""The store's side of alerting: one open alert per subject, messages claimed under a lease
(another daemon takes them only once it expires, and the first is fenced out), and the rate
limit's room per channel."""

from __future__ import annotations

from legato.store.alerts import (
    Incident,
    claim_deliveries,
    deliveries_of,
    finish_delivery,
    list_alerts,
    raise_alert,
)
from legato.store.engine import Store


def _raise(store: Store, subject: str, now: float) -> int | None:
    incident = Incident("run_failed", subject, f"{subject} failed", {})
    with store.transaction() as conn:
        return raise_alert(conn, incident, ["ops", "chat"], now=now)


def test_one_open_alert_per_subject_counts_its_occurrences(store: Store):
    first = _raise(store, "pipeline:nightly", 10.0)
    assert first is not None and _raise(store, "pipeline:nightly", 20.0) is None
    assert _raise(store, "pipeline:hourly", 30.0) is not None
    by_subject = {a.subject: a for a in list_alerts(store)}
    assert by_subject["pipeline:nightly"].occurrences == 2
    assert by_subject["pipeline:nightly"].last_seen_at == 20.0
    assert len(deliveries_of(store, [first])[first]) == 2  # one firing message per channel


def test_a_claimed_message_is_another_daemons_only_after_its_lease(store: Store):
    alert = _raise(store, "pipeline:nightly", 100.0)
    assert alert is not None
    mine = claim_deliveries(store, "a", now=100.0, lease=60.0, room={})
    assert {d.channel for d in mine} == {"ops", "chat"}
    assert claim_deliveries(store, "b", now=120.0, lease=60.0, room={}) == []
    theirs = claim_deliveries(store, "b", now=161.0, lease=60.0, room={"chat": 0})
    assert [d.channel for d in theirs] == ["ops"]  # chat is at its rate limit
    [stale] = [d for d in mine if d.channel == "ops"]
    assert not finish_delivery(store, stale, "a", now=162.0)  # fenced: b holds it now
    assert finish_delivery(store, theirs[0], "b", now=162.0)
    statuses = {d.channel: d.status for d in deliveries_of(store, [alert])[alert]}
    assert statuses == {"ops": "sent", "chat": "pending"}
