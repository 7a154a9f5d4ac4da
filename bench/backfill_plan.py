"""CPU time of planning a backfill, as ``legato backfill ... --dry-run`` does it and through the
Python planning function alone.

    python bench/backfill_plan.py [--cases daily,product,product_1k] [--repeat 3] [--profile CASE]
    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before/src python bench/backfill_plan.py         # the same cases, before

Cases (each in a generated project with a fresh SQLite store in a temporary directory):

* ``daily``: ``raw`` (daily, 100,000 windows) → ``clean`` (same days); ``--from`` the first day
  ``--to`` the last: 100,000 keys, 100,000 runs of two steps.
* ``product``: ``usage`` over 100 tenants x 1,000 days → ``daily`` (all tenants of a day);
  ``--from``/``--to`` over the 1,000 days: 100,000 keys, 101,000 runs.
* ``product_1k``: the same assets over 500 tenants x ~3,600 days (1.8 million keys), two days
  asked for: 1,000 keys, 1,002 runs.

Each measurement runs in a fresh process (caches start empty, as for a command): CPU is its
``time.process_time()`` around the command, the CLI's modules imported before. No assertions:
figures and targets are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CASES: dict[str, dict[str, Any]] = {
    "daily": {
        "project": """
            import legato as lg

            days = lg.DailyPartitions(start="1801-01-01", end="2074-10-16", end_offset=20000)

            @lg.asset(partitions=days)
            def raw() -> int:
                return 1

            @lg.asset(partitions=days)
            def clean(raw: int) -> int:
                return raw
        """,
        "tenants": 0,
        "args": ["raw+", "--from", "1801-01-01", "--to", "2074-10-15"],
    },
    "product": {
        "project": """
            import legato as lg

            days = lg.DailyPartitions(start="2020-01-01", end="2022-09-27")
            tenants = lg.DynamicPartitions("tenants")

            @lg.asset(partitions=tenants * days)
            def usage() -> int:
                return 1

            @lg.asset(partitions=days)
            def daily(usage: dict[str, int]) -> int:
                return sum(usage.values())
        """,
        "tenants": 100,
        "args": ["usage+", "--from", "2020-01-01", "--to", "2022-09-26"],
    },
    "product_1k": {
        "project": """
            import legato as lg

            days = lg.DailyPartitions(start="2016-01-01", end="2025-11-01")
            tenants = lg.DynamicPartitions("tenants")

            @lg.asset(partitions=tenants * days)
            def usage() -> int:
                return 1

            @lg.asset(partitions=days)
            def daily(usage: dict[str, int]) -> int:
                return sum(usage.values())
        """,
        "tenants": 500,
        "args": ["usage+", "--from", "2024-01-01", "--to", "2024-01-02"],
    },
}


def make_project(root: Path, name: str, case: dict[str, Any]) -> None:
    # a module name per case: the modules of the cases before stay imported in this process
    (root / "legato.toml").write_text(f'modules = ["flow_{name}"]\n')
    (root / f"flow_{name}.py").write_text(textwrap.dedent(case["project"]))
    if case["tenants"]:
        from legato.store.engine import Store
        from legato.store.partitions import add_dynamic_keys

        store = Store(f"sqlite:///{root}/.legato/legato.db")
        add_dynamic_keys(store, "tenants", [f"t{i:04d}" for i in range(case["tenants"])], at=0)
        store.dispose()


def cli_dry_run(root: Path, args: list[str]) -> Callable[[], str]:
    from click.testing import CliRunner

    from legato.cli.main import cli

    def run() -> str:
        result = CliRunner().invoke(cli, ["--project", str(root), "backfill", *args, "--dry-run"])
        if result.exit_code != 0:
            raise SystemExit(f"legato backfill failed: {result.output}")
        return result.output.splitlines()[0] if result.output else ""

    return run


def plan_only(root: Path, args: list[str]) -> Callable[[], str]:
    """The planning function alone: range → keys → plan (the project loaded beforehand)."""
    from legato.graph.backfill import plan_backfill
    from legato.graph.build import build_graph
    from legato.graph.plan import partition_range
    from legato.graph.select import select
    from legato.loader.config import load_settings
    from legato.loader.modules import load_project
    from legato.store.engine import Store
    from legato.store.partitions import dynamic_lookup

    settings = load_settings(root)
    graph = build_graph(load_project(settings).project)
    store = Store(settings.database_url)
    nodes = select(graph, [args[0]])

    def run() -> str:
        dynamic = dynamic_lookup(store)
        keys = partition_range(graph, nodes, args[2], args[4], dynamic=dynamic)
        plan = plan_backfill(graph, nodes, keys, dynamic=dynamic)
        return f"{len(keys):,} key(s) → {len(plan.groups):,} run(s)"

    return run


def child(kind: str, root: Path, name: str, profile: bool) -> None:
    """One measurement in a fresh process, as a command would run: caches start empty."""
    import legato.cli.backfill  # noqa: F401 - imports are not what is measured

    fn = (cli_dry_run if kind == "cli" else plan_only)(root, CASES[name]["args"])
    profiler = cProfile.Profile() if profile else None
    start = time.process_time()
    said = fn() if profiler is None else profiler.runcall(fn)
    seconds = time.process_time() - start
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
    print(json.dumps({"cpu": seconds, "said": said}))


def measure(kind: str, root: Path, name: str, profile: bool = False) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(root), name]
        + (["--profile", name] if profile else []),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} {name} failed:\n{done.stdout}\n{done.stderr}")
    if profile:
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", metavar="CASE", help="cProfile the dry run of CASE")
    parser.add_argument("--json", default=None)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, root, name = args.child
        child(kind, Path(root), name, args.profile == name)
        return
    import legato

    print(f"legato from {Path(legato.__file__).parent}", file=sys.stderr)
    results: dict[str, Any] = {}
    for name in args.cases.split(","):
        with tempfile.TemporaryDirectory(prefix="legato-plan-bench-") as tmp:
            root = Path(tmp)
            make_project(root, name, CASES[name])
            if args.profile == name:
                measure("cli", root, name, profile=True)
            cli = [measure("cli", root, name) for _ in range(args.repeat)]
            plan = [measure("plan", root, name) for _ in range(args.repeat)]
        results[name] = {
            "dry_run": cli[0]["said"],
            "planned": plan[0]["said"],
            "cli_cpu_s": round(statistics.median(m["cpu"] for m in cli), 3),
            "plan_cpu_s": round(statistics.median(m["cpu"] for m in plan), 3),
            "samples": {
                "cli": [round(m["cpu"], 3) for m in cli],
                "plan": [round(m["cpu"], 3) for m in plan],
            },
        }
        print(name, json.dumps(results[name]), file=sys.stderr)
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
