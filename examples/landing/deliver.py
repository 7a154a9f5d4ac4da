"""Deliver sample batches to ``landing/`` as the tenants' uploaders would (each file written
beside its place, then renamed into it): ``python deliver.py``, ``python deliver.py --late`` or
``python deliver.py --slow``.

Without options: acme (orders and items) and globex (orders) for 2025-03-01, and a directory
named ``north,east`` that cannot be a tenant (``,`` separates the parts of a partition key): the
daemon refuses it alone and moves it to ``quarantine/``. With ``--late``: initech, a tenant
onboarded after the others (it is added to ``tenants.toml`` first: onboarding is config and
files, not code). With ``--slow``: umbrella's uploader writes its file in place, a line every
0.2 s for 4 s, as a slow network copy does; the trigger takes the batch only once the file has
stayed unchanged for ``stable_for`` (5 s), so the run reads all 20 rows, never a part.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

DAY = "2025-03-01"


def deliver(tenant: str, name: str, rows: int) -> None:
    folder = Path("landing") / tenant / DAY
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text("id\n" + "".join(f"{i}\n" for i in range(rows)))
    tmp.rename(folder / name)


def deliver_slowly(tenant: str, name: str, rows: int, pause: float = 0.2) -> None:
    folder = Path("landing") / tenant / DAY
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "w") as f:  # in place, no rename: visible while it grows
        f.write("id\n")
        for i in range(rows):
            f.write(f"{i}\n")
            f.flush()
            time.sleep(pause)


def main(late: bool, slow: bool) -> None:
    if slow:
        deliver_slowly("umbrella", "orders.csv", 20)
        return
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
    main(late="--late" in sys.argv[1:], slow="--slow" in sys.argv[1:])
