"""A daemon's presence lock (PostgreSQL): while it holds it, nobody takes its triggers before their
lease ends; the moment its connection dies (a kill -9 closes it), another daemon takes them over
at its next claim and marks it dead, without waiting out the lease."""

import time
from datetime import UTC, datetime

import legato as lg
from legato.store.automation import (
    claim_triggers,
    heartbeat,
    live_daemons,
    mark_dead,
)
from legato.store.presence import Presence
from legato.testing import VirtualDaemon
from polling import poller

_wait = poller(timeout=10.0, interval=0.02)


def _triggers(pg_store):
    @lg.task
    def job() -> None:
        return None

    pipes = [
        lg.Pipeline(f"every{i}", select="job", triggers=[lg.Every(60)]) for i in range(3)
    ]  # their snapshot and trigger rows, written by a virtual daemon that never claims them
    VirtualDaemon(pipes, steps=[job], start=datetime(2025, 1, 1, tzinfo=UTC), store=pg_store)


def test_a_dead_daemons_triggers_are_taken_over_at_once_and_it_is_marked_dead(pg_store):
    _triggers(pg_store)
    a, b = Presence(pg_store, "host:1:a"), Presence(pg_store, "host:2:b")
    try:
        for daemon_id, presence in (("host:1:a", a), ("host:2:b", b)):
            assert presence.hold()
            heartbeat(pg_store, daemon_id, "host", 1)
        now = time.time()
        assert len(claim_triggers(pg_store, "host:1:a", now=now, lease=30)) == 3
        assert claim_triggers(pg_store, "host:2:b", now=now + 1, lease=30) == []  # a is alive
        assert mark_dead(pg_store, within=30) == 0

        a.close()  # what a kill -9 of a's process does to its connection
        # the server ends a's session (and its lock) moments after the connection closes
        taken = _wait(lambda: claim_triggers(pg_store, "host:2:b", now=now + 2, lease=30))
        assert len(taken) == 3  # 28 s before a's lease would have ended
        assert mark_dead(pg_store, within=30) == 1
        assert [d.daemon_id for d in live_daemons(pg_store, within=30)] == ["host:2:b"]
    finally:
        a.close()
        b.close()


def test_presence_is_taken_again_after_its_connection_is_lost(pg_store):
    presence = Presence(pg_store, "host:3:c")
    try:
        assert presence.hold()
        presence._conn.close()  # the server restarted, say
        assert presence.hold()
        heartbeat(pg_store, "host:3:c", "host", 3)
        assert mark_dead(pg_store, within=30) == 0
    finally:
        presence.close()


def test_the_same_daemon_id_in_another_schema_is_another_daemon(pg_store, module_pg_schema_url):
    """Advisory locks belong to the database: a store in another schema of it, whose daemon has
    the same id, neither blocks this one's lock nor keeps a dead daemon of this store alive."""
    from legato.store.engine import Store

    other = Store(module_pg_schema_url)
    _triggers(pg_store)
    here, elsewhere = Presence(pg_store, "host:9:x"), Presence(other, "host:9:x")
    try:
        assert here.hold() and elsewhere.hold()
        heartbeat(pg_store, "host:9:x", "host", 9)
        now = time.time()
        assert len(claim_triggers(pg_store, "host:9:x", now=now, lease=30)) == 3

        here.close()  # this store's daemon died; its namesake in the other schema lives on
        taken = _wait(lambda: claim_triggers(pg_store, "host:8:y", now=now + 2, lease=30))
        assert len(taken) == 3
    finally:
        here.close()
        elsewhere.close()
        other.dispose()
