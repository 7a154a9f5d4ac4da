"""Deliver sample batches to ``landing/`` as the tenants' uploaders would (each file written
beside its place, then renamed into it): ``python deliver.py`` or ``python deliver.py --late``.

Without options: acme (orders and items) and globex (orders) for 2025-03-01, and a directory
named ``north,east`` that cannot be a tenant (``,`` separates the parts of a partition key): the
daemon refuses it alone and moves it to ``quarantine/``. With ``--late``: initech, a tenant
onboarded after the others (it is added to ``tenants.toml`` first: onboarding is config and
files, not code).
"""

from __future__ import annotations

import sys
from pathlib import Path

DAY = "2025-03-01"


def deliver(tenant: str, name: str, rows: int) -> None:
    folder = Path("landing") / tenant / DAY
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text("id\n" + "".join(f"{i}\n" for i in range(rows)))
    tmp.rename(folder / name)


def main(late: bool) -> None:
    if not late:
        deliver("acme", "orders.csv", 3)
        deliver("acme", "items.csv", 7)
        deliver("globex", "orders.csv", 2)
        deliver("north,east", "orders.csv", 1)
        return
    tenants = Path("tenants.toml")
    if "[initech]" not in tenants.read_text():
        with tenants.open("a") as f:
            f.write('\n[initech]\nfiles = ["orders.csv", "refunds.csv"]\n')
    deliver("initech", "orders.csv", 4)
    deliver("initech", "refunds.csv", 1)


if __name__ == "__main__":
    main("--late" in sys.argv[1:])
