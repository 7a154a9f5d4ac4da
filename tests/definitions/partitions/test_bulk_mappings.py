"""Mappings over many keys at once answer what the per-key methods answer, key for key."""

from datetime import UTC, datetime

import pytest

from legato.definitions.partitions import (
    DailyPartitions,
    Dimension,
    DynamicPartitions,
    FanOut,
    Identity,
    MonthlyPartitions,
    PartitionMapping,
    PartitionSpace,
    RollUp,
    StaticPartitions,
    TimeWindow,
    WeeklyPartitions,
)
from legato.definitions.partitions.bulk import SpaceKeys, downstream_of_many, upstream_of_many

NOW = datetime(2025, 6, 1, tzinfo=UTC)
DAYS = DailyPartitions(start="2025-01-01", end="2025-05-01")
WEEKS = WeeklyPartitions(start="2025-01-06", end="2025-05-01")
MONTHS = MonthlyPartitions(start="2025-01-01", end="2025-05-01")
TENANTS = DynamicPartitions("tenants")
REGIONS = StaticPartitions(["eu", "us"], name="region")
DYNAMIC = {"tenants": ["acme", "globex", "initech"]}


def _one_by_one(
    mapping: PartitionMapping, keys: list[str], up: PartitionSpace, down: PartitionSpace
) -> list[str]:
    out: dict[str, None] = {}
    for key in keys:
        found = mapping.downstream_keys(key, up, down, now=NOW, dynamic=DYNAMIC)
        out.update(dict.fromkeys(found))
    return list(out)


CASES = [
    ("identity", Identity(), DAYS, DAYS),
    ("days into weeks", RollUp(), DAYS, WEEKS),
    ("days into months", RollUp(), DAYS, MONTHS),
    ("a week of look-back", TimeWindow(lookback=6), DAYS, DAYS),
    ("the previous day", TimeWindow(offset=-1), DAYS, DAYS),
    ("months into days", FanOut(), MONTHS, DAYS),
    ("every tenant of a day", Dimension(), TENANTS * REGIONS * DAYS, DAYS),
    ("a region's tenants", Dimension(on="region"), TENANTS * REGIONS * DAYS, REGIONS),
    ("a day for every tenant", Dimension(), DAYS, TENANTS * DAYS),
]


@pytest.mark.parametrize(
    ("mapping", "up", "down"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_downstream_of_a_range_is_the_union_of_each_keys_downstream(mapping, up, down):
    every = list(up.keys(NOW, DYNAMIC))
    for lo, hi in ((0, len(every)), (3, 40), (len(every) - 5, len(every)), (0, 1)):
        keys = every[lo:hi]
        ranged = SpaceKeys(up, keys, contiguous=up.dimension_names == ("date",))
        expected = _one_by_one(mapping, keys, up, down)
        assert sorted(downstream_of_many(mapping, ranged, up, down, now=NOW, dynamic=DYNAMIC)) == (
            sorted(expected)
        )
        assert downstream_of_many(mapping, keys, up, down, now=NOW, dynamic=DYNAMIC) == expected


@pytest.mark.parametrize(
    ("mapping", "up", "down"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_upstream_of_many_keys_is_each_keys_upstream(mapping, up, down):
    keys = list(down.keys(NOW, DYNAMIC))[:50]
    expected = [mapping.upstream_keys(k, up, down, now=NOW, dynamic=DYNAMIC) for k in keys]
    assert upstream_of_many(mapping, keys, up, down, now=NOW, dynamic=DYNAMIC) == expected


def test_identity_between_equal_spaces_hands_the_same_keys_on_unchecked():
    keys = SpaceKeys(DAYS, ["2025-01-01", "2025-01-02"], contiguous=True)
    same = DailyPartitions(start="2025-01-01", end="2025-05-01")  # equal, another object
    assert downstream_of_many(Identity(), keys, DAYS, same, now=NOW, dynamic=None) is keys
    assert keys.of(same) and not keys.of(MONTHS) and not keys.of(None)
