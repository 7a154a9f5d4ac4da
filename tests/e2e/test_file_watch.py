"""A file-arrival trigger on a local directory is woken by the file system (watchdog), not only
by its poll: with a one-hour poll interval, a batch that lands still starts its run at once."""

import textwrap
import time

from legato.store.automation import list_ticks
from legato.store.engine import Store
from legato.store.runs import list_runs
from legato_process import start_daemon, stop_daemon
from polling import poller

PROJECT = """
    import legato as lg

    @lg.task
    def landed() -> None:
        return None

    files = lg.Pipeline("files", select="landed", triggers=[lg.FileArrival(
        path="landing", pattern="{batch}/*", expected=["manifest"], interval=3600)])
"""

_wait = poller(timeout=60.0, interval=0.05)


def test_a_batch_in_a_watched_directory_starts_its_run_without_waiting_for_the_poll(tmp_path):
    (tmp_path / "legato.toml").write_text('modules = ["pipes"]\nexecutor = "inprocess"\n')
    (tmp_path / "pipes.py").write_text(textwrap.dedent(PROJECT))
    (tmp_path / "landing").mkdir()
    daemon = start_daemon(tmp_path, "--interval", "0.1")
    try:
        db = tmp_path / ".legato" / "legato.db"
        store = _wait(lambda: db.exists() and Store(f"sqlite:///{db}"), what="the store")
        # The first evaluation (nothing landed) comes after the watch was set up.
        _wait(lambda: list_ticks(store), what="the trigger's first evaluation")
        staged = tmp_path / "staged"
        staged.mkdir()
        (staged / "orders.csv").write_text("id\n1\n")
        (staged / "manifest").write_text("orders.csv\n")
        landed_at = time.time()
        staged.rename(tmp_path / "landing" / "batch-1")
        [run] = _wait(
            lambda: [r for r in list_runs(store) if r.pipeline == "files"],
            timeout=30.0,
            what="a run for the batch (the poll interval is an hour)",
        )
        assert run.partition == "" and run.created_at - landed_at < 30
    finally:
        stop_daemon(daemon)
    store.dispose()
