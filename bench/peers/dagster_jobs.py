"""Benchmark workloads W0-W3 written as Dagster op jobs.

    /tmp/peers/dagster/bin/python bench/peers/dagster_jobs.py --workload W1 --mode in_process

Modes:

* ``in_process``: ``job.execute_in_process()`` on its default ephemeral
  instance (in-memory storage, nothing written to disk).
* ``in_process_sqlite``: ``job.execute_in_process(instance=DagsterInstance.get())``
  on a durable instance: ``$DAGSTER_HOME/dagster.yaml`` with ``storage: sqlite``
  (run, event-log and schedule storage in SQLite files under ``$DAGSTER_HOME``).
* ``multiprocess_sqlite``: ``execute_job()`` of the job built with
  ``multiprocess_executor`` (its defaults: ``spawn`` start method, at most
  ``cpu_count()`` step processes at once) on the same durable instance; every
  step runs in a fresh Python process that re-imports this module.

The durable instance: if ``DAGSTER_HOME`` is unset, or with ``--fresh-home``, a
temporary ``DAGSTER_HOME`` with a sqlite ``dagster.yaml`` is created for this
process and removed at exit (first run: the databases are created inside the
measured run). Otherwise ``DAGSTER_HOME`` must already hold a ``dagster.yaml``,
as ``init_home()`` writes (the runner does this for each measured cell).
Telemetry is turned off in the file written here, so no run writes telemetry
logs.

Fan-out is expressed with Dagster's dynamic mapping: the root op has a
``DynamicOut`` and yields N ``DynamicOutput``s, ``.map(noop)`` runs one op per
item and ``.collect()`` feeds every result to the join op. The chain is 100
aliased copies of one op (``noop.alias("step_007")``) wired output to input.
The process exits non-zero unless the run succeeds and the join saw every item; it prints
the steps that succeeded (``STEP_SUCCESS`` events) and the last step's output.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import workloads

MODES = ["in_process", "in_process_sqlite", "multiprocess_sqlite"]

DAGSTER_YAML = """\
storage:
  sqlite:
    base_dir: {base_dir}
telemetry:
  enabled: false
"""


def init_home(home: Path) -> Path:
    """Write a dagster.yaml with SQLite storage into ``home`` and return it."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML.format(base_dir=home / "storage"))
    return home


def _ensure_home(fresh: bool) -> None:
    """Point DAGSTER_HOME at a usable durable instance (before dagster is imported)."""
    import os

    current = os.environ.get("DAGSTER_HOME")
    if fresh or not current:
        home = Path(tempfile.mkdtemp(prefix="dagster-home-"))
        atexit.register(shutil.rmtree, home, True)
        os.environ["DAGSTER_HOME"] = str(init_home(home))
    elif not (Path(current) / "dagster.yaml").is_file():
        raise SystemExit(f"DAGSTER_HOME={current} has no dagster.yaml; use --init-home")


def make_job(workload: str, multiprocess: bool) -> Any:
    """Build the job for ``workload``; also the reconstructor for step processes."""
    import dagster as dg

    wl = workloads.get(workload)

    @dg.op
    def noop(value: int) -> int:
        return value + 1

    @dg.op
    def start() -> int:
        return 1

    @dg.op(out=dg.DynamicOut(int))
    def root() -> Any:
        for i in range(wl.n):
            yield dg.DynamicOutput(i, mapping_key=str(i))

    @dg.op
    def join(results: list[int]) -> int:
        if len(results) != wl.n:
            raise RuntimeError(f"join saw {len(results)} results, expected {wl.n}")
        return sum(results)

    def single() -> None:
        start.alias("step_000")()

    def chain() -> None:
        value = start.alias("step_000")()
        for i in range(1, wl.n):
            value = noop.alias(f"step_{i:03d}")(value)

    def fanout() -> None:
        join(root().map(noop).collect())

    body = {"single": single, "chain": chain, "fanout": fanout}[wl.shape]
    body.__name__ = f"bench_{wl.name.lower()}"
    executor = dg.multiprocess_executor if multiprocess else dg.in_process_executor
    return dg.job(executor_def=executor)(body)


def last_node(workload: str) -> str:
    """The op whose output is the workload's result."""
    wl = workloads.get(workload)
    return {"single": "step_000", "chain": f"step_{wl.n - 1:03d}", "fanout": "join"}[wl.shape]


def outcome(result: Any, workload: str) -> tuple[bool, int, Any]:
    """(success, steps that succeeded, the last step's output) of a finished run."""
    if not result.success:
        return False, 0, None
    steps = len(result.get_step_success_events())
    return True, steps, result.output_for_node(last_node(workload))


def run(workload: str, mode: str) -> tuple[bool, int, Any]:
    """Run one workload in ``mode``: (success, steps that succeeded, result)."""
    import dagster as dg

    if mode == "in_process":
        return outcome(make_job(workload, multiprocess=False).execute_in_process(), workload)
    instance = dg.DagsterInstance.get()
    if mode == "in_process_sqlite":
        job = make_job(workload, multiprocess=False)
        return outcome(job.execute_in_process(instance=instance), workload)
    recon = dg.build_reconstructable_job(
        "dagster_jobs",
        "make_job",
        reconstructable_args=(workload, True),
        reconstructor_working_directory=str(Path(__file__).resolve().parent),
    )
    with dg.execute_job(recon, instance=instance) as result:
        return outcome(result, workload)


def main(argv: list[str] | None = None) -> int:
    p = workloads.parser(__doc__.splitlines()[0], MODES, "in_process")
    p.add_argument("--fresh-home", action="store_true", help="use a new, empty DAGSTER_HOME")
    args = p.parse_args(argv)
    if args.mode != "in_process":
        _ensure_home(args.fresh_home)
    ok, steps, value = run(args.workload, args.mode)
    if not ok:
        print(f"dagster {args.workload} {args.mode}: run failed", file=sys.stderr)
        return 1
    workloads.report(steps, value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
