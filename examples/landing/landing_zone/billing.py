"""Processing pipeline one: it subscribes to landed batches; the sensor knows nothing of it."""

from __future__ import annotations

import legato as lg
from landing_zone.landing import TENANT_DAYS


@lg.asset(partitions=TENANT_DAYS, triggers=[lg.OnUpdate()])
def billable_orders(landed: dict[str, int]) -> int:
    return landed.get("orders.csv", 0)
