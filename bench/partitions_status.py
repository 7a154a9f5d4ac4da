"""``legato partitions status`` at a million touched keys, as a user runs it.

    python bench/partitions_status.py [--touched 1000000] [--database-url URL] [--repeat 3]
    git worktree add /tmp/before <commit>
    python bench/partitions_status.py --src /tmp/before/src --src src    # two versions, interleaved

A project of two assets over 1,000 tenants x 1,000 days (``events``, and ``cleaned`` reading the
same key of ``events``); ``--touched`` rows per asset are inserted in bulk into ``asset_latest``
of a fresh store (a temporary SQLite file, or a new schema of ``--database-url``, dropped after),
with the counts by status kept as the store keeps them (``latest_counts.add_changes``): 1 % failed,
1 % in progress, and 1,000 keys of ``events`` materialized again after ``cleaned`` (so 1,000
keys of ``cleaned`` are stale). On PostgreSQL the table is then vacuumed and analyzed,
as autovacuum does after a bulk load (``--no-vacuum``: measure before it has). Each measurement
runs the command in a fresh process (its imports done before): CPU (``time.process_time``), wall
time and the peak RSS it added.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from fresh_store import fresh_store_url

PROJECT = """
    import legato as lg

    tenants = lg.StaticPartitions([f"t{i:04d}" for i in range(1000)], name="tenant")
    days = lg.DailyPartitions(start="2020-01-01", end="2022-09-27")  # 1,000 days

    @lg.asset(partitions=tenants * days)
    def events() -> int:
        return 1

    @lg.asset(partitions=tenants * days)
    def cleaned(events: int) -> int:
        return events
"""


def fill(url: str, touched: int, vacuum: bool = True) -> None:
    from sqlalchemy import text

    from legato.store import schema
    from legato.store.engine import Store
    from legato.store.latest_counts import add_changes, status_changes

    store = Store(url)
    now = time.time()

    def rows(asset: str, first: int, count: int, later: float) -> list[dict[str, Any]]:
        out = []
        for i in range(first, first + count):
            status = "failed" if i % 100 == 1 else "in_progress" if i % 100 == 2 else "materialized"
            at = now + (later if i < 1000 else 0.0)
            out.append(
                {
                    "asset_key": asset,
                    "partition": _key(i),
                    "status": status,
                    "run_id": "r",
                    "step_key": f"{asset}[{i}]",
                    "ts": at,
                    "materialized_at": None if status != "materialized" else at,
                    "materialized_run": "r",
                    "metadata": "{}",
                }
            )
        return out

    with store.transaction() as conn:
        for asset, later in (("events", 10.0), ("cleaned", 1.0)):
            for first in range(0, touched, 10_000):
                chunk = rows(asset, first, min(10_000, touched - first), later)
                conn.execute(schema.asset_latest.insert(), chunk)
                add_changes(conn, status_changes((asset, None, r["status"]) for r in chunk))
    if not store.is_sqlite and vacuum:  # what autovacuum does after a bulk load
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE asset_latest"))
    store.dispose()


_DAYS: list[str] = []


def _key(i: int) -> str:
    if not _DAYS:
        import legato as lg

        space = lg.DailyPartitions(start="2020-01-01", end="2022-09-27")
        _DAYS.extend(space.keys())
    return f"tenant=t{i // 1000:04d},date={_DAYS[i % 1000]}"


def child(root: Path, asset: str) -> None:
    from click.testing import CliRunner

    import legato.cli.partitions  # noqa: F401 - imports are not what is measured
    from legato.cli.main import cli

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu, wall = time.process_time(), time.perf_counter()
    result = CliRunner().invoke(cli, ["--project", str(root), "partitions", "status", asset])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    added = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss
    if result.exit_code != 0:
        raise SystemExit(result.output)
    summary = result.output.splitlines()[1].strip()
    print(json.dumps({"cpu": cpu, "wall": wall, "rss_added_mb": added / 1024, "said": summary}))


def measure(root: Path, url: str, asset: str, src: str | None) -> dict[str, Any]:
    import os

    env = {**os.environ, "LEGATO_DATABASE_URL": url}
    if src is not None:
        env["PYTHONPATH"] = src
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(root), asset],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"status {asset} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--touched", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (a fresh schema)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--src", action="append", help="a source tree to measure (repeatable)")
    parser.add_argument(
        "--no-vacuum", action="store_true", help="PostgreSQL: measure before autovacuum ran"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    import legato

    print(f"legato from {Path(legato.__file__).parent}", file=sys.stderr)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="legato-status-bench-") as tmp:
        root = Path(tmp)
        (root / "legato.toml").write_text('modules = ["status_bench"]\n')
        (root / "status_bench.py").write_text(textwrap.dedent(PROJECT))
        with fresh_store_url(args.database_url, root) as url:
            start = time.perf_counter()
            fill(url, args.touched, vacuum=not args.no_vacuum)
            print(
                f"inserted 2 x {args.touched:,} rows in {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )
            sources = args.src or [None]
            runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for _ in range(args.repeat):  # rounds of every cell: load spreads over all alike
                for src in sources:
                    for asset in ("events", "cleaned"):
                        found = measure(root, url, asset, src)
                        runs.setdefault((str(src or "installed"), asset), []).append(found)
                        print(src or "installed", asset, json.dumps(found), file=sys.stderr)
    for (src, asset), found in runs.items():
        results[f"{src} {asset}"] = {
            "said": found[0]["said"],
            "cpu_s": round(statistics.median(r["cpu"] for r in found), 3),
            "wall_s": round(statistics.median(r["wall"] for r in found), 3),
            "rss_added_mb": round(max(r["rss_added_mb"] for r in found), 1),
            "samples_cpu": [round(r["cpu"], 3) for r in found],
        }
    results["store"] = "postgresql" if args.database_url else "sqlite"
    results["touched"] = args.touched
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
