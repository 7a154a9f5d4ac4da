"""A listing of backfills counts their keys and run groups in the database instead of reading
them, and shows what the full record shows."""

from __future__ import annotations

from legato.store.backfills import PlanRequest, create_backfill, get_backfill, list_backfills
from legato.store.engine import Store
from legato.store.web_queries import backfills_page


def test_a_listing_shows_the_counts_and_ends_the_full_record_has(store: Store) -> None:
    keys = [f"tenant={i % 7},date=2025-01-{i % 28 + 1:02d}" for i in range(2_000)]
    groups = [{"keys": keys[i : i + 10]} for i in range(0, len(keys), 10)]
    create_backfill(store, "planned", "usage+", keys, groups, max_concurrent=2,
                    missing_only=False, executor="process")  # fmt: skip
    create_backfill(store, "asked", "usage+", [], None, max_concurrent=1, missing_only=True,
                    executor="process", request=PlanRequest(range=("2025-01-01", "2025-01-31")))  # fmt: skip
    create_backfill(store, "empty", "usage+", [], [], max_concurrent=1, missing_only=False,
                    executor="process")  # fmt: skip
    for listed in (list_backfills(store), backfills_page(store)):
        assert {r.backfill_id for r in listed} == {"planned", "asked", "empty"}
        for record in listed:
            full = get_backfill(store, record.backfill_id)
            assert record.keys == () and record.groups == ()  # not read
            assert (record.key_count, record.group_count) == (len(full.keys), len(full.groups))
            assert (record.first_key, record.last_key) == (full.first_key, full.last_key)
            assert (record.planned, record.request) == (full.planned, full.request)
            assert (record.status, record.tags, record.missing_only) == (
                full.status, full.tags, full.missing_only,
            )  # fmt: skip
    planned = next(r for r in list_backfills(store) if r.backfill_id == "planned")
    assert (planned.key_count, planned.group_count) == (2_000, 200)
    assert (planned.first_key, planned.last_key) == (keys[0], keys[-1])
