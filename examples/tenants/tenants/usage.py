"""Usage per tenant and day; onboarding a tenant is `legato partitions add tenants NAME`."""

from __future__ import annotations

import hashlib

import legato as lg

tenants = lg.DynamicPartitions("tenants")
days = lg.DailyPartitions(start="2025-01-01", timezone="Europe/Berlin")
months = lg.MonthlyPartitions(start="2025-01-01", timezone="Europe/Berlin")


@lg.asset(group="usage", partitions=tenants * days)
def usage(context) -> dict[str, int]:
    """API calls of one tenant on one day (deterministic stand-in for a real extract)."""
    digest = hashlib.sha256(context.partition_key.encode()).digest()
    return {"calls": digest[0] * 10 + digest[1], "errors": digest[2] % 7}


@lg.asset(
    group="usage", partitions=days, ins={"usage": lg.Dep("usage", mapping=lg.Dimension(on="date"))}
)
def daily_usage(usage: dict[str, dict[str, int]]) -> dict[str, int]:
    """All tenants of one day (a fan-in over the tenants dimension)."""
    return {"tenants": len(usage), "calls": sum(u["calls"] for u in usage.values())}


@lg.asset(group="usage", partitions=months)
def monthly_report(daily_usage: dict[str, dict[str, int]]) -> dict[str, int]:
    """Every day of a month (the roll-up from days to months is inferred)."""
    return {"days": len(daily_usage), "calls": sum(d["calls"] for d in daily_usage.values())}
