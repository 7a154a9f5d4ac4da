"""Generated Legato projects for the workloads W0-W3, run with ``legato run '*'`` as a user does.

    python bench/cli_projects.py write W3 /tmp/w3          # a project: legato.toml + flow.py
    python bench/cli_projects.py check /tmp/w3 W3          # what its latest run did
    python bench/cli_projects.py write W1 /tmp/w1 --width 5    # the W1 shape, 5 wide

Each workload is a static graph of ``@lg.task`` functions passing ints, with the values of
``bench/peers/workloads.py``: W0 is one task returning 1; a chain's first task returns 1 and
each next one its upstream's value + 1; a fan-out's root returns 1, task ``m<i>`` returns
``root + i`` and ``join`` takes all of them and returns their sum.

``check`` (run with Legato's Python) reads the project's store: the steps of its newest run
that succeeded, and the value its last task produced, loaded through the filesystem IO manager
as a downstream step would; it prints them as a ``bench-report`` line. ``write`` is stdlib only.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import workloads


def flow_source(workload: workloads.Workload) -> str:
    """The module of ``@lg.task`` functions for ``workload``."""
    lines = ["import legato as lg", ""]

    def task(name: str, params: list[str], body: str) -> None:
        signature = ", ".join(f"{p}: int" for p in params)
        lines.extend(["", "@lg.task", f"def {name}({signature}) -> int:", f"    return {body}", ""])

    if workload.shape == "single":
        task("root", [], "1")
    elif workload.shape == "chain":
        task("s0", [], "1")
        for i in range(1, workload.n):
            task(f"s{i}", [f"s{i - 1}"], f"s{i - 1} + 1")
    else:
        task("root", [], "1")
        for i in range(workload.n):
            task(f"m{i}", ["root"], f"root + {i}")
        middle = [f"m{i}" for i in range(workload.n)]
        task("join", middle, " + ".join(middle))
    return "\n".join(lines)


def last_task(workload: workloads.Workload) -> str:
    """The task whose value is the workload's result."""
    return {"single": "root", "chain": f"s{workload.n - 1}", "fanout": "join"}[workload.shape]


def write_project(root: Path, workload: workloads.Workload) -> Path:
    """Write a project running ``workload`` into ``root`` (created if missing)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "legato.toml").write_text('modules = ["flow"]\n')
    (root / "flow.py").write_text(flow_source(workload))
    return root


def check(root: Path, workload: workloads.Workload) -> tuple[int, object]:
    """(steps that succeeded, the last task's value) of the newest run in ``root``'s store."""
    from legato.definitions.io import IOContext
    from legato.definitions.keys import StepKey
    from legato.events.status import StepStatus
    from legato.execution.io.fs import FilesystemIOManager
    from legato.loader.config import load_settings
    from legato.store.engine import Store
    from legato.store.runs import get_steps, list_runs

    settings = load_settings(root, env={})
    store = Store(settings.database_url, create=False)
    try:
        runs = list_runs(store, limit=1)
        if not runs:
            raise SystemExit(f"{root}: the store has no run")
        run_id = runs[0].run_id
        steps = get_steps(store, run_id)
    finally:
        store.dispose()
    succeeded = sum(1 for s in steps if s.status is StepStatus.SUCCEEDED)
    io = FilesystemIOManager(settings.storage, create_key=False)
    value = io.load(IOContext(StepKey.parse(last_task(workload)), run_id))
    return succeeded, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="write a project")
    write.add_argument("workload", choices=sorted(workloads.WORKLOADS))
    write.add_argument("root", type=Path)
    inspect = sub.add_parser("check", help="report the newest run of a project")
    inspect.add_argument("root", type=Path)
    inspect.add_argument("workload", choices=sorted(workloads.WORKLOADS))
    for command in (write, inspect):
        command.add_argument("--width", type=int, help="another n (fan-out width, chain length)")
    args = parser.parse_args()
    workload = workloads.get(args.workload)
    if args.width is not None:
        workload = replace(workload, n=args.width)
    if args.command == "write":
        write_project(args.root, workload)
    else:
        workloads.report(*check(args.root, workload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
