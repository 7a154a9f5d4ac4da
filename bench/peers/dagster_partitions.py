"""Dagster on the partition counts of bench/partitions.py, for the side-by-side table.

    /tmp/peers/dagster/bin/python bench/peers/dagster_partitions.py

Measures a 1,000 x 1,000 two-dimensional space (count, membership) and the 365 days x 200 tenants
space that a backfill of one year over 200 tenants covers (listing its keys, which Dagster's
backfill planning starts from). Prints JSON.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from dagster import (
    DailyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return {
        "median_ms": statistics.median(samples) * 1000,
        "p95_ms": samples[max(0, int(len(samples) * 0.95) - 1)] * 1000,
    }


def main() -> None:
    tenants = StaticPartitionsDefinition([f"t{i:04d}" for i in range(1000)])
    days = DailyPartitionsDefinition(start_date="2020-01-01", end_date="2022-09-27")
    space = MultiPartitionsDefinition({"tenant": tenants, "date": days})
    key = MultiPartitionKey({"tenant": "t0500", "date": "2021-06-01"})
    out: dict[str, Any] = {
        "space_1m": {
            "keys": space.get_num_partitions(),
            "count": timed(space.get_num_partitions, 5),
            "contains": timed(lambda: space.has_partition_key(key), 5),
        }
    }
    year = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2025-01-01")
    two_hundred = StaticPartitionsDefinition([f"tenant{i:03d}" for i in range(200)])
    backfill_space = MultiPartitionsDefinition({"tenant": two_hundred, "date": year})
    start = time.perf_counter()
    keys = backfill_space.get_partition_keys()
    out["backfill_keys_365x200"] = {"keys": len(keys), "list_seconds": time.perf_counter() - start}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
