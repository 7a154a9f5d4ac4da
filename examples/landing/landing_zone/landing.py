"""Raw batches: one partition per tenant and day, requested by the file-arrival trigger.

A tenant's directory must be a valid partition key: one named ``north,east`` (``,`` separates the
parts of a key) is refused, moved to ``quarantine/`` and said once in ``legato automation
ticks``, while the other tenants' batches run.
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import legato as lg

tenants = lg.DynamicPartitions("tenant")
days = lg.DailyPartitions(start="2025-01-01")
TENANT_DAYS = tenants * days


def expected_files(fields: dict[str, str]) -> list[str]:
    """The files a tenant's batch must contain, from tenants.toml (unknown tenants: orders.csv)."""
    config = tomllib.loads(Path("tenants.toml").read_text())
    return list(config.get(fields["tenant"], {}).get("files", ["orders.csv"]))


arrivals = lg.FileArrival(
    path="landing",
    pattern="{tenant}/{date}/*.csv",
    expected=expected_files,
    # stable_for=5 (the default): a batch is taken once its files stayed unchanged for 5 s
    archive_to="archive/{tenant}/{date}/{ts}/",  # each batch copied once; {ts}: when it arrived
    quarantine_to="quarantine",  # a batch that can never run goes there, with refused.txt
    dynamic_set="tenant",
    partition="tenant={tenant},date={date}",
    interval=0.5,
)


@lg.asset(partitions=TENANT_DAYS, triggers=[arrivals])
def landed(context) -> dict[str, int]:
    """Row counts of each file of the batch (read from the archived copies)."""
    counts = {}
    for name in context.run_config["files"]:
        with open(name, newline="") as f:
            counts[Path(name).name] = sum(1 for _ in csv.DictReader(f))
    return counts
