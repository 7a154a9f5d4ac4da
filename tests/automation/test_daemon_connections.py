"""A daemon on PostgreSQL holds a few connections while it runs (its loop, the run queue's
LISTEN connection) and none once stopped: a long-lived process must not leak them."""

import secrets
import threading

import psycopg

from legato.automation.daemon import Daemon
from legato.store.engine import Store
from polling import poller

_wait = poller(timeout=30.0, interval=0.05)


def _connections(postgres_url: str, application: str) -> int:
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application,)
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_stopped_daemon_leaves_no_connection_open(pg_store, postgres_url, tmp_path):
    application = f"legato-test-{secrets.token_hex(4)}"
    url = pg_store.engine.url.update_query_dict({"application_name": application})
    store = Store(url.render_as_string(hide_password=False))
    daemon = Daemon(store, project_dir=tmp_path, max_concurrent_runs=1)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run_forever, args=(stop, 0.05))
    thread.start()
    try:
        # the main loop's pooled connection and the run queue's listener
        _wait(lambda: _connections(postgres_url, application) >= 2, what="the daemon's connections")
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    store.dispose()
    _wait(lambda: _connections(postgres_url, application) == 0, what="every connection closed")
