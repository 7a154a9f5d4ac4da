"""Redis Streams: a consumer that died with pending entries hands them to a live one (XAUTOCLAIM)."""

from __future__ import annotations

import json

from message_brokers import RedisBroker, consume_until

from legato.definitions.messages import OnMessage
from legato.integrations.brokers import open_source


def test_entries_pending_with_a_dead_consumer_are_claimed_with_the_same_ids(
    redis_broker: RedisBroker,
) -> None:
    dead = open_source(redis_broker.spec(consumer="a"))
    dead.connect()
    redis_broker.publish([json.dumps({"n": n}).encode() for n in range(3)])
    taken = dead.fetch(3, 5.0)
    assert len(taken) == 3
    dead.close()  # died holding three pending entries

    spec = redis_broker.spec(consumer="b", claim_after=0.2)
    live = open_source(spec)
    live.connect()
    claimed = consume_until(live, OnMessage(spec, batch=3), 3)
    live.close()

    assert [m.id for m, _ in claimed] == [m.id for m in taken]
    assert all(m.deliveries == 2 for m, _ in claimed)
    assert redis_broker.redis.xpending(redis_broker.stream, "legato")["pending"] == 0


def test_a_restarted_consumer_reads_its_own_pending_entries_first(
    redis_broker: RedisBroker,
) -> None:
    spec = redis_broker.spec(consumer="same")
    source = open_source(spec)
    source.connect()
    redis_broker.publish([b'{"n": 1}', b'{"n": 2}'])
    before = source.fetch(1, 5.0)
    source.close()

    source.connect()
    after = consume_until(source, OnMessage(spec, batch=2), 2)
    source.close()
    assert after[0][0].id == before[0].id and after[0][0].deliveries == 2
    assert after[1][0].deliveries == 1


def test_an_entry_without_a_body_field_becomes_a_json_object(redis_broker: RedisBroker) -> None:
    spec = redis_broker.spec()
    source = open_source(spec)
    source.connect()
    redis_broker.redis.xadd(redis_broker.stream, {"tenant": "acme", "day": "2024-05-01"})
    ((message, request),) = consume_until(source, OnMessage(spec), 1)
    source.close()
    assert request.config == {"tenant": "acme", "day": "2024-05-01"}
    assert message.headers == {}
