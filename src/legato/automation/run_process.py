"""A child process that executes one claimed run: ``python -m legato.automation.run_process``.

The daemon never imports user code; each run it launches is executed here, in the project
directory, with the launcher id the daemon claimed the run under (the engine renews that lease).
With ``--wait`` the process loads the project first and then reads ``RUN_ID LAUNCHER RESUME`` from
standard input: the daemon keeps one such warm process ready, so a run starts without waiting
for an interpreter and its imports.
"""

from __future__ import annotations

import argparse
import sys

from legato.execution.api import make_executor
from legato.execution.launcher import execute_run
from legato.graph.build import build_graph
from legato.loader.config import load_settings
from legato.loader.modules import load_project
from legato.store.engine import Store
from legato.store.runs import fail_abandoned, get_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_id", nargs="?")
    parser.add_argument("launcher", nargs="?")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--wait", action="store_true", help="load first, then read the run")
    args = parser.parse_args(argv)
    settings = load_settings()
    store = Store(settings.database_url)
    loaded = load_project(settings)
    if args.wait:
        line = sys.stdin.readline().split()
        if len(line) != 3:  # the daemon retired this warm process unused
            return 0
        args.run_id, args.launcher, args.resume = line[0], line[1], line[2] == "1"
    if loaded.errors:
        record = get_run(store, args.run_id)
        if not record.status.finished:  # fail visibly: the run can never start as things are
            fail_abandoned(store, record.run_id, f"the project does not load: {loaded.errors[0]}")
        print(loaded.errors[0], file=sys.stderr)
        return 2
    graph = build_graph(loaded.project)
    record = get_run(store, args.run_id)
    pipeline = loaded.project.pipelines.get(record.pipeline or "")
    executor = make_executor(record.executor or settings.executor, settings.max_concurrency or None)
    result = execute_run(
        loaded.project,
        graph,
        store,
        record.run_id,
        storage_root=settings.storage,
        executor=executor,
        pipeline=pipeline,
        max_concurrency=settings.max_concurrency or None,
        sys_path=loaded.sys_path,
        launcher=args.launcher,
        resume=args.resume,
        pool_limits=settings.pools,
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
