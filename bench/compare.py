"""Legato and its peers side by side, in ONE interleaved run: W0-W3 wall time, peak RSS and
per-step overhead, and the ratio of each peer's per-step overhead to Legato's.

    bash bench/peers/setup.sh                       # once: throwaway venvs for the peers
    python3 bench/compare.py                        # 5 runs per cell (about 25 minutes)
    python3 bench/compare.py --runs 3 --only dagster,luigi,prefect --workloads W0,W3

Legato runs bench/legato_workloads.py with a durable SQLite store on each executor, plus the
whole `legato run` command for a one-step project and `import legato`. Results go to
bench/results/compare-<date>.json; the Markdown table printed at the end is what
docs/benchmarks.md records.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "peers")]

import harness  # noqa: E402
import run_peers  # noqa: E402
import workloads  # noqa: E402

REPO = HERE.parent
LEGATO_PYTHON = REPO / ".venv" / "bin" / "python"
EXECUTORS = ("inprocess", "threads", "process")


def legato_commands(names: list[str], timeout: float) -> list[harness.Command]:
    cmds = [
        harness.Command(
            name="import/legato",
            argv=[str(LEGATO_PYTHON), "-c", "import legato"],
            cwd=str(REPO),
            timeout=timeout,
            meta={"peer": "legato", "mode": "import", "workload": None, "steps": 0},
        )
    ]
    project = Path(tempfile.mkdtemp(prefix="legato-cli-bench-"))
    (project / "legato.toml").write_text('modules = ["one"]\n')
    (project / "one.py").write_text(
        textwrap.dedent("""
        import legato as lg

        @lg.task
        def only() -> None:
            return None
    """)
    )
    cmds.append(
        harness.Command(
            name="legato/cli-run/W0",
            argv=[str(LEGATO_PYTHON), "-m", "legato", "run", "only"],
            cwd=str(project),
            timeout=timeout,
            setup=[[str(LEGATO_PYTHON), "-m", "legato", "run", "only"]],
            meta={"peer": "legato", "mode": "cli-run", "workload": "W0", "steps": 1},
        )
    )
    for executor in EXECUTORS:
        for name in names:
            argv = [
                str(LEGATO_PYTHON),
                str(HERE / "legato_workloads.py"),
                "--workload",
                name,
                "--executor",
                executor,
                "--style",
                "map",
            ]
            cmds.append(
                harness.Command(
                    name=f"legato/{executor}/{name}",
                    argv=argv,
                    cwd=str(REPO),
                    timeout=timeout,
                    setup=[[*argv[:3], "W0", "--executor", executor]],
                    meta={
                        "peer": "legato",
                        "mode": executor,
                        "workload": name,
                        "steps": workloads.get(name).steps,
                    },
                )
            )
    return cmds


def per_step(results: list[harness.Result]) -> dict[str, float]:
    """(median wall Wk - median wall W0) / (steps - 1), per peer and mode."""
    wall = {(r.meta["peer"], r.meta["mode"], r.meta["workload"]): r.median_wall_s for r in results}
    out = {}
    for (peer, mode, name), value in wall.items():
        base = wall.get((peer, mode, "W0"))
        if name in (None, "W0") or base is None:
            continue
        out[f"{peer}/{mode}/{name}"] = (value - base) / (workloads.get(name).steps - 1) * 1000
    return out


def markdown(results: list[harness.Result], overhead: dict[str, float]) -> str:
    lines = [
        "| cell | median wall (s) | peak RSS (MiB) | ms/step | x Legato best |",
        "|---|---:|---:|---:|---:|",
    ]
    best: dict[str, float] = {}
    for key, value in overhead.items():
        peer, _, name = key.split("/")
        if peer == "legato" and value > 0:
            best[name] = min(best.get(name, value), value)
    for r in results:
        key = f"{r.meta['peer']}/{r.meta['mode']}/{r.meta['workload']}"
        ms = overhead.get(key)
        ratio = ""
        if ms is not None and r.meta["workload"] in best and r.meta["peer"] != "legato":
            ratio = f"{ms / best[r.meta['workload']]:.0f}x"
        lines.append(
            f"| {r.name} | {r.median_wall_s:.2f} | {r.median_peak_kb / 1024:.0f} | "
            f"{'' if ms is None else f'{ms:.2f}'} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workloads", default="W0,W1,W2,W3")
    parser.add_argument("--only", default="legato,dagster,luigi,prefect")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    names = args.workloads.split(",")
    only = set(args.only.split(","))
    peers = [p for p in ("dagster", "luigi", "prefect", "imports") if p in only or p == "imports"]
    settings, _ = run_peers.parse_args(
        ["--runs", str(args.runs), "--workloads", args.workloads, "--only", ",".join(peers)]
    )
    cmds = run_peers.selected_commands(settings) if only - {"legato"} else []
    cmds = [c for c in cmds if c.meta.get("mode") != "dask"]
    if "legato" in only:
        cmds += legato_commands(names, args.timeout)
    failures: list[str] = []

    def failed(cmd: harness.Command, exc: harness.CommandFailed) -> None:
        print(f"FAILED {exc}", file=sys.stderr, flush=True)
        failures.append(cmd.name)

    print(f"{len(cmds)} cells, {args.runs} interleaved rounds", file=sys.stderr)
    results = harness.run_interleaved(
        cmds, harness.Options(runs=args.runs), harness.print_progress, failed
    )
    overhead = per_step(results)
    out = HERE / "results" / f"compare-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    harness.write_json(
        out,
        results,
        {"ms_per_step": overhead, "failures": failures, "versions": run_peers.versions(settings)},
    )
    print(markdown(results, overhead))
    print(f"\nresults: {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
