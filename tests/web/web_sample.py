"""A small project for the web tests: a sales chain, a task, a failing asset, and hostile text."""

from __future__ import annotations

import legato as lg
from legato.definitions.project import Project

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


@lg.asset(group="sales", description="Orders as the shop exports them.", owners=["data@shop"])
def raw_orders(context: lg.StepContext) -> list[dict[str, int]]:
    context.log.info("fetched 3 orders")
    print("log line with markup:", XSS)
    return [{"id": 1, "amount": 5}, {"id": 2, "amount": -1}, {"id": 3, "amount": 7}]


@lg.asset(group="sales", description=f"Positive orders only. {XSS} {{{{ 7*7 }}}}")
def clean_orders(raw_orders: list[dict[str, int]]) -> list[dict[str, int]]:
    return [o for o in raw_orders if o["amount"] > 0]


@lg.task(group="sales")
def report(clean_orders: list[dict[str, int]]) -> str:
    print(f"{len(clean_orders)} orders")
    return f"{len(clean_orders)} orders"


@lg.asset(group="risky", tags={"tier": "bronze"})
def broken(context: lg.StepContext) -> int:
    context.log.error("about to fail")
    raise ValueError("boom")


nightly = lg.Pipeline("nightly", select="group:sales", tags={"team": "finance"})
STEPS = [raw_orders, clean_orders, report, broken]


def project() -> Project:
    return Project.of(STEPS, [nightly])
