"""A landing zone on a fresh store, as a user sets it up: batches of several tenants with many
files arrive; every complete batch becomes one run, on PostgreSQL (which enforces column
lengths) as on SQLite."""

from __future__ import annotations

from journey import Journey, wait_until

PROJECT = """
    from pathlib import Path
    import legato as lg

    tenants = lg.DynamicPartitions("tenant")

    @lg.asset(
        partitions=tenants,
        triggers=[
            lg.FileArrival(
                path="landing",
                pattern="{tenant}/{batch}/*.csv",
                dynamic_set="tenant",
                partition="{tenant}",
                stable_for=1,
            )
        ],
    )
    def raw(context) -> int:
        return len(context.run_config["files"])
"""


def _drop(journey: Journey, tenant: str, batch: str, files: int) -> None:
    folder = journey.dir / "landing" / tenant / batch
    folder.mkdir(parents=True)
    for i in range(files):
        tmp = folder / f".part-{i}.tmp"
        tmp.write_text("id\n1\n")
        tmp.rename(folder / f"a-rather-long-file-name-for-the-orders-export-{i:04d}.csv")


def test_batches_of_many_files_become_runs_on_a_fresh_store(journey: Journey) -> None:
    journey.write({"pipes.py": PROJECT})
    tenants = ["acme", "globex", "initech", "umbrella"]
    for batch in ("b1", "b2", "b3"):
        for tenant in tenants:
            _drop(journey, tenant, batch, files=8)
    journey.daemon()
    from legato.store.runs import list_runs

    def succeeded() -> int:
        return sum(r.status.value == "succeeded" for r in list_runs(journey.store(), limit=100))

    wait_until(lambda: succeeded() >= 12, timeout=120, what="12 batch runs to succeed")
    ticks = journey.ok("automation", "ticks").stdout
    assert "StringDataRightTruncation" not in ticks and "error" not in ticks.lower(), ticks
