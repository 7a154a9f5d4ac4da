"""Tasks: a fan-out over regions, a report, and the nightly pipeline that runs it all."""

from __future__ import annotations

import legato as lg


@lg.task
def regions(revenue_by_region: dict[str, float]) -> list[str]:
    return sorted(revenue_by_region)


@lg.task(map_over="regions")
def region_summary(regions: str, revenue_by_region: dict[str, float]) -> str:
    """One step per region (a dynamic fan-out)."""
    return f"{regions}: {revenue_by_region[regions]:,.2f}"


@lg.task
def report(region_summary: list[str]) -> str:
    text = "\n".join(region_summary)
    print("revenue by region\n" + text)
    return text


nightly = lg.Pipeline(
    "nightly", select="group:sales+", tags={"team": "finance"}, retries=lg.Retry(1, delay=1.0)
)
