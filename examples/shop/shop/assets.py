"""Orders and customers, cleaned and joined. Dependencies come from parameter names."""

from __future__ import annotations

import random
from typing import Literal, TypedDict

import msgspec

import legato as lg
from shop.resources import Warehouse

warehouse = Warehouse()


class Order(TypedDict):
    """One order as the shop front exports it: raw_orders' contract (docs/contracts.md)."""

    id: int
    customer: int
    amount: float
    region: Literal["eu", "us", "apac"]


@lg.asset(group="sales", retries=lg.Retry(3, delay=0.2, backoff=2.0), timeout=60)
def raw_orders() -> list[Order]:
    """Orders as exported by the shop front (here: generated), each checked against Order
    before it is stored."""
    rng = random.Random(42)
    return [
        {
            "id": i,
            "customer": rng.randrange(50),
            "amount": round(rng.uniform(-20, 200), 2),
            "region": rng.choice(["eu", "us", "apac"]),
        }
        for i in range(2_000)
    ]


@lg.asset(group="sales")
def customers() -> dict[int, str]:
    """Customer names by id."""
    return {i: f"customer-{i:03d}" for i in range(50)}


class CleanConfig(msgspec.Struct):
    """How clean_orders filters; set per run with --config '{"clean_orders": {...}}'."""

    min_amount: float = 0.0  # orders of at most this amount are dropped


@lg.asset(
    group="sales",
    checks=[  # run right after each materialization; a failing blocking one stops downstream
        lg.checks.unique("id", blocking=True),
        lg.checks.accepted_values("region", ["eu", "us", "apac"], blocking=True),
        # No order left (a min_amount above every order, say): revenue_by_region is skipped, so
        # the warehouse keeps its last export instead of an empty one (docs/checks.md).
        lg.checks.row_count(min=1, blocking=True),
    ],
)
def clean_orders(
    raw_orders: list[Order], customers: dict[int, str], context, config: CleanConfig
) -> list[dict]:
    """Orders above the minimum amount with a known customer."""
    kept = [
        dict(o, customer_name=customers[o["customer"]])
        for o in raw_orders
        if o["amount"] > config.min_amount and o["customer"] in customers
    ]
    context.log.info("kept %d of %d orders", len(kept), len(raw_orders))
    return kept


@lg.check(asset="clean_orders", blocking=True)
def amounts_above_minimum(clean_orders: list[dict], config: CleanConfig) -> lg.CheckResult:
    """No order at or below the minimum amount got through."""
    low = [o["id"] for o in clean_orders if o["amount"] <= config.min_amount]
    return lg.CheckResult(passed=not low, metadata={"below_minimum": len(low), "ids": low[:5]})


@lg.asset(
    group="sales",
    tags={"team": "finance"},
    freshness=lg.Freshness(deadline="06:00", timezone="Europe/Paris"),  # for the morning report
)
def revenue_by_region(clean_orders: list[dict], warehouse: Warehouse) -> dict[str, float]:
    """Revenue per region, also exported to the warehouse."""
    totals: dict[str, float] = {}
    for order in clean_orders:
        totals[order["region"]] = round(totals.get(order["region"], 0.0) + order["amount"], 2)
    warehouse.write("revenue_by_region", [{"region": r, "revenue": v} for r, v in totals.items()])
    return totals
