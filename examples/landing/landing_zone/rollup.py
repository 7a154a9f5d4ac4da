"""The per-day roll-up across tenants: it runs once every tenant's billing of the day is done."""

from __future__ import annotations

import legato as lg
from landing_zone.landing import days


@lg.asset(
    partitions=days,
    triggers=[lg.OnUpdate()],
    ins={"billable_orders": lg.Dep("billable_orders", mapping=lg.Dimension(on="date"))},
)
def daily_billing(billable_orders: dict[str, int]) -> int:
    return sum(billable_orders.values())
