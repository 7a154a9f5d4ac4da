"""The store's dynamic lookup knows when each key was added, on both backends."""

from datetime import UTC, datetime

from legato.store.partitions import add_dynamic_keys, dynamic_lookup


def test_keys_as_of_a_time_are_those_added_by_then(store):
    jan = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    add_dynamic_keys(store, "tenant", ["acme"], at=jan)
    add_dynamic_keys(store, "tenant", ["globex"], at=jan + 86400 * 10)
    lookup = dynamic_lookup(store)
    assert list(lookup("tenant")) == ["acme", "globex"]
    assert list(lookup.as_of("tenant", datetime(2025, 1, 2, tzinfo=UTC))) == ["acme"]
    assert list(lookup.as_of("tenant", datetime(2025, 1, 11, tzinfo=UTC))) == ["acme", "globex"]
    assert list(lookup.as_of("tenant", datetime(2024, 12, 31, tzinfo=UTC))) == []
