"""Run the peer workloads (Prefect, Dagster, Luigi) through the harness.

    bash bench/peers/setup.sh                  # once: venvs under /tmp/peers
    python3 bench/peers/run_peers.py           # default matrix, 5 runs each
    python3 bench/peers/run_peers.py --quick --only dagster,luigi --workloads W0,W1
    python3 bench/peers/run_peers.py --list    # show the cells, run nothing

Writes ``bench/results/peers-<YYYY-MM-DD>.json`` (``--out`` to change) at the end
(after every cell with ``--sequential``) and prints a table of medians with the
per-step overhead:

    overhead per step = (median wall of Wk - median wall of W0) / (steps(Wk) - 1)

for the same peer and mode, where steps(W1)=202, steps(W2)=100, steps(W3)=1002
(fan-outs count their root and join) and W0 has one step. It is the marginal
wall time one more step adds, with start-up and shutdown taken out.

Each cell (peer x mode x workload) first runs W0 once in the same mode and
environment, untimed: it warms the page cache and the bytecode caches, and for
Prefect and for Dagster's durable modes it creates and migrates that cell's own
database (a fresh ``PREFECT_HOME``/``DAGSTER_HOME`` per cell), so every measured
run starts from a migrated, almost-empty database, as every run after a user's
first does. ``--cold`` instead gives every measured run a brand-new home, so the
database is created inside the timed run.

Cells run in interleaved rounds by default (run 1 of every cell, then run 2,
...), so load from other processes that comes and goes is spread over all cells
instead of landing on a few; ``--sequential`` runs each cell to the end first.
Every run records how much CPU the rest of the machine used meanwhile (the
"others" column); ``--quiet-below 0.25`` makes each run first wait (at most
``--quiet-max-wait`` s) for a mostly idle machine. The "cpu s" and "cpu ms/step"
columns use the CPU time of the peer's process tree, which other load inflates
far less than wall time.

Cells marked heavy (Dagster ``multiprocess_sqlite`` beyond W0: a fresh ``spawn``
process per step, about 2 s each here; Prefect ``dask`` W3) take minutes per run
and are left out unless ``--heavy`` is given. The default matrix took 24 minutes
on a 2-core machine that other jobs kept half busy; ``--quick`` (3 runs) takes
about 15.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import workloads  # noqa: E402
from dagster_jobs import init_home as init_dagster_home  # noqa: E402

DEFAULT_OUT_DIR = HERE.parent / "results"
DEFAULT_TIMEOUT_S = 300.0
HEAVY_TIMEOUT_S = 3600.0
# Environment variables that would change what a peer does; never inherited.
SCRUBBED_PREFIXES = ("PREFECT_", "DAGSTER_", "LUIGI_")
# No telemetry calls home from a benchmark (there is no network here anyway).
PREFECT_ENV = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


@dataclass(frozen=True)
class Mode:
    """One way of running a peer."""

    peer: str
    name: str
    script: str
    home: str | None = None  # "prefect" or "dagster": the cell needs its own home
    heavy: frozenset[str] = frozenset()  # workloads left out unless --heavy
    dists: tuple[str, ...] = ()  # distributions whose versions are recorded


MODES: list[Mode] = [
    Mode("prefect", "threads", "prefect_flows.py", home="prefect", dists=("prefect",)),
    Mode(
        "prefect",
        "dask",
        "prefect_flows.py",
        home="prefect",
        heavy=frozenset({"W3"}),
        dists=("prefect", "prefect-dask", "distributed"),
    ),
    Mode("dagster", "in_process", "dagster_jobs.py", dists=("dagster",)),
    Mode("dagster", "in_process_sqlite", "dagster_jobs.py", home="dagster", dists=("dagster",)),
    Mode(
        "dagster",
        "multiprocess_sqlite",
        "dagster_jobs.py",
        home="dagster",
        heavy=frozenset({"W1", "W2", "W3"}),
        dists=("dagster",),
    ),
    Mode("luigi", "workers1", "luigi_tasks.py", dists=("luigi",)),
    Mode("luigi", "workers2", "luigi_tasks.py", dists=("luigi",)),
]
IMPORTS = {"prefect": "prefect", "dagster": "dagster", "luigi": "luigi"}


@dataclass(frozen=True)
class Settings:
    """What the command line chose."""

    peers_dir: Path
    runs: int
    workloads: list[str]
    only: set[str]
    modes: set[str] | None
    heavy: bool
    cold: bool
    timeout: float
    homes_dir: Path
    options: harness.Options


def python_of(settings: Settings, peer: str) -> Path:
    return settings.peers_dir / peer / "bin" / "python"


def base_env() -> dict[str, str]:
    """The harness's environment without any peer configuration in it."""
    return {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}


def cell_env(settings: Settings, mode: Mode, workload: str) -> tuple[dict[str, str], list[str]]:
    """Environment and extra argv for one cell; creates its home if it needs one."""
    env = base_env()
    if mode.peer == "prefect":
        env.update(PREFECT_ENV)
    if mode.home is None:
        return env, []
    if settings.cold:
        return env, ["--fresh-home"]
    home = settings.homes_dir / f"{mode.peer}-{mode.name}-{workload}"
    home.mkdir(parents=True, exist_ok=True)
    if mode.home == "dagster":
        init_dagster_home(home)
        env["DAGSTER_HOME"] = str(home)
    else:
        env["PREFECT_HOME"] = str(home)
    return env, []


def workload_command(settings: Settings, mode: Mode, workload: str) -> harness.Command:
    env, extra = cell_env(settings, mode, workload)
    base = [str(python_of(settings, mode.peer)), str(HERE / mode.script), "--mode", mode.name]
    heavy = workload in mode.heavy
    return harness.Command(
        name=f"{mode.peer}/{mode.name}/{workload}",
        argv=[*base, "--workload", workload, *extra],
        env=env,
        inherit_env=False,
        cwd=str(HERE),
        timeout=HEAVY_TIMEOUT_S if heavy else settings.timeout,
        setup=[[*base, "--workload", "W0", *extra]],
        meta={
            "peer": mode.peer,
            "mode": mode.name,
            "workload": workload,
            "steps": workloads.get(workload).steps,
            "cold": settings.cold,
            "heavy": heavy,
        },
    )


def import_command(settings: Settings, peer: str) -> harness.Command:
    python = str(python_of(settings, peer))
    return harness.Command(
        name=f"import/{peer}",
        argv=[python, "-c", f"import {IMPORTS[peer]}"],
        env=base_env(),
        inherit_env=False,
        cwd=str(HERE),
        timeout=settings.timeout,
        setup=[[python, "-c", f"import {IMPORTS[peer]}"]],
        meta={"peer": peer, "mode": "import", "workload": None, "steps": 0},
    )


def selected_commands(settings: Settings) -> list[harness.Command]:
    """Every cell the settings select, imports first."""
    cmds = [
        import_command(settings, peer)
        for peer in IMPORTS
        if "imports" in settings.only and python_of(settings, peer).exists()
    ]
    for mode in MODES:
        if mode.peer not in settings.only or (settings.modes and mode.name not in settings.modes):
            continue
        for wl in settings.workloads:
            if wl in mode.heavy and not settings.heavy:
                continue
            cmds.append(workload_command(settings, mode, wl))
    return cmds


def missing_venvs(settings: Settings, cmds: list[harness.Command]) -> list[str]:
    peers = {c.meta["peer"] for c in cmds}
    return sorted(p for p in peers if not python_of(settings, p).exists())


def dask_available(settings: Settings) -> bool:
    """prefect-dask is optional: the dask mode needs it importable."""
    probe = harness.Command(
        "probe", [str(python_of(settings, "prefect")), "-c", "import prefect_dask"]
    )
    try:
        harness.run_once(probe, harness.Options(sample_interval=0))
    except harness.CommandFailed:
        return False
    return True


def versions(settings: Settings) -> dict[str, str]:
    """Installed versions of each peer's distributions, read from its venv."""
    out: dict[str, str] = {}
    for mode in MODES:
        python = python_of(settings, mode.peer)
        for dist in mode.dists:
            if dist in out or not python.exists():
                continue
            code = (
                "import importlib.metadata as m, sys\n"
                "try: print(m.version(sys.argv[1]))\n"
                "except m.PackageNotFoundError: print('not installed')"
            )
            out[dist] = _stdout_of([str(python), "-c", code, dist])
    for peer in IMPORTS:
        if python_of(settings, peer).exists():
            code = "import sys; print(sys.version.split()[0])"
            out[f"python ({peer} venv)"] = _stdout_of([str(python_of(settings, peer)), "-c", code])
    return out


def _stdout_of(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.stdout.strip() or f"error: {done.stderr.strip()[-200:]}"


def overheads(results: list[harness.Result], cpu: bool = False) -> dict[str, float]:
    """Per-step overhead in ms of each result, against W0 of the same peer and mode.

    From median wall time, or with ``cpu`` from median CPU time of the process tree.
    """

    def metric(r: harness.Result) -> float:
        return r.median_cpu_s if cpu else r.median_wall_s

    w0 = {
        (r.meta["peer"], r.meta["mode"]): metric(r) for r in results if r.meta["workload"] == "W0"
    }
    out: dict[str, float] = {}
    for r in results:
        base = w0.get((r.meta["peer"], r.meta["mode"]))
        steps = r.meta.get("steps") or 0
        if base is not None and steps > 1:
            out[r.name] = (metric(r) - base) / (steps - 1) * 1000
    return out


def table_extra(results: list[harness.Result]) -> dict[str, dict[str, str]]:
    wall, cpu = overheads(results), overheads(results, cpu=True)
    return {
        r.name: {
            "steps": str(r.meta.get("steps") or "-"),
            "ms/step": f"{wall[r.name]:.1f}" if r.name in wall else "-",
            "cpu ms/step": f"{cpu[r.name]:.1f}" if r.name in cpu else "-",
        }
        for r in results
    }


def write_results(
    path: Path,
    settings: Settings,
    results: list[harness.Result],
    failures: list[dict[str, str]],
    peer_versions: dict[str, str],
) -> None:
    per_step = overheads(results)
    harness.write_json(
        path,
        results,
        {
            "settings": {
                "runs": settings.runs,
                "workloads": settings.workloads,
                "only": sorted(settings.only),
                "modes": sorted(settings.modes) if settings.modes else None,
                "heavy": settings.heavy,
                "cold": settings.cold,
                "timeout_s": settings.timeout,
                "quiet": asdict(settings.options.quiet) if settings.options.quiet else None,
            },
            "versions": peer_versions,
            "overhead_formula": "(median_wall(Wk) - median_wall(W0)) / (steps(Wk) - 1), same peer and mode",
            "overhead_ms_per_step": per_step,
            "cpu_overhead_ms_per_step": overheads(results, cpu=True),
            "failures": failures,
        },
    )


def _run_sequential(
    cmds: list[harness.Command],
    settings: Settings,
    failed: harness.OnFailure,
    out: Path,
    failures: list[dict[str, str]],
    peer_versions: dict[str, str],
) -> list[harness.Result]:
    """All runs of one cell, then the next; the JSON is rewritten after each cell."""
    results: list[harness.Result] = []
    for i, cmd in enumerate(cmds, 1):
        print(f"[{i}/{len(cmds)}] {cmd.name}", file=sys.stderr, flush=True)
        try:
            results.append(harness.run_command(cmd, settings.options, harness.print_progress))
        except harness.CommandFailed as exc:
            failed(cmd, exc)
        write_results(out, settings, results, failures, peer_versions)
    return results


def parse_args(argv: list[str] | None) -> tuple[Settings, argparse.Namespace]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, help="measured runs per cell (default 5, --quick 3)")
    p.add_argument("--quick", action="store_true", help="3 runs per cell")
    p.add_argument("--workloads", default="W0,W1,W2,W3")
    p.add_argument(
        "--only",
        default="imports,prefect,dagster,luigi",
        help="comma list of: imports, prefect, dagster, luigi",
    )
    p.add_argument("--modes", help="comma list of mode names, e.g. in_process,workers1")
    p.add_argument("--heavy", action="store_true", help="include the slow cells (see above)")
    p.add_argument("--cold", action="store_true", help="a brand-new home for every measured run")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="per run, seconds")
    p.add_argument(
        "--peers-dir", type=Path, default=Path(os.environ.get("PEERS_DIR", "/tmp/peers"))
    )
    p.add_argument("--out", type=Path, help="JSON file (default bench/results/peers-<date>.json)")
    p.add_argument("--list", action="store_true", help="print the selected cells and exit")
    p.add_argument(
        "--sequential",
        action="store_true",
        help="all runs of a cell before the next (default: interleaved rounds over all cells)",
    )
    p.add_argument("--sample-interval", type=float, default=0.1, help="/proc sampling, seconds")
    harness.add_quiet_args(p, max_wait=10.0)
    args = p.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    wls = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in wls:
        workloads.get(w)
    if "W0" not in wls:
        print("note: W0 is not selected, so no per-step overhead can be computed", file=sys.stderr)
    settings = Settings(
        peers_dir=args.peers_dir,
        runs=runs,
        workloads=wls,
        only={x.strip() for x in args.only.split(",") if x.strip()},
        modes={x.strip() for x in args.modes.split(",")} if args.modes else None,
        heavy=args.heavy,
        cold=args.cold,
        timeout=args.timeout,
        homes_dir=Path(tempfile.mkdtemp(prefix="peer-homes-")),
        options=harness.options_from_args(argparse.Namespace(**{**vars(args), "runs": runs})),
    )
    return settings, args


def main(argv: list[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl-C: the running child is killed and the homes removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings, args = parse_args(argv)
    try:
        return _run(settings, args)
    finally:
        shutil.rmtree(settings.homes_dir, ignore_errors=True)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    cmds = selected_commands(settings)
    if args.list:
        for c in cmds:
            print(f"{c.name:40s} timeout {c.timeout:.0f}s  {' '.join(c.argv)}")
        return 0
    if missing := missing_venvs(settings, cmds):
        print(
            f"no venv for {', '.join(missing)} under {settings.peers_dir}: "
            "run bash bench/peers/setup.sh",
            file=sys.stderr,
        )
        return 2
    out = args.out or DEFAULT_OUT_DIR / f"peers-{date.today().isoformat()}.json"
    peer_versions = versions(settings)
    print(f"peers: {json.dumps(peer_versions)}", file=sys.stderr)
    failures: list[dict[str, str]] = []
    if any(c.meta["mode"] == "dask" for c in cmds) and not dask_available(settings):
        failures += [
            {"name": c.name, "reason": "prefect-dask not installed; skipped"}
            for c in cmds
            if c.meta["mode"] == "dask"
        ]
        cmds = [c for c in cmds if c.meta["mode"] != "dask"]

    def failed(cmd: harness.Command, exc: harness.CommandFailed) -> None:
        print(f"FAILED {exc}", file=sys.stderr, flush=True)
        failures.append({"name": cmd.name, "reason": exc.reason, "stderr_tail": exc.stderr_tail})

    if args.sequential:
        results = _run_sequential(cmds, settings, failed, out, failures, peer_versions)
    else:
        print(f"{len(cmds)} cells, {settings.runs} interleaved rounds", file=sys.stderr)
        results = harness.run_interleaved(cmds, settings.options, harness.print_progress, failed)
    write_results(out, settings, results, failures, peer_versions)
    print()
    harness.print_table(results, table_extra(results))
    print("\nms/step = (median wall Wk - median wall W0) / (steps(Wk) - 1), same peer and mode")
    print(f"results: {out}")
    if failures:
        print(
            f"{len(failures)} cell(s) failed: {', '.join(f['name'] for f in failures)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
