"""Legato and its peers side by side, in ONE interleaved run: W0-W3 through ``legato run`` on
generated projects and through the Python API, and the peers' scripts; CPU time per step, wall
time, peak RSS, and a check of every run's steps and result.

    bash bench/peers/setup.sh                       # once: throwaway venvs for the peers
    python3 bench/compare.py                        # 5 runs per cell
    python3 bench/compare.py --runs 3 --only legato,dagster,luigi,prefect --workloads W0,W3

Legato runs two ways. ``legato-cli``: the whole ``legato run '*'`` command in a project that
``bench/cli_projects.py`` writes per workload (a static graph of ``@lg.task``s passing ints, the
SQLite store and filesystem IO manager of a default project, the summary table included), on
each executor of ``--cli-executors``, with the default durability and with
``LEGATO_DURABILITY=strict`` (every state change committed and fsynced on its own). Each cell has
its own project, run once untimed first, so the measured runs find a created store, as every run
after a user's first does. ``legato``: bench/legato_workloads.py through ``materialize`` (one
``map_over`` for the fan-outs) on each executor of ``--api-executors``.

Every run is checked: the peers' scripts and legato_workloads.py print the steps they saw
succeed and the last step's value; for ``legato run`` cells, ``cli_projects.py check`` reads the
same from the project's store (untimed, after the run). A cell passes when every run ran
``steps`` steps and returned the workload's result (``workloads.py``).

Per step = (median Wk - median W0) / (steps - 1), same system and mode, from the CPU time of the
command's process tree (user + system, every reaped descendant: process-pool workers, Prefect's
server) and, for reference, from wall time. Results go to bench/results/compare-<date>.json; the
Markdown table printed at the end is what docs/benchmarks.md records.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "peers")]

import cli_projects  # noqa: E402
import harness  # noqa: E402
import run_peers  # noqa: E402
import workloads  # noqa: E402

REPO = HERE.parent
LEGATO_PYTHON = REPO / ".venv" / "bin" / "python"
EXECUTORS = ("inprocess", "threads", "process")
DURABILITY = ("normal", "strict")


def legato_commands(
    names: list[str],
    timeout: float,
    api_executors: list[str],
    cli_executors: list[str],
    homes: Path,
) -> list[harness.Command]:
    cmds = [
        harness.Command(
            name="import/legato",
            argv=[str(LEGATO_PYTHON), "-c", "import legato"],
            cwd=str(REPO),
            timeout=timeout,
            meta={"peer": "legato", "mode": "import", "workload": None, "steps": 0},
        )
    ]
    cmds += cli_commands(names, timeout, cli_executors, homes)
    for executor in api_executors:
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


def cli_commands(
    names: list[str], timeout: float, executors: list[str], homes: Path
) -> list[harness.Command]:
    """``legato run '*'`` in a generated project (under ``homes``) per workload, executor and
    durability."""
    cmds = []
    for durability in DURABILITY:
        for executor in executors:
            mode = executor if durability == "normal" else f"{executor}-strict"
            for name in names:
                project = cli_projects.write_project(homes / f"{mode}-{name}", workloads.get(name))
                argv = [str(LEGATO_PYTHON), "-m", "legato", "run", "*", "--executor", executor]
                cmds.append(
                    harness.Command(
                        name=f"legato-cli/{mode}/{name}",
                        argv=argv,
                        env={"LEGATO_DURABILITY": durability, "COLUMNS": "160"},
                        cwd=str(project),
                        timeout=timeout,
                        setup=[argv],
                        meta={
                            "peer": "legato-cli",
                            "mode": mode,
                            "workload": name,
                            "steps": workloads.get(name).steps,
                            "durability": durability,
                            "project": str(project),
                        },
                    )
                )
    return cmds


class Checks:
    """What every run reported (steps and result), and whether that is what its workload does."""

    def __init__(self) -> None:
        self.reports: dict[str, list[dict[str, Any] | None]] = {}

    def record(self, cmd: harness.Command, i: int, sample: harness.Sample) -> None:
        """Progress callback: print the run, and take its report (read the store for a CLI run)."""
        harness.print_progress(cmd, i, sample)
        if cmd.meta.get("workload") is None:
            return
        report = sample.report
        if cmd.meta["peer"] == "legato-cli":
            done = subprocess.run(
                [
                    str(LEGATO_PYTHON),
                    str(HERE / "cli_projects.py"),
                    "check",
                    cmd.meta["project"],
                    cmd.meta["workload"],
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            report = harness.read_report(done.stdout)
            if report is None:
                print(f"  check of {cmd.name} failed: {done.stderr[-500:]}", file=sys.stderr)
        self.reports.setdefault(cmd.name, []).append(report)

    def verdict(self, r: harness.Result) -> str:
        """ "3/3" when every run ran the expected steps with the expected result, else what differed."""
        if r.meta.get("workload") is None:
            return ""
        wl = workloads.get(r.meta["workload"])
        expected = {"steps": wl.steps, "result": wl.result}
        reports = self.reports.get(r.name, [])
        good = sum(1 for rep in reports if rep == expected)
        if good == len(reports) == len(r.samples):
            return f"{good}/{good}"
        wrong = next((rep for rep in reports if rep != expected), None)
        return f"{good}/{len(r.samples)} (got {wrong}, expected {expected})"

    def failed(self, results: list[harness.Result]) -> list[str]:
        """Cells with a run that ran other steps, returned another value, or was not checked."""
        return [r.name for r in results if "(" in self.verdict(r)]


def per_step(results: list[harness.Result], cpu: bool) -> dict[str, float]:
    """(median Wk - median W0) / (steps - 1) in ms, per system and mode; CPU or wall time."""

    def metric(r: harness.Result) -> float:
        return r.median_cpu_s if cpu else r.median_wall_s

    base = {
        (r.meta["peer"], r.meta["mode"]): metric(r) for r in results if r.meta["workload"] == "W0"
    }
    out = {}
    for r in results:
        w0 = base.get((r.meta["peer"], r.meta["mode"]))
        if r.meta["workload"] in (None, "W0") or w0 is None:
            continue
        out[r.name] = (metric(r) - w0) / (workloads.get(r.meta["workload"]).steps - 1) * 1000
    return out


REFERENCES = ("legato-cli/inprocess", "legato-cli/inprocess-strict")
# Ratios are taken on the widest workload only: on W1 and W2, 200 or 100 steps cost Legato less
# CPU than the run-to-run noise of its W0, so their per-step figures (and ratios) mean little.
RATIO_WORKLOAD = "W3"


def markdown(results: list[harness.Result], checks: Checks) -> str:
    """One row per cell: checks, medians, CPU ms/step and, on W3, its ratio to ``legato run``
    in process with each durability."""
    cpu, wall = per_step(results, cpu=True), per_step(results, cpu=False)
    lines = [
        "| cell | checked runs | median wall (s) | median CPU (s) | CPU ms/step | "
        "x legato run in-process | x legato run strict | wall ms/step | peak RSS (MiB) | others |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        workload = r.meta["workload"]
        ratios = []
        for ref in REFERENCES:
            base = cpu.get(f"{ref}/{workload}")
            mine = cpu.get(r.name)
            usable = workload == RATIO_WORKLOAD and base and mine is not None and base > 0
            ratios.append(f"{mine / base:.1f}x" if usable else "")
        others = r.max_foreign_share
        lines.append(
            f"| {r.name} | {checks.verdict(r)} | {r.median_wall_s:.2f} | {r.median_cpu_s:.2f} | "
            f"{_ms(cpu.get(r.name))} | {ratios[0]} | {ratios[1]} | {_ms(wall.get(r.name))} | "
            f"{r.median_peak_kb / 1024:.0f} | {'' if others is None else f'{others:.0%}'} |"
        )
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workloads", default="W0,W1,W2,W3")
    parser.add_argument("--only", default="legato,dagster,luigi,prefect")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--api-executors", default=",".join(EXECUTORS))
    parser.add_argument("--cli-executors", default="inprocess,process")
    args = parser.parse_args()
    names = args.workloads.split(",")
    only = set(args.only.split(","))
    peers = [p for p in ("dagster", "luigi", "prefect", "imports") if p in only or p == "imports"]
    settings, _ = run_peers.parse_args(
        ["--runs", str(args.runs), "--workloads", args.workloads, "--only", ",".join(peers)]
    )
    # The peers' homes and the generated projects go when the run ends, however it ends.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="legato-cli-bench-") as homes:
        try:
            return _run(args, names, only, settings, Path(homes))
        finally:
            shutil.rmtree(settings.homes_dir, ignore_errors=True)


def _run(
    args: argparse.Namespace,
    names: list[str],
    only: set[str],
    settings: run_peers.Settings,
    homes: Path,
) -> int:
    cmds = run_peers.selected_commands(settings) if only - {"legato"} else []
    cmds = [c for c in cmds if c.meta.get("mode") != "dask"]
    if "legato" in only:
        cmds += legato_commands(
            names, args.timeout, _list(args.api_executors), _list(args.cli_executors), homes
        )
    failures: list[str] = []

    def failed(cmd: harness.Command, exc: harness.CommandFailed) -> None:
        print(f"FAILED {exc}", file=sys.stderr, flush=True)
        failures.append(cmd.name)

    print(f"{len(cmds)} cells, {args.runs} interleaved rounds", file=sys.stderr)
    checks = Checks()
    load_before = os.getloadavg()
    results = harness.run_interleaved(cmds, harness.Options(runs=args.runs), checks.record, failed)
    failures += checks.failed(results)
    out = HERE / "results" / f"compare-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    harness.write_json(
        out,
        results,
        {
            "cpu_ms_per_step": per_step(results, cpu=True),
            "wall_ms_per_step": per_step(results, cpu=False),
            "checks": {r.name: checks.verdict(r) for r in results},
            "reports": checks.reports,
            "failures": failures,
            "versions": run_peers.versions(settings),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
    )
    print(markdown(results, checks))
    print(
        f"\n{os.cpu_count()} CPUs; load average before {load_before[0]:.2f}, after "
        f"{os.getloadavg()[0]:.2f}; others = the most CPU the rest of the machine used during "
        "any run of the cell, as a share of all CPUs"
    )
    print(f"results: {out}")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


def _list(text: str) -> list[str]:
    return [x for x in text.split(",") if x]


if __name__ == "__main__":
    sys.exit(main())
