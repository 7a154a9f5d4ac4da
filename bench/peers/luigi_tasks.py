"""Benchmark workloads W0-W3 written as Luigi tasks.

    /tmp/peers/luigi/bin/python bench/peers/luigi_tasks.py --workload W1 --mode workers1

Modes: ``luigi.build(..., local_scheduler=True, workers=N)``, the in-process
scheduler, with ``workers1`` (tasks run in the main process) or ``workers2``
(Luigi forks a child process per task, two at a time).

Luigi decides what is done by looking at each task's output, and passes values
through outputs: every task writes its int to a ``LocalTarget`` (atomic
temp-file-and-rename, the idiomatic Luigi output) in a temporary directory made
for this process and removed at exit, and reads its upstream's from
``self.input()``. The values are those of ``workloads.py``: the root writes 1, a
leaf its root's value + i, the join the sum of its inputs, a chain link its
upstream's value + 1.

Fan-out is expressed the idiomatic Luigi way: ``Join.requires()`` returns a list
of N ``Leaf`` tasks and each ``Leaf.requires()`` returns ``Root()``. The chain
is ``Link(i).requires() -> Link(i - 1)``. The process exits non-zero unless
Luigi reports SUCCESS; it prints how many outputs were written and the last
task's value.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import luigi
import luigi.execution_summary
import workloads

MODES = ["workers1", "workers2"]

# Set once per process before scheduling; forked task processes inherit it.
OUT_DIR = Path()


def _write(task: luigi.Task, value: int) -> None:
    with task.output().open("w") as f:
        f.write(str(value))


def _read(target: luigi.LocalTarget) -> int:
    with target.open("r") as f:
        return int(f.read())


class Root(luigi.Task):
    """The first step of every workload (alone, it is W0)."""

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(OUT_DIR / "root"))

    def run(self) -> None:
        _write(self, 1)


class Leaf(luigi.Task):
    """One of the N parallel no-op steps of a fan-out."""

    i = luigi.IntParameter()

    def requires(self) -> luigi.Task:
        return Root()

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(OUT_DIR / f"leaf-{self.i}"))

    def run(self) -> None:
        _write(self, _read(self.input()) + self.i)


class Join(luigi.Task):
    """The step after all N leaves."""

    n = luigi.IntParameter()

    def requires(self) -> list[luigi.Task]:
        return [Leaf(i=i) for i in range(self.n)]

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(OUT_DIR / "join"))

    def run(self) -> None:
        _write(self, sum(_read(target) for target in self.input()))


class Link(luigi.Task):
    """Step i of the chain; step 0 has no upstream."""

    i = luigi.IntParameter()

    def requires(self) -> list[luigi.Task]:
        return [Link(i=self.i - 1)] if self.i > 0 else []

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(OUT_DIR / f"link-{self.i}"))

    def run(self) -> None:
        upstream = self.input()
        _write(self, _read(upstream[0]) + 1 if upstream else 1)


def final_task(wl: workloads.Workload) -> Any:
    """The task whose completion means the workload ran."""
    if wl.shape == "single":
        return Root()
    if wl.shape == "chain":
        return Link(i=wl.n - 1)
    return Join(n=wl.n)


def main(argv: list[str] | None = None) -> int:
    global OUT_DIR
    p = workloads.parser(__doc__.splitlines()[0], MODES, "workers1")
    args = p.parse_args(argv)
    wl = workloads.get(args.workload)
    OUT_DIR = Path(tempfile.mkdtemp(prefix="luigi-bench-"))
    try:
        result = luigi.build(
            [final_task(wl)],
            local_scheduler=True,
            workers=int(args.mode.removeprefix("workers")),
            detailed_summary=True,
        )
        written = sum(1 for _ in OUT_DIR.iterdir())
        last = final_task(wl).output()
        value = _read(last) if last.exists() else None
    finally:
        shutil.rmtree(OUT_DIR, ignore_errors=True)
    ok = result.status == luigi.execution_summary.LuigiStatusCode.SUCCESS
    if not ok:
        print(
            f"luigi {wl.name}: status {result.status}, {written}/{wl.steps} outputs",
            file=sys.stderr,
        )
        return 1
    workloads.report(written, value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
