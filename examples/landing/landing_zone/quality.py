"""Processing pipeline two, in its own file: adding it changed nothing upstream."""

from __future__ import annotations

import legato as lg
from landing_zone.landing import TENANT_DAYS


@lg.asset(partitions=TENANT_DAYS, triggers=[lg.OnUpdate()])
def quality_report(landed: dict[str, int]) -> dict[str, bool]:
    return {"has_orders": landed.get("orders.csv", 0) > 0}
