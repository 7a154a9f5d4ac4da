"""``legato worker``: claim and run steps of a queue from the PostgreSQL store."""

from __future__ import annotations

import logging

import click

from legato.cli._project import dump_stacks_on_request, open_project, start_fork_server


@click.command()
@click.option("--queue", default="default", show_default=True, help="The queue to serve.")
@click.option(
    "--concurrency", default=1, show_default=True, type=click.IntRange(1), help="Steps at once."
)
@click.option(
    "--lease",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.5),
    help="Seconds a claim lasts unless renewed; a silent worker's steps are retried after it.",
)
@click.option(
    "--poll-interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Seconds between looks at the queue when no notification arrives.",
)
@click.pass_context
def worker(
    ctx: click.Context, queue: str, concurrency: int, lease: float, poll_interval: float
) -> None:
    """Run steps sent to QUEUE by the remote executor, until stopped (Ctrl-C or SIGTERM).

    The worker loads the project from its own settings (LEGATO_DATABASE_URL must name the same
    PostgreSQL store as the engine, and LEGATO_STORAGE the same shared storage). The first
    SIGTERM stops claiming and lets running steps finish; a second kills them.
    """
    from legato.execution.executors.step_worker import STEP_WORKER_MODULES
    from legato.execution.remote_worker import Worker, WorkerOptions

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    dump_stacks_on_request(ctx)
    opened = open_project(ctx)
    start_fork_server(ctx, STEP_WORKER_MODULES)  # step processes: forks with the project loaded
    options = WorkerOptions(
        queue=queue, concurrency=concurrency, lease=lease, poll_interval=poll_interval
    )
    # The store alone: a worker records no snapshot of the definitions (the engine and the
    # daemon do), so its role needs only the step queue (docs/security.md, database roles).
    runner = Worker(
        opened.settings.open_store(),
        opened.project,
        opened.settings.storage,
        options,
        sys_path=opened.sys_path,
    )
    runner.install_signal_handlers()
    runner.run()


if __name__ == "__main__":  # until the root group registers it: python -m legato.cli.worker
    worker(prog_name="legato worker")
