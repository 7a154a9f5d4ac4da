"""The landing-zone example through the real daemon: files land per tenant, complete batches are
archived and requested, two pipelines follow by OnUpdate, and a per-day roll-up across tenants
runs when its inputs are complete. A directory that cannot be a tenant is refused alone and moved
to quarantine. Onboarding a tenant is config and files, not code."""

import shutil
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from legato.definitions.io import IOContext
from legato.definitions.keys import StepKey
from legato.execution.io.fs import FilesystemIOManager
from legato.store import schema
from legato.store.automation import list_ticks
from legato.store.engine import Store
from legato.store.partitions import dynamic_keys
from legato_process import start_daemon, stop_daemon
from polling import poller

EXAMPLE = Path(__file__).parents[2] / "examples" / "landing"


_wait = poller(timeout=90.0, interval=0.1)


def _drop(root: Path, tenant: str, day: str, name: str, rows: int) -> None:
    folder = root / "landing" / tenant / day
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text("id\n" + "".join(f"{i}\n" for i in range(rows)))
    tmp.rename(folder / name)  # files appear whole, as a landing zone's uploader would make them


def _value(root: Path, asset: str, partition: str):
    io = FilesystemIOManager(root / ".legato" / "storage")
    context = IOContext(StepKey(asset, partition), "-", asset)
    return io.load(context) if io.exists(context) else None


def _materializations(store: Store) -> Counter:
    m = schema.materializations.c
    with store.read() as conn:
        return Counter(
            (r.asset_key, r.partition) for r in conn.execute(select(m.asset_key, m.partition))
        )


def test_landing_zone_end_to_end_through_the_daemon(tmp_path):
    root = tmp_path / "landing"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".legato", "__pycache__"))
    daemon = start_daemon(root, "--interval", "0.1", "--lease", "5")
    try:
        db = root / ".legato" / "legato.db"
        store = _wait(lambda: db.exists() and Store(f"sqlite:///{db}"), what="the store")
        _drop(root, "acme", "2025-03-01", "orders.csv", 3)  # acme also owes items.csv
        _wait(
            lambda: any(
                "waiting for ['items.csv']" in (t.reason or "")
                for t in list_ticks(store, limit=200)
            ),
            what="the incomplete batch",
        )
        assert _value(root, "landed", "tenant=acme,date=2025-03-01") is None
        _drop(root, "globex", "2025-03-01", "orders.csv", 2)
        _drop(root, "north,east", "2025-03-01", "orders.csv", 1)  # ',' separates key parts
        _drop(root, "acme", "2025-03-01", "items.csv", 7)
        _wait(lambda: _value(root, "daily_billing", "2025-03-01") == 5, what="the roll-up")
        [refused] = _wait(
            lambda: list((root / "quarantine").glob("*/refused.txt")), what="the quarantine"
        )
        assert "cannot be a partition key: tenant 'north,east'" in refused.read_text()
        assert (refused.parent / "north,east" / "2025-03-01" / "orders.csv").exists()
        assert not (root / "landing" / "north,east").exists()
        reasons = [t.reason or "" for t in list_ticks(store, limit=500)]
        assert len([r for r in reasons if "refused 'north,east/2025-03-01'" in r]) == 1
        assert _value(root, "landed", "tenant=acme,date=2025-03-01") == {
            "orders.csv": 3,
            "items.csv": 7,
        }
        assert _value(root, "quality_report", "tenant=globex,date=2025-03-01") == {
            "has_orders": True
        }
        assert sorted(dynamic_keys(store, "tenant")) == ["acme", "globex"]
        archived = sorted(p.name for p in (root / "archive").rglob("*.csv"))
        assert archived == ["items.csv", "orders.csv", "orders.csv"]

        # onboarding: config and files, no code
        with open(root / "tenants.toml", "a") as f:
            f.write('\n[initech]\nfiles = ["orders.csv", "refunds.csv"]\n')
        _drop(root, "initech", "2025-03-01", "orders.csv", 4)
        _drop(root, "initech", "2025-03-01", "refunds.csv", 1)
        _wait(lambda: _value(root, "daily_billing", "2025-03-01") == 9, what="the new tenant")
        assert sorted(dynamic_keys(store, "tenant")) == ["acme", "globex", "initech"]
        counts = _materializations(store)
        for asset in ("landed", "billable_orders", "quality_report"):
            for tenant in ("acme", "globex", "initech"):
                assert counts[(asset, f"tenant={tenant},date=2025-03-01")] == 1, (asset, tenant)
    finally:
        stop_daemon(daemon)
