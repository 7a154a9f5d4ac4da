"""CPU time per step of the whole ``legato run`` command, as a user runs it.

    python bench/cli_run_cpu.py [--runs 5] [--executors inprocess,process] [-- EXTRA ARGS]
    git worktree add /tmp/before <commit>
    python bench/cli_run_cpu.py --src /tmp/before/src --src src     # two versions, interleaved

Generates a project of ``@lg.task``s passing ints (root → N → join, N = 1,000 by default: W3 of
bench/cli_projects.py) and a one-task project (its W0), runs ``legato run '*'`` in each on every
executor (interleaved, rounds of every cell), and reports the median wall time and CPU time
(user + system of the command and every process it started and reaped: the process pool's
workers count). Per step is
(median CPU of the big run - median CPU of the one-step run) / (N + 1), so start-up (imports,
the store, starting workers) is left out. Arguments after ``--`` go to ``legato run``. With
``--src`` (repeatable) each source tree is measured in the same interleaved rounds
(``PYTHONPATH``), so that other load on the machine spreads over all of them alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cli_projects
import workloads  # bench/peers, put on the path by cli_projects

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"


def measure(project: Path, executor: str, extra: list[str], src: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``legato run`` (a fresh store each time)."""
    subprocess.run(["rm", "-rf", str(project / ".legato")], check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [str(PYTHON), "-m", "legato", "run", "*", "--executor", executor, *extra],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "160", "PYTHONPATH": src},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"legato run failed in {project}: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _label(src: str) -> str:
    """The commit a source tree is at (and "+" if it has changes), else its path."""
    head = subprocess.run(
        ["git", "-C", src, "describe", "--always", "--dirty=+"], capture_output=True, text=True
    )
    return head.stdout.strip() or src


def main() -> int:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000, help="tasks between root and join")
    parser.add_argument("--executors", default="inprocess,process")
    parser.add_argument("--src", action="append", help="a source tree to run (default: src/)")
    args = parser.parse_args(argv)
    executors = args.executors.split(",")
    srcs = [str(Path(s).resolve()) for s in args.src or [REPO / "src"]]
    with tempfile.TemporaryDirectory(prefix="legato-cli-cpu-") as tmp:
        projects = {"one": Path(tmp) / "one", "fanout": Path(tmp) / "fanout"}
        cli_projects.write_project(projects["one"], workloads.get("W0"))
        cli_projects.write_project(
            projects["fanout"], workloads.Workload("fanout", "fanout", args.steps)
        )
        cells = [(shape, ex, src) for src in srcs for ex in executors for shape in projects]
        for shape, ex, src in cells:  # warm-up: bytecode caches, the page cache
            measure(projects[shape], ex, extra, src)
        samples: dict[tuple[str, str, str], list[tuple[float, float]]] = {c: [] for c in cells}
        for round_ in range(args.runs):
            for cell in cells:
                samples[cell].append(measure(projects[cell[0]], cell[1], extra, cell[2]))
            print(f"round {round_ + 1}/{args.runs} done", file=sys.stderr)
    steps = args.steps + 2
    print(f"legato run '*' {' '.join(extra)}: root → {args.steps} → join ({steps} steps), ")
    print(f"medians of {args.runs}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n")
    print("| source | executor | one step: wall / CPU (s) | all: wall / CPU (s) | CPU ms/step |")
    print("|---|---|---:|---:|---:|")
    for src in srcs:
        for ex in executors:
            one = [statistics.median(x) for x in zip(*samples[("one", ex, src)], strict=True)]
            big = [statistics.median(x) for x in zip(*samples[("fanout", ex, src)], strict=True)]
            per_step = (big[1] - one[1]) / (steps - 1) * 1000
            print(
                f"| {_label(src)} | {ex} | {one[0]:.2f} / {one[1]:.2f} | "
                f"{big[0]:.2f} / {big[1]:.2f} | {per_step:.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
